'use strict';
// The main flows at a phone's viewport (375×812): no sideways scrolling on any page,
// axe-core on every page visited, and every page saved as
// target/web-screenshots/mobile-<page>.<lang>.png.
require('./lib/main-flows').mainFlows({
  lang: 'en',
  js: true,
  viewport: { width: 375, height: 812 },
  shots: 'mobile-',
  axe: true,
});
