'use strict';
// The test harness: a local SMTP server, a library-server with the demo data on a fresh
// SQLite database, the data the flows need (set up through the JSON API as staff), a
// headless Chromium, and the checks every page gets (language, navigation, axe-core,
// screenshots).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');

const ROOT = path.resolve(__dirname, '..', '..');
const WEB_TESTS = path.resolve(__dirname, '..');
const SERVER_BIN =
  process.env.LIBRARY_SERVER_BIN || path.join(ROOT, 'target', 'debug', 'library-server');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SCREENSHOTS = path.join(ROOT, 'target', 'web-screenshots');
const AXE_SOURCE = path.join(WEB_TESTS, 'node_modules', 'axe-core', 'axe.min.js');
const ADMIN_PASSWORD = 'Browser-Suite-Staff-2026';

// The demo readers (crates/setup/src/demo.rs).
const READERS = {
  chan: {
    card: '21000000000017',
    name: 'Chan Tai Man',
    defaultPassword: '4567',
    email: 'tai.man.chan@example.com',
  },
  ho: { card: '21000000000025', name: 'Ho Wing Sze', defaultPassword: '2468' },
  wong: { card: '21000000000033', name: 'Wong Siu Ming', defaultPassword: '1357' },
  lee: {
    card: '21000000000041',
    name: 'Lee Mei Ling',
    defaultPassword: '9753',
    email: 'meiling.lee@example.com',
  },
};

// A Password that meets the policy (docs/credentials.md) and holds nothing personal.
const NEW_PASSWORD = 'Harbour7Lantern';

// The demo catalogue is generated in a fixed order: title i has two copies when
// i % 3 == 0, else one, and barcodes count up from 34000000000001. So the first copy of
// title i is 34 followed by (i + ceil(i / 3) + 1) on 12 digits.
function demoBarcode(titleIndex, copy = 0) {
  const n = titleIndex + Math.ceil(titleIndex / 3) + 1 + copy;
  return '34' + String(n).padStart(12, '0');
}

// The titles the flows use, by their index in the generated catalogue ("The {adj} {noun}"
// for i < 400: noun = NOUNS[i / 20], adj = ADJECTIVES[i % 20]).
const TITLES = {
  silentRiver: { index: 0, name: 'The Silent River' }, // 2 copies
  goldenRiver: { index: 1, name: 'The Golden River' }, // 1 copy; held for another reader
  hiddenRiver: { index: 2, name: 'The Hidden River' }, // 1 copy
  distantRiver: { index: 3, name: 'The Distant River' }, // borrowed and returned: history
  jadeLantern: { index: 31, name: 'The Jade Lantern' }, // held by another reader first
};

// ---------------------------------------------------------------------------------------
// Processes.

const children = new Set();
function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function stopChild(child, timeoutMs = 5000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      children.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startMailSink(dir) {
  const port = await freePort();
  const file = path.join(dir, 'mail.jsonl');
  const child = spawn('python3', [path.join(__dirname, 'mail_sink.py'), String(port), file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mail sink did not start: ${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      if (String(d).includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mail sink exited (${code}): ${stderr} (is aiosmtpd installed?)`));
    });
  });
  return {
    port,
    file,
    stop: () => stopChild(child),
    /** Every message received so far. */
    messages() {
      if (!fs.existsSync(file)) return [];
      return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  };
}

/**
 * Starts everything one test file needs: the mail sink, then library-server on a fresh
 * SQLite database with the demo data, the development clock, and mail through the sink.
 * Returns { base, api, mail, log(), stop() }.
 */
async function startServer() {
  if (!fs.existsSync(SERVER_BIN)) {
    throw new Error(`${SERVER_BIN} is missing: run \`cargo build -p library-server\` first`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'library-web-tests-'));
  const mail = await startMailSink(dir);
  const port = await freePort();
  const logFile = path.join(dir, 'server.log');
  const logFd = fs.openSync(logFile, 'a');
  const env = {
    ...process.env,
    LIBRARY_DATABASE_URL: `sqlite://${path.join(dir, 'lib.db')}?mode=rwc`,
    LIBRARY_HTTP_ADDR: `127.0.0.1:${port}`,
    LIBRARY_DEMO: '1',
    LIBRARY_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LIBRARY_DEV_CLOCK: '1',
    LIBRARY_JOBS_EVERY_SECS: '1',
    LIBRARY_SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    LIBRARY_MAIL_FROM: 'library@example.org',
    RUST_LOG: process.env.RUST_LOG || 'info',
  };
  delete env.LIBRARY_CONFIG;
  delete env.LIBRARY_SIP2_ADDR;
  delete env.LIBRARY_SMS_URL;
  const child = spawn(SERVER_BIN, [], { cwd: dir, env, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  children.add(child);
  const base = `http://127.0.0.1:${port}`;
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) {
      await mail.stop();
      throw new Error(`library-server exited with ${child.exitCode}:\n${log().slice(-4000)}`);
    }
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      await mail.stop();
      throw new Error(`library-server did not answer /health within 60 s:\n${log().slice(-4000)}`);
    }
    await sleep(100);
  }
  const server = {
    base,
    dir,
    mail,
    log,
    api: makeApi(base),
    async stop() {
      await stopChild(child);
      await mail.stop();
      if (!process.env.WEB_TESTS_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// ---------------------------------------------------------------------------------------
// The JSON API.

function makeApi(base) {
  async function call(method, route, { token, body, expect } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}/api/v1${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (expect !== undefined && res.status !== expect) {
      throw new Error(
        `${method} ${route}: expected ${expect}, got ${res.status} ${JSON.stringify(json)}`,
      );
    }
    return { status: res.status, body: json };
  }
  return {
    call,
    get: (route, opts) => call('GET', route, opts),
    post: (route, body, opts = {}) => call('POST', route, { ...opts, body }),
    put: (route, body, opts = {}) => call('PUT', route, { ...opts, body }),
    del: (route, opts) => call('DELETE', route, opts),
    async staffToken() {
      const res = await call('POST', '/staff/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
        expect: 200,
      });
      return res.body.token;
    },
    async readerToken(card, password) {
      const res = await call('POST', '/auth/login', {
        body: { card_number: card, password },
        expect: 200,
      });
      return res.body.token;
    },
    async searchTitle(name) {
      const res = await call('GET', `/catalog/search?q=${encodeURIComponent(name)}`, {
        expect: 200,
      });
      const hit = res.body.results.find((r) => r.title === name);
      assert.ok(hit, `the catalogue has "${name}": ${JSON.stringify(res.body)}`);
      return hit;
    },
    runJobs: () => call('POST', '/dev/jobs/run', { expect: 204 }),
  };
}

/**
 * The data the flows need, set up as staff:
 * - Chan Tai Man borrows The Silent River, The Golden River and The Hidden River at the
 *   central library, and borrowed and returned The Distant River (reading history);
 * - Ho Wing Sze reserves The Golden River (so its renewal is refused
 *   `on_hold_for_another`) and The Jade Lantern (so a hold placed on the page is second).
 * Returns { loans: {silentRiver, goldenRiver, hiddenRiver}: loan ids, titles: ids }.
 */
async function setupData(server) {
  const { api } = server;
  const staff = await api.staffToken();
  const reader = READERS.chan.card;
  const titleIds = {};
  for (const [key, t] of Object.entries(TITLES)) {
    titleIds[key] = (await api.searchTitle(t.name)).title_id;
  }
  const loans = {};
  for (const key of ['silentRiver', 'goldenRiver', 'hiddenRiver', 'distantRiver']) {
    const res = await api.post(
      '/circulation/checkouts',
      { card_number: reader, item_barcode: demoBarcode(TITLES[key].index), library_code: 'HKCL' },
      { token: staff, expect: 201 },
    );
    loans[key] = res.body.loan_id;
  }
  // The barcodes are those of the intended titles: each now has one copy fewer on the shelf.
  for (const key of ['goldenRiver', 'hiddenRiver']) {
    const hit = await api.searchTitle(TITLES[key].name);
    assert.equal(hit.available, 0, `${TITLES[key].name} is on loan: ${JSON.stringify(hit)}`);
  }
  await api.post(
    '/circulation/checkins',
    { item_barcode: demoBarcode(TITLES.distantRiver.index), library_code: 'HKCL' },
    { token: staff, expect: 200 },
  );
  delete loans.distantRiver;
  for (const key of ['goldenRiver', 'jadeLantern']) {
    await api.post(
      `/patrons/${READERS.ho.card}/holds`,
      { title_id: titleIds[key], pickup_library: 'KLNPL' },
      { token: staff, expect: 201 },
    );
  }
  return { staff, loans, titleIds };
}

// ---------------------------------------------------------------------------------------
// The browser.

let chromium;
function playwright() {
  if (!chromium) ({ chromium } = require('playwright-core'));
  return chromium;
}

async function launchBrowser() {
  return playwright().launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', ...(process.env.CHROMIUM_EXTRA_ARGS || '').split(' ').filter(Boolean)],
  });
}

/**
 * A browser context on the server, with `problems` collecting page errors, failed
 * requests of the server's own resources and Content-Security-Policy violations.
 */
async function newContext(browser, server, { js = true, viewport, bypassCSP = false } = {}) {
  const context = await browser.newContext({
    baseURL: server.base,
    javaScriptEnabled: js,
    viewport: viewport || { width: 1280, height: 900 },
    bypassCSP,
    locale: 'en-GB',
  });
  context.setDefaultTimeout(Number(process.env.WEB_TESTS_TIMEOUT_MS || 5000));
  context.problems = [];
  context.on('page', (page) => watchPage(page, context.problems));
  return context;
}

function watchPage(page, problems) {
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  page.on('crash', () => problems.push(`the browser's renderer crashed on ${page.url()}`));
  page.on('console', (msg) => {
    // "Failed to load resource" is also logged for a page answered 4xx on purpose (a form
    // with errors is 401/422); failed resources are caught by the response listener below.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      problems.push(`console error on ${page.url()}: ${msg.text()}`);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && res.url().startsWith(new URL(page.url() || 'http://x').origin)) {
      const type = res.request().resourceType();
      if (type !== 'document') problems.push(`${res.status()} for ${type} ${res.url()}`);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Page checks.

const OTHER = { en: 'zh-Hant', 'zh-Hant': 'en' };
const NAV = ['/account', '/catalogue', '/info', '/study-rooms', '/settings', '/ask', '/libraries', '/help'];

function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** The page is in `lang`, and its language switch offers the other one. */
async function expectLanguage(page, lang) {
  const htmlLang = await page.getAttribute('html', 'lang');
  assert.equal(htmlLang, lang, `<html lang> of ${page.url()}`);
  const button = page.locator('form#language button[name=lang]');
  assert.equal(await button.count(), 1, `one language switch button on ${page.url()}`);
  assert.equal(await button.getAttribute('value'), OTHER[lang], `the switch offers the other language on ${page.url()}`);
}

/** Navigation links and the sign-out form of a signed-in page. */
async function expectSignedInChrome(page) {
  for (const href of NAV) {
    const n = await page.locator(`nav a[href="${href}"]`).count();
    assert.ok(n >= 1, `nav link to ${href} on ${page.url()}`);
  }
  const signOut = page.locator('form#sign-out button, form#sign-out input[type=submit]');
  assert.ok((await signOut.count()) >= 1, `sign-out button on ${page.url()}`);
}

/** The `#flash` status message, its text returned. */
async function expectFlash(page) {
  const flash = page.locator('#flash');
  assert.equal(await flash.count(), 1, `#flash on ${page.url()}`);
  const role = await flash.getAttribute('role');
  assert.equal(role, 'status', '#flash has role=status');
  const text = (await flash.innerText()).trim();
  assert.ok(text.length > 0, `#flash has text on ${page.url()}`);
  return text;
}

/** The `[role=alert]` messages, their text returned (at least one). */
async function expectAlerts(page) {
  const alerts = page.locator('[role=alert]');
  const n = await alerts.count();
  assert.ok(n >= 1, `a [role=alert] message on ${page.url()}`);
  const texts = [];
  for (let i = 0; i < n; i++) texts.push((await alerts.nth(i).innerText()).trim());
  const all = texts.join(' | ');
  assert.ok(all.length > 0, `the alerts have text on ${page.url()}`);
  // Codes are translated into words: no snake_case code is shown.
  assert.doesNotMatch(all, /\b[a-z]+_[a-z_]+\b/, `alerts show words, not codes: ${all}`);
  return all;
}

/**
 * The input named `name` is tied to a non-empty error message by `aria-describedby`.
 * Returns the message text.
 */
async function expectFieldError(page, name) {
  const input = page.locator(`[name="${name}"]`).first();
  const ids = ((await input.getAttribute('aria-describedby')) || '').split(/\s+/).filter(Boolean);
  assert.ok(ids.length > 0, `input[name=${name}] has aria-describedby on ${page.url()}`);
  const texts = [];
  let alert = false;
  for (const id of ids) {
    const el = page.locator(`[id="${id}"]`);
    assert.equal(await el.count(), 1, `aria-describedby target #${id} exists`);
    texts.push((await el.innerText()).trim());
    const sel = `[id="${id}"]`;
    alert ||= (await page.locator(`${sel}[role=alert], [role=alert] ${sel}, ${sel}:has([role=alert])`).count()) > 0;
  }
  const text = texts.join(' ');
  assert.ok(text.length > 0, `the description of input[name=${name}] has text`);
  assert.ok(alert, `the error of input[name=${name}] is (in) a [role=alert] element`);
  return { text, alert };
}

async function submit(page, formSelector, buttonSelector = 'button[type=submit], button:not([type]), input[type=submit]') {
  const button = page.locator(`${formSelector} ${buttonSelector}`).first();
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

/**
 * Clicks a button whose form the page's script may send itself, replacing `<main>` with the
 * answer's instead of navigating (renewing); without the script it navigates. Waits for
 * either.
 */
async function clickAndWaitForMain(page, locator) {
  const scripted = await page
    .evaluate(() => {
      const main = document.querySelector('main');
      if (main) main.setAttribute('data-web-tests-stale', '');
      return true;
    })
    .catch(() => false);
  if (!scripted) {
    await clickAndWait(page, locator);
    return;
  }
  await locator.click();
  const deadline = Date.now() + 10000;
  for (;;) {
    const done = await page
      .evaluate(() => document.readyState !== 'loading' && !!document.querySelector('main') && !document.querySelector('main[data-web-tests-stale]'))
      .catch(() => false);
    if (done) break;
    if (Date.now() > deadline) throw new Error(`the page did not change after clicking ${locator}`);
    await sleep(50);
  }
  await page.waitForLoadState('load');
}

/** Presses the language switch; the page comes back in the other language. */
async function switchLanguage(page) {
  const before = await page.getAttribute('html', 'lang');
  await clickAndWait(page, page.locator('form#language button[name=lang]'));
  await expectLanguage(page, OTHER[before]);
}

async function signIn(page, card, password) {
  await page.goto('/sign-in');
  await page.fill('form#sign-in input[name=card_number]', card);
  await page.fill('form#sign-in input[name=password]', password);
  await submit(page, 'form#sign-in');
}

async function signOut(page) {
  await clickAndWait(page, page.locator('form#sign-out button, form#sign-out input[type=submit]').first());
}

let axeSource;
/**
 * axe-core on the page; fails on any `serious` or `critical` violation, printing them (or,
 * with `collect`, adds them to that array and returns).
 * axe is evaluated through the DevTools protocol, which the page's CSP does not govern.
 */
async function checkA11y(page, label, { collect = null } = {}) {
  axeSource ??= fs.readFileSync(AXE_SOURCE, 'utf8');
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  });
  const bad = results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = results.filter((v) => !bad.includes(v));
  if (minor.length) {
    console.log(`axe (${label}): minor: ${minor.map((v) => `${v.id} [${v.impact}]`).join(', ')}`);
  }
  if (bad.length) {
    const text = bad
      .map(
        (v) =>
          `  ${v.id} [${v.impact}] ${v.help}\n` +
          v.nodes
            .slice(0, 5)
            .map((n) => `    ${n.target}: ${String(n.summary).replace(/\n/g, ' ')}`)
            .join('\n'),
      )
      .join('\n');
    console.log(`axe (${label}) serious/critical violations:\n${text}`);
    if (collect) {
      collect.push(`${label}:\n${text}`);
      return;
    }
    assert.fail(`axe: ${bad.length} serious/critical violation(s) on ${label}:\n${text}`);
  }
}

async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits for a mail to `to` whose body matches `re`, running the jobs while waiting. */
async function waitForMail(server, to, re, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = server.mail
      .messages()
      .find((m) => m.to.some((t) => t.toLowerCase() === to.toLowerCase()) && re.test(m.body));
    if (hit) return hit;
    if (Date.now() > deadline) {
      throw new Error(
        `no mail to ${to} matching ${re} within ${timeoutMs} ms; received: ` +
          JSON.stringify(server.mail.messages().map((m) => ({ to: m.to, subject: m.subject }))),
      );
    }
    await server.api.runJobs().catch(() => {});
    await sleep(500);
  }
}

module.exports = {
  ROOT,
  READERS,
  NEW_PASSWORD,
  TITLES,
  SCREENSHOTS,
  demoBarcode,
  startServer,
  setupData,
  launchBrowser,
  newContext,
  pathOf,
  expectLanguage,
  expectSignedInChrome,
  expectFlash,
  expectAlerts,
  expectFieldError,
  submit,
  clickAndWait,
  clickAndWaitForMain,
  switchLanguage,
  signIn,
  signOut,
  checkA11y,
  screenshot,
  waitForMail,
  sleep,
  OTHER,
  NAV,
};
