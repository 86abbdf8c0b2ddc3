'use strict';
// Opening hours on the public pages, in both languages: the reopening of 19 February 2021
// declared through the API (Hong Kong Central and Kowloon reopen their adult, young adult
// and children's libraries with special hours 10:00–18:00; the study room and computers
// stay closed until further notice), the clock at 10:30 that day. The libraries page shows
// who is open until when and what serves while closed, the notice in the page's language
// naming both libraries; a library's page shows its sections and the next 7 days' hours.
// Screenshots: target/web-screenshots/hours-*.png.

const assert = require('node:assert/strict');
const { browserFlow } = require('./lib/flow');
const h = require('./lib/harness');

async function ensureLanguage(page, lang) {
  if ((await page.getAttribute('html', 'lang')) !== lang) await h.switchLanguage(page);
}

async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

browserFlow('opening hours and the reopening (both languages)', { js: true }, (flow) => {
  flow.step('the reopening is declared', async ({ server }) => {
    const { api } = server;
    await api.put('/dev/clock', { now: '2021-02-18T12:00:00+08:00' }, { expect: 204 });
    const admin = await api.staffToken();
    const day = [{ start: '10:00', end: '19:00' }];
    await api.put('/libraries/HKCL/hours', {
      monday: day, tuesday: day, wednesday: day, thursday: day, friday: day, saturday: day, sunday: day,
    }, { token: admin, expect: 200 });
    await api.put('/libraries/HKCL/door-services', { book_drop: true, self_service_station: true }, { token: admin, expect: 200 });
    // The demo gives Kowloon a book drop; here it has none, to show a library without.
    await api.put('/libraries/KLNPL/door-services', { book_drop: false, self_service_station: false }, { token: admin, expect: 200 });
    await api.post('/reopenings', {
      libraries: ['HKCL', 'KLNPL'],
      from: '2021-02-19',
      open_sections: ['adult', 'young_adult', 'children'],
      closed_sections: ['study_room', 'computer'],
      special_hours: { from: '2021-02-19', to: '2021-03-31', daily: [{ start: '10:00', end: '18:00' }] },
      notice: {
        title: 'Libraries reopen on 19 February',
        body: 'Lending, returning and collection of reserved items resume.',
        title_zh: '圖書館於二月十九日重開',
        body_zh: '恢復借還圖書館資料及領取預約圖書館資料服務。',
      },
    }, { token: admin, expect: 201 });
    await api.put('/dev/clock', { now: '2021-02-19T10:30:00+08:00' }, { expect: 204 });
  }, { critical: true });

  flow.step('the libraries page in English', async ({ page }) => {
    await page.goto('/libraries');
    await ensureLanguage(page, 'en');
    const hkcl = page.locator('#libraries tr[data-library-code=HKCL]');
    assert.equal(await hkcl.getAttribute('data-open'), 'true');
    const row = await text(hkcl);
    assert.match(row, /Hong Kong Central Library/);
    assert.match(row, /Open/);
    assert.match(row, /Closes at 18:00/);
    assert.match(row, /Adult library, Children's library, Young adult library/);
    assert.doesNotMatch(row, /Students' study room/);
    assert.match(row, /Book drop/);
    assert.match(row, /Self-service library station/);
    const kln = await text(page.locator('#libraries tr[data-library-code=KLNPL]'));
    assert.match(kln, /Closes at 18:00/);
    assert.doesNotMatch(kln, /Book drop/);
    const notices = await text(page.locator('#notices'));
    assert.match(notices, /Libraries reopen on 19 February/);
    assert.match(notices, /Libraries reopening: Hong Kong Central Library, Kowloon Public Library\./);
    await h.screenshot(page, 'hours-libraries.en');
    await h.checkA11y(page, 'libraries with hours (en)');
  });

  flow.step('the libraries page in Traditional Chinese', async ({ page }) => {
    await page.goto('/libraries');
    await ensureLanguage(page, 'zh-Hant');
    const row = await text(page.locator('#libraries tr[data-library-code=HKCL]'));
    assert.match(row, /香港中央圖書館/);
    assert.match(row, /開放/);
    assert.match(row, /18:00 關閉/);
    assert.match(row, /成人圖書館、兒童圖書館、青少年圖書館/);
    assert.match(row, /還書箱/);
    const notices = await text(page.locator('#notices'));
    assert.match(notices, /圖書館於二月十九日重開/);
    assert.match(notices, /重開的圖書館：香港中央圖書館、九龍公共圖書館。/);
    assert.doesNotMatch(notices, /Libraries reopen on 19 February/);
    await h.screenshot(page, 'hours-libraries.zh-Hant');
    await h.checkA11y(page, 'libraries with hours (zh-Hant)');
  });

  flow.step("a library's page in Traditional Chinese", async ({ page }) => {
    await page.goto('/libraries');
    await ensureLanguage(page, 'zh-Hant');
    await h.clickAndWait(page, page.locator('#libraries tr[data-library-code=HKCL] a[href="/libraries/HKCL"]'));
    assert.equal(h.pathOf(page), '/libraries/HKCL');
    assert.equal(await text(page.locator('h1')), '香港中央圖書館');
    assert.match(await text(page.locator('#library-status')), /18:00 關閉/);
    const study = await text(page.locator('#sections tr[data-section=study_room]'));
    assert.match(study, /自修室/);
    assert.match(study, /由 2021年2月19日 起休館，直至另行通知/);
    assert.equal(await page.locator('#sections tr[data-section=adult]').getAttribute('data-open'), 'true');
    const week = page.locator('#week tbody tr');
    assert.equal(await week.count(), 7);
    assert.match(await text(week.first()), /2021年2月19日 \(星期五\) 10:00–18:00/);
    await h.screenshot(page, 'hours-library.zh-Hant');
    await h.checkA11y(page, 'a library (zh-Hant)');
  });

  flow.step("a library's page in English", async ({ page }) => {
    await page.goto('/libraries/HKCL');
    await ensureLanguage(page, 'en');
    assert.equal(await text(page.locator('h1')), 'Hong Kong Central Library');
    const study = await text(page.locator('#sections tr[data-section=study_room]'));
    assert.match(study, /Students' study room Closed Closed from 19 February 2021 until further notice/);
    assert.match(await text(page.locator('#week tbody tr').first()), /19 February 2021 \(Friday\) 10:00–18:00/);
    assert.match(await text(page.locator('#doors-title + ul')), /Book drop/);
    await h.screenshot(page, 'hours-library.en');
    await h.checkA11y(page, 'a library (en)');
    const missing = await page.goto('/libraries/NOPE');
    assert.equal(missing.status(), 404);
  });

  flow.step('no script error, CSP violation or failed resource', async ({ context }) => {
    const problems = context.problems.filter((p) => !p.includes('/libraries/NOPE'));
    assert.deepEqual(problems, [], problems.join('\n'));
  }, { usesPage: false });
});
