'use strict';
// The main flows in English, with JavaScript, at a desktop viewport.
require('./lib/main-flows').mainFlows({ lang: 'en', js: true });
