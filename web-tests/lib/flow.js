'use strict';
// One browser session against one fresh server, as a sequence of node:test steps. A step
// marked `critical` (signing in, the forced Password change) stops the rest when it fails:
// they are skipped rather than failing for the same reason. A step during which Chromium's
// renderer crashes is tried once more in a new page (the crash itself is reported by the
// flow's last step, "no script error, ..."). On a failure the page is saved
// as `failure-<name>-<n>.png` beside the screenshots, and the server's last warnings and
// errors are printed.

const { describe, it, before, after } = require('node:test');
const path = require('node:path');
const fs = require('node:fs');
const h = require('./harness');

/**
 * describe(name) with a server (demo data + setupData), a browser and one context/page.
 * `options`: { js, viewport, bypassCSP }. `body(flow)` declares steps with
 * `flow.step(name, fn, { critical })`; `fn` receives the flow: { server, data, page,
 * context, browser }.
 */
function browserFlow(name, options, body) {
  describe(name, { concurrency: 1 }, () => {
    const flow = {
      name,
      broken: null,
      failures: 0,
      server: null,
      data: null,
      browser: null,
      context: null,
      page: null,
    };
    before(async () => {
      flow.server = await h.startServer();
      flow.data = await h.setupData(flow.server);
      flow.browser = await h.launchBrowser();
      flow.context = await h.newContext(flow.browser, flow.server, options);
      flow.page = await newPage(flow.context);
    });
    after(async () => {
      if (flow.failures > 0 && flow.server) {
        const lines = flow.server.log().split('\n').filter((l) => /\b(ERROR|WARN)\b|panicked/.test(l));
        const log = lines.slice(-30).join('\n') || '(none)';
        console.log(`--- ${name}: the server's last warnings and errors ---\n${log}`);
      }
      if (flow.browser) await flow.browser.close().catch(() => {});
      if (flow.server) await flow.server.stop();
    });
    let n = 0;
    flow.step = (stepName, fn, { critical = false, retryOnCrash = true, usesPage = true } = {}) => {
      const index = ++n;
      it(stepName, async (t) => {
        if (flow.broken) {
          t.skip(`skipped: "${flow.broken}" failed`);
          return;
        }
        for (let attempt = 1; ; attempt++) {
          if (flow.page.crashed || flow.page.isClosed()) {
            // The renderer crashed after the step before ended (recorded by the listener).
            await flow.page.close().catch(() => {});
            flow.page = await newPage(flow.context);
          }
          try {
            await fn(flow);
            return;
          } catch (err) {
            const crashed =
              usesPage &&
              (/Target crashed|Page crashed|frame was detached|Target page, context or browser has been closed/.test(err.message) ||
                (flow.page.crashed && err.code !== 'ERR_ASSERTION'));
            if (crashed) {
              // Chromium's renderer crashed. The crash is recorded by the page's listener
              // (context.problems, which the flows' last step reports); the step is tried
              // once more in a new page of the same context (same cookies), so that what it
              // checks is still checked.
              const url = flow.page.url();
              const message = `Chromium's renderer crashed on ${url}: ${err.message.split('\n')[0]}`;
              console.log(`${stepName}: ${message}${attempt === 1 && retryOnCrash ? ' (trying the step again in a new page)' : ''}`);
              await flow.page.close().catch(() => {});
              flow.page = await newPage(flow.context);
              if (attempt === 1 && retryOnCrash) continue;
              flow.failures += 1;
              if (critical) flow.broken = stepName;
              throw new Error(message);
            }
            flow.failures += 1;
            if (critical) flow.broken = stepName;
            throw usesPage ? await annotate(flow, index, err) : err;
          }
        }
      });
    };
    body(flow);
  });
}

async function newPage(context) {
  const page = await context.newPage();
  page.crashed = false;
  page.on('crash', () => {
    page.crashed = true;
  });
  return page;
}

/** Saves the page as `failure-<flow>-<n>.png` and adds its address to the error. */
async function annotate(flow, index, err) {
  const page = flow.page;
  if (!page) return err;
  const slug = flow.name.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-|-$/g, '');
  let note = `page: ${page.url()}`;
  try {
    fs.mkdirSync(h.SCREENSHOTS, { recursive: true });
    const file = path.join(h.SCREENSHOTS, `failure-${slug}-${index}.png`);
    await page.screenshot({ path: file, fullPage: true });
    note += `, saved as ${path.relative(h.ROOT, file)}`;
  } catch {
    // the page may be gone
  }
  const first = String(err.message).split('\n')[0];
  err.message = `${err.message}\n  ${note}`;
  if (typeof err.stack === 'string' && err.stack.includes(first)) {
    err.stack = err.stack.replace(first, `${first}\n  ${note}`);
  }
  return err;
}

module.exports = { browserFlow };
