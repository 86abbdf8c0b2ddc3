'use strict';
// The main flows in Traditional Chinese (chosen with the language switch on the sign-in
// page), with JavaScript.
require('./lib/main-flows').mainFlows({ lang: 'zh-Hant', js: true });
