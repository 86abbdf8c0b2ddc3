'use strict';
// Students' Study Rooms: a reader applies for an admission card on the web page, sees the
// application waiting for the ballot, then the library's rejection with its reason, in
// English and in Traditional Chinese; axe-core on each state, screenshots saved.

const assert = require('node:assert/strict');
const { browserFlow } = require('./lib/flow');
const h = require('./lib/harness');

/** `date` plus `days`, as YYYY-MM-DD (dates in the library's zone, UTC+8). */
function day(days) {
  const hk = new Date(Date.now() + 8 * 3600 * 1000 + days * 86400 * 1000);
  return hk.toISOString().slice(0, 10);
}

browserFlow('study rooms: apply and see the status, both languages', { js: true }, (flow) => {
  const reader = h.READERS.wong;
  let scheme = null;

  flow.step('an administrator opens a scheme; the reader signs in', async ({ page, server }) => {
    const staff = await server.api.staffToken();
    const created = await server.api.post(
      '/study-room-schemes',
      {
        name: "Students' Study Rooms, examination period",
        name_zh: '自修室（考試期間）',
        opens_on: day(-1),
        closes_on: day(10),
        valid_from: day(15),
        valid_to: day(80),
        extended_from: day(12),
        extended_to: day(90),
        extended_hours: ['08:00-22:00'],
        places: 3,
        priority_percent: 95,
      },
      { token: staff, expect: 201 },
    );
    scheme = created.body.id;
    // The reader's first Password change, through the API.
    const first = await server.api.readerToken(reader.card, reader.defaultPassword);
    await server.api.put(
      '/me/password',
      { current_password: reader.defaultPassword, new_password: h.NEW_PASSWORD },
      { token: first, expect: 200 },
    );
    await h.signIn(page, reader.card, h.NEW_PASSWORD);
    await h.expectSignedInChrome(page);
  }, { critical: true });

  flow.step('apply from the page (en)', async ({ page }) => {
    await h.clickAndWait(page, page.locator('nav a[href="/study-rooms"]'));
    assert.equal(h.pathOf(page), '/study-rooms');
    await h.expectLanguage(page, 'en');
    const card = page.locator(`article.scheme[data-scheme-id="${scheme}"]`);
    assert.equal(await card.count(), 1, 'the open scheme is listed');
    await h.screenshot(page, 'study-rooms-open.en');
    await h.checkA11y(page, 'study rooms, a scheme open (en)');
    await card.locator('input[name=exam_candidate]').check();
    await card.locator('input[name=exam]').fill('HKDSE');
    await h.clickAndWait(page, card.locator('form.apply button[type=submit]'));
    const flash = await h.expectFlash(page);
    assert.match(flash, /received/);
    assert.equal(await page.locator(`article.scheme[data-scheme-id="${scheme}"]`).count(), 0, 'no second application offered');
    const row = page.locator('table#study-room-applications tr[data-application-id]');
    assert.equal(await row.count(), 1);
    assert.equal(await row.getAttribute('data-status'), 'pending');
    assert.match(await row.innerText(), /Waiting for the ballot/);
    await h.screenshot(page, 'study-rooms-applied.en');
    await h.checkA11y(page, 'study rooms, applied (en)');
  });

  flow.step('the library rejects it with a reason; the reader sees it (en, zh-Hant)', async ({ page, server }) => {
    const staff = await server.api.staffToken();
    const list = await server.api.get(`/study-room-schemes/${scheme}/applications`, { token: staff, expect: 200 });
    const mine = list.body.applications.find((a) => a.card_number === reader.card);
    assert.ok(mine, 'the application is in the staff list');
    assert.equal(mine.application.exam, 'HKDSE');
    assert.equal(mine.application.exam_candidate, true);
    await server.api.post(
      `/study-room-applications/${mine.application.id}/decision`,
      { decision: 'reject', reason: 'Please apply at your school library' },
      { token: staff, expect: 200 },
    );
    await page.goto('/study-rooms');
    const row = page.locator('table#study-room-applications tr[data-application-id]');
    assert.equal(await row.getAttribute('data-status'), 'rejected');
    const text = await row.innerText();
    assert.match(text, /Rejected/);
    assert.match(text, /Please apply at your school library/);
    await h.switchLanguage(page);
    await h.expectLanguage(page, 'zh-Hant');
    assert.equal(await page.locator('h1').innerText(), '學生自修室');
    const zh = await page.locator('table#study-room-applications tr[data-application-id]').innerText();
    assert.match(zh, /不獲接納/);
    assert.match(zh, /Please apply at your school library/);
    await h.screenshot(page, 'study-rooms-rejected.zh-Hant');
    await h.checkA11y(page, 'study rooms, rejected (zh-Hant)');
    await h.switchLanguage(page);
  });
});
