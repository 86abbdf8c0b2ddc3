'use strict';
// Every page in both languages: axe-core finds no `serious` or `critical` violation, and a
// full-page screenshot is saved as target/web-screenshots/<page>.<lang>.png. Pages are
// checked with content in them (loans, a hold, renewal results, an enquiry, a
// registration) and in their error states (a failed sign-in, a violated Password rule, a
// refused settings change).

const assert = require('node:assert/strict');
const { browserFlow } = require('./lib/flow');
const h = require('./lib/harness');

const LANGS = ['en', 'zh-Hant'];

browserFlow('every page: axe-core and screenshots, both languages', { js: true }, (flow) => {
  const reader = h.READERS.chan;

  async function check(page, name, lang) {
    await h.expectLanguage(page, lang);
    await h.screenshot(page, `${name}.${lang}`);
    await h.checkA11y(page, `${name} (${lang}) ${h.pathOf(page)}`);
  }

  async function ensureLanguage(page, lang) {
    if ((await page.getAttribute('html', 'lang')) !== lang) await h.switchLanguage(page);
  }

  // Signed out.
  for (const lang of LANGS) {
    flow.step(`sign-in (${lang})`, async ({ page }) => {
      await page.goto('/sign-in');
      await ensureLanguage(page, lang);
      await check(page, 'sign-in', lang);
    });
    flow.step(`sign-in with an error (${lang})`, async ({ page }) => {
      await h.signIn(page, reader.card, '0000');
      await h.expectAlerts(page);
      await check(page, 'sign-in-error', lang);
    });
    flow.step(`forgot-password (${lang})`, async ({ page }) => {
      await page.goto('/forgot-password');
      await check(page, 'forgot-password', lang);
      await page.fill('form#forgot input[name=email]', 'nobody.here@example.com');
      await h.submit(page, 'form#forgot');
      await h.expectFlash(page);
      await check(page, 'forgot-password-sent', lang);
    });
  }

  // The forced Password change.
  for (const lang of LANGS) {
    flow.step(`password, forced (${lang})`, async ({ page }) => {
      if (h.pathOf(page) !== '/password') {
        await page.goto('/sign-in');
        await ensureLanguage(page, 'en');
        await h.signIn(page, reader.card, reader.defaultPassword);
        assert.equal(h.pathOf(page), '/password');
      }
      await ensureLanguage(page, lang);
      await check(page, 'password-forced', lang);
    }, { critical: lang === 'en' });
    flow.step(`password with violated rules (${lang})`, async ({ page }) => {
      await page.goto('/password');
      await page.fill('form#change-password input[name=current_password]', reader.defaultPassword);
      await page.fill('form#change-password input[name=new_password]', 'harbourlantern');
      await page.fill('form#change-password input[name=confirm_password]', 'harbourlantern');
      await h.submit(page, 'form#change-password');
      await h.expectAlerts(page);
      await check(page, 'password-error', lang);
    });
  }

  flow.step('the Password is changed; content for the pages is made', async ({ page, server, data }) => {
    await page.goto('/password');
    await ensureLanguage(page, 'en');
    await page.fill('form#change-password input[name=current_password]', reader.defaultPassword);
    await page.fill('form#change-password input[name=new_password]', h.NEW_PASSWORD);
    await page.fill('form#change-password input[name=confirm_password]', h.NEW_PASSWORD);
    await h.submit(page, 'form#change-password');
    assert.equal(h.pathOf(page), '/account');
    const { api } = server;
    const token = await api.readerToken(reader.card, h.NEW_PASSWORD);
    await api.post('/me/holds', { title_id: data.titleIds.jadeLantern, pickup_library: 'HKCL' }, { token, expect: 201 });
    await api.post('/enquiries', { subject: 'Opening hours at Christmas', message: 'Is the central library open on 26 December?', library_code: 'HKCL' }, { token, expect: 201 });
    const activities = (await api.get('/activities', { expect: 200 })).body.activities;
    await api.post(`/activities/${activities[0].id}/registrations`, {}, { token, expect: 201 });
  }, { critical: true });

  // Signed in: every page, in both languages.
  const PAGES = [
    ['account', '/account'],
    ['history', '/account/history'],
    ['catalogue', '/catalogue?q=River'],
    ['info', '/info'],
    ['settings', '/settings'],
    ['ask', '/ask'],
    ['libraries', '/libraries'],
    ['help', '/help'],
    ['password', '/password'],
  ];
  for (const lang of LANGS) {
    for (const [name, route] of PAGES) {
      flow.step(`${name} (${lang})`, async ({ page }) => {
        await page.goto(route);
        assert.equal(h.pathOf(page), route.split('?')[0], `${route} is served`);
        await ensureLanguage(page, lang);
        await h.expectSignedInChrome(page);
        await check(page, name, lang);
      });
    }
    flow.step(`account with renewal results (${lang})`, async ({ page }) => {
      await page.goto('/account');
      await ensureLanguage(page, lang);
      await h.clickAndWaitForMain(page, page.locator('form#renew button[name=renew][value=all]'));
      assert.ok((await page.locator('#renewal-results li[data-outcome=refused]').count()) >= 1);
      await check(page, 'account-renewed', lang);
    });
    flow.step(`settings with an error (${lang})`, async ({ page }) => {
      await page.goto('/settings');
      await ensureLanguage(page, lang);
      await page.fill('form#settings input[name=email]', 'chan.new@example.com');
      await h.submit(page, 'form#settings');
      await h.expectAlerts(page);
      await check(page, 'settings-error', lang);
    });
  }

  flow.step('no script error, CSP violation or failed resource', async ({ context }) => {
    assert.deepEqual(context.problems, [], context.problems.join('\n'));
  }, { usesPage: false });
});
