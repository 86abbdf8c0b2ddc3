'use strict';
// The main flows with JavaScript turned off: every form works as plain HTML.
require('./lib/main-flows').mainFlows({ lang: 'en', js: false });
