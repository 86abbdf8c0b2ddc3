'use strict';
// The visitors' own registration for contact tracing, in both languages: linked from the
// libraries page, a wrong phone shown at its field, a registration confirmed without the
// phone echoed back, and the record there for staff holding contact_tracing.

const assert = require('node:assert/strict');
const { browserFlow } = require('./lib/flow');
const h = require('./lib/harness');

const VISITORS = {
  en: { name: 'Chan Tai Man', phone: '+852 9123-4567' },
  'zh-Hant': { name: '陳大文', phone: '6123 4567' },
};

browserFlow('visitor registration (both languages)', { js: true }, (flow) => {
  for (const lang of ['en', 'zh-Hant']) {
    const visitor = VISITORS[lang];

    flow.step(`${lang}: the libraries page links to the form`, async ({ page }) => {
      await page.goto('/libraries');
      if ((await page.getAttribute('html', 'lang')) !== lang) await h.switchLanguage(page);
      await h.clickAndWait(page, page.locator('a#visitors-link'));
      assert.equal(h.pathOf(page), '/visitors');
      await h.expectLanguage(page, lang);
      assert.equal(await page.locator('form#visitor-form select[name=library] option').count() >= 2, true);
    }, { critical: true });

    flow.step(`${lang}: a phone that is not 8 to 15 digits is shown at its field`, async ({ page }) => {
      await page.goto('/visitors');
      await page.fill('form#visitor-form input[name=name]', visitor.name);
      await page.fill('form#visitor-form input[name=phone]', '1234');
      await h.submit(page, 'form#visitor-form');
      await h.expectFieldError(page, 'phone');
      await h.expectAlerts(page);
      // What was typed is kept.
      assert.equal(await page.inputValue('form#visitor-form input[name=name]'), visitor.name);
    });

    flow.step(`${lang}: registered, the phone not echoed`, async ({ page }) => {
      await page.goto('/visitors');
      await page.fill('form#visitor-form input[name=name]', visitor.name);
      await page.fill('form#visitor-form input[name=phone]', visitor.phone);
      await page.selectOption('form#visitor-form select[name=library]', 'KLNPL');
      await h.submit(page, 'form#visitor-form');
      const done = page.locator('#visitor-done');
      assert.equal(await done.count(), 1, 'a confirmation');
      assert.equal(await done.getAttribute('role'), 'status');
      const body = await page.locator('body').innerText();
      const digits = visitor.phone.replace(/[^0-9]/g, '');
      assert.ok(!body.replace(/[^0-9]/g, '').includes(digits.slice(-8)), 'the phone is not shown');
      await h.screenshot(page, `visitors-done.${lang}`);
      await page.goto('/visitors');
      await h.screenshot(page, `visitors.${lang}`);
    }, { critical: true });
  }

  flow.step('staff holding contact_tracing read both registrations', async ({ server }) => {
    const { api } = server;
    const staff = await api.staffToken();
    await api.put('/staff/users/admin/permissions/contact_tracing', {}, { token: staff, expect: 204 });
    // Library dates a few days either side of today, whatever the server's clock says.
    const day = (d) => new Date(Date.now() + 8 * 3600 * 1000 + d * 86400 * 1000).toISOString().slice(0, 10);
    const res = await api.get(`/visitors?library=KLNPL&from=${day(-3)}&to=${day(3)}`, { token: staff, expect: 200 });
    const names = res.body.visitors.map((v) => v.name);
    assert.ok(names.includes(VISITORS.en.name), JSON.stringify(names));
    assert.ok(names.includes(VISITORS['zh-Hant'].name), JSON.stringify(names));
    assert.ok(res.body.visitors.every((v) => v.recorded_by === 'self'));
  });
});
