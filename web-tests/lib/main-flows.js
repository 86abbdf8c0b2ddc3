'use strict';
// The readers' main flows, in one language, with or without JavaScript, at one viewport:
// sign in with the default Password → forced change → My Account; renew one; renew all
// with one refused and its reason; search, reserve, the queue position; cancel the hold;
// My Info registration; settings and the language switch; Ask a Librarian; Libraries
// and Help. Declared as the steps of one browser flow (lib/flow.js).

const assert = require('node:assert/strict');
const { browserFlow } = require('./flow');
const h = require('./harness');

const CJK = /[\u3400-\u9fff]/;

// What the pages say, where the contract fixes it.
const TEXT = {
  en: {
    refusedOnHold: (t) => assert.match(t, /another reader has reserved/i, `the refusal's reason in words: ${t}`),
    accountH1: (t) => assert.ok(t.length > 0 && !CJK.test(t), `an English h1: ${t}`),
    words: (t, what) => assert.ok(!CJK.test(t), `${what} in English: ${t}`),
  },
  'zh-Hant': {
    refusedOnHold: (t) => {
      assert.match(t, CJK, `the refusal's reason in Chinese: ${t}`);
      assert.doesNotMatch(t, /another reader/i, `no English reason: ${t}`);
    },
    accountH1: (t) => assert.match(t, /我的帳戶/, `the h1 of My Account: ${t}`),
    words: (t, what) => assert.match(t, CJK, `${what} in Chinese: ${t}`),
  },
};

// Password rules a browser can check alone, and those only the server checks.
const CLIENT_RULES = ['too_short', 'too_long', 'missing_uppercase', 'missing_lowercase', 'missing_digit'];
const SERVER_RULES = ['common_password', 'contains_personal_info', 'context_word', 'same_as_current', 'control_character'];

const LIBRARY_NAMES = {
  HKCL: ['Hong Kong Central Library', '香港中央圖書館', 'HKCL'],
};

/**
 * `lang`: 'en' or 'zh-Hant' (switched to on the sign-in page); `js`; `viewport`;
 * `shots`: a screenshot prefix (every page visited is saved) or null; `axe`: run axe-core
 * on every page visited (needs JavaScript); `label`.
 */
function mainFlows({ lang = 'en', js = true, viewport, shots = null, axe = false, label }) {
  const text = TEXT[lang];
  const name = label || `main flows (${lang}, ${js ? 'JavaScript' : 'no JavaScript'}${viewport ? `, ${viewport.width}×${viewport.height}` : ''})`;

  browserFlow(name, { js, viewport }, (flow) => {
    const { READERS, NEW_PASSWORD, TITLES } = h;
    const reader = READERS.chan;

    const axeViolations = [];

    // After every page load: the language, at a narrow viewport no sideways scrolling, and
    // with `axe` the page's serious and critical violations (reported by the last steps).
    async function visited(page, shot) {
      await h.expectLanguage(page, lang);
      if (viewport && js) {
        const overflow = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
        }));
        assert.ok(
          overflow.scroll <= overflow.client + 1,
          `no horizontal scrolling at ${viewport.width} px on ${page.url()}: content is ${overflow.scroll} px wide`,
        );
      }
      if (shots && shot) await h.screenshot(page, `${shots}${shot}.${lang}`);
      if (axe && shot) {
        await h.checkA11y(page, `${shots || ''}${shot} (${lang}${viewport ? `, ${viewport.width} px` : ''}) ${h.pathOf(page)}`, { collect: axeViolations });
      }
    }

    async function goto(page, route, shot) {
      await page.goto(route);
      assert.equal(h.pathOf(page), route.split('?')[0], `${route} is served (not redirected)`);
      await visited(page, shot);
    }

    flow.step('signed out, / and /account lead to the sign-in page', async ({ page }) => {
      await page.goto('/');
      assert.equal(h.pathOf(page), '/sign-in', '/ → /account → /sign-in');
      await page.goto('/account');
      assert.equal(h.pathOf(page), '/sign-in', '/account → /sign-in');
      if (lang !== 'en') {
        await h.expectLanguage(page, 'en');
        await h.switchLanguage(page);
        assert.equal(h.pathOf(page), '/sign-in', 'the language switch stays on the page');
      }
      await visited(page, 'sign-in');
      assert.equal(await page.locator('form#sign-in input[name=card_number]').count(), 1);
      assert.equal(await page.locator('form#sign-in input[name=password]').count(), 1);
      assert.ok((await page.locator('a[href="/forgot-password"]').count()) >= 1, 'a link to /forgot-password');
    }, { critical: true });

    flow.step('wrong credentials: the sign-in page again with an alert', async ({ page }) => {
      await h.signIn(page, reader.card, '0000');
      assert.equal(h.pathOf(page), '/sign-in');
      await visited(page, 'sign-in-error');
      const alert = await h.expectAlerts(page);
      text.words(alert, 'the sign-in error');
    });

    let langAfterSignIn = null;
    flow.step('the default Password leads to the forced change', async ({ page }) => {
      await h.signIn(page, reader.card, reader.defaultPassword);
      assert.equal(h.pathOf(page), '/password', 'a default Password must be changed first');
      langAfterSignIn = await page.getAttribute('html', 'lang');
      if (langAfterSignIn !== lang) {
        // Checked in the next step; the flow goes on in the language it tests.
        await h.switchLanguage(page);
        assert.equal(h.pathOf(page), '/password');
      }
      await visited(page, 'password-forced');
      for (const field of ['current_password', 'new_password', 'confirm_password']) {
        assert.equal(await page.locator(`form#change-password input[name=${field}]`).count(), 1, `input[name=${field}]`);
      }
      const rules = page.locator('ul#password-rules li[data-rule]');
      assert.ok((await rules.count()) >= 3, 'the Password rules are listed');
      assert.ok(await rules.first().isVisible(), 'the rules are shown');
      // Other pages wait until the Password is changed.
      await page.goto('/account');
      assert.equal(h.pathOf(page), '/password', '/account → /password while the change is due');
    }, { critical: true });

    if (js) {
      flow.step('the Password page survives being reloaded and left (no renderer crash)', async ({ page }) => {
        // The page's script marks the rules when it loads; leaving the page afterwards has
        // crashed Chromium's renderer. Three rounds make a crash all but certain if the
        // page still triggers it.
        for (let round = 0; round < 3; round++) {
          await page.goto('/password');
          await page.goto('/account');
          assert.equal(h.pathOf(page), '/password');
        }
        assert.ok(!page.crashed, 'the renderer did not crash');
      }, { retryOnCrash: false });
    }

    if (lang !== 'en') {
      flow.step('the language chosen before signing in is kept after signing in', async () => {
        assert.equal(langAfterSignIn, lang, `chose ${lang} on the sign-in page, was shown ${langAfterSignIn} after signing in`);
      }, { usesPage: false });
    }

    if (js) {
      flow.step('the Password rules are marked met or unmet while typing', async ({ page }) => {
        const rules = page.locator('ul#password-rules li[data-rule]');
        const classes = async () => {
          const out = {};
          const n = await rules.count();
          for (let i = 0; i < n; i++) {
            const li = rules.nth(i);
            const cls = ((await li.getAttribute('class')) || '').split(/\s+/);
            out[await li.getAttribute('data-rule')] = cls.includes('met') ? 'met' : cls.includes('unmet') ? 'unmet' : 'none';
          }
          return out;
        };
        await page.goto('/password');
        assert.equal(h.pathOf(page), '/password');
        const input = page.locator('form#change-password input[name=new_password]');
        await input.fill('');
        await input.pressSequentially('ab', { delay: 10 });
        let state = await classes();
        // The rules a browser can check alone (length and composition) are marked live;
        // the blocklist, personal information and "not the current one" are the server's.
        for (const rule of CLIENT_RULES) {
          if (rule in state) assert.notEqual(state[rule], 'none', `rule ${rule} is marked met or unmet: ${JSON.stringify(state)}`);
        }
        const unmarked = Object.keys(state).filter((r) => state[r] === 'none');
        if (unmarked.length) console.log(`note: Password rules not marked live (checked by the server on submit): ${unmarked.join(', ')}`);
        assert.ok(unmarked.every((r) => SERVER_RULES.includes(r)), `only server-side rules are left unmarked: ${JSON.stringify(state)}`);
        assert.equal(state.too_short, 'unmet', `"ab" is too short: ${JSON.stringify(state)}`);
        assert.equal(state.missing_lowercase, 'met', `"ab" has a lower-case letter: ${JSON.stringify(state)}`);
        const unmetBefore = Object.values(state).filter((s) => s === 'unmet').length;
        await input.pressSequentially('Cdefgh7', { delay: 10 });
        state = await classes();
        const unmetAfter = Object.values(state).filter((s) => s === 'unmet').length;
        assert.ok(unmetAfter < unmetBefore, `typing more meets more rules: ${JSON.stringify(state)}`);
        await input.fill(NEW_PASSWORD);
        state = await classes();
        assert.ok(Object.values(state).every((s) => s !== 'unmet'), `"${NEW_PASSWORD}" leaves no rule unmet: ${JSON.stringify(state)}`);
        await input.fill('');
      });
    }

    flow.step('a violated rule is shown in words and tied to the field', async ({ page }) => {
      await page.goto('/password');
      await page.fill('form#change-password input[name=current_password]', reader.defaultPassword);
      await page.fill('form#change-password input[name=new_password]', 'Harbourlantern');
      await page.fill('form#change-password input[name=confirm_password]', 'Harbourlantern');
      await h.submit(page, 'form#change-password');
      assert.equal(h.pathOf(page), '/password');
      await visited(page, 'password-error');
      const alert = await h.expectAlerts(page);
      text.words(alert, 'the violated rule');
      await h.expectFieldError(page, 'new_password');
    }, { critical: true });

    flow.step('a good Password leads to My Account', async ({ page }) => {
      await page.goto('/password');
      await page.fill('form#change-password input[name=current_password]', reader.defaultPassword);
      await page.fill('form#change-password input[name=new_password]', NEW_PASSWORD);
      await page.fill('form#change-password input[name=confirm_password]', NEW_PASSWORD);
      await h.submit(page, 'form#change-password');
      assert.equal(h.pathOf(page), '/account');
      const flash = await h.expectFlash(page);
      text.words(flash, 'the flash');
      await visited(page, 'account-first');
      await h.expectSignedInChrome(page);
      text.accountH1((await page.locator('h1').first().innerText()).trim());
      await page.goto('/');
      assert.equal(h.pathOf(page), '/account', '/ → /account when signed in');
    }, { critical: true });

    flow.step('My Account lists the loans, holds, charges and the reading history', async ({ page, data }) => {
      await goto(page, '/account', 'account');
      const rows = page.locator('table#loans tr[data-loan-id]');
      assert.equal(await rows.count(), 3, 'three loans');
      const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-loan-id'))).catch(async () => {
        const out = [];
        for (let i = 0; i < 3; i++) out.push(await rows.nth(i).getAttribute('data-loan-id'));
        return out;
      });
      assert.deepEqual([...ids].sort(), Object.values(data.loans).map(String).sort(), 'the loans are those checked out');
      for (const [key, id] of Object.entries(data.loans)) {
        const row = page.locator(`table#loans tr[data-loan-id="${id}"]`);
        const box = row.locator('input[type=checkbox][name=loan]');
        assert.equal(await box.count(), 1, `a checkbox in the row of loan ${id}`);
        assert.equal(await box.getAttribute('value'), String(id));
        const rowText = await row.innerText();
        assert.ok(rowText.includes(TITLES[key].name), `the row of loan ${id} names "${TITLES[key].name}": ${rowText}`);
        // The box is inside form#renew (or tied to it with form=renew).
        const inRenew = await box.evaluate((b) => b.form && b.form.id === 'renew').catch(() => null);
        if (inRenew !== null) assert.ok(inRenew, 'the checkboxes belong to form#renew');
      }
      assert.equal(await page.locator('form#renew button[name=renew][value=selected]').count(), 1);
      assert.equal(await page.locator('form#renew button[name=renew][value=all]').count(), 1);
      // No hold yet: table#holds may be left out, but then no hold row is shown either.
      if ((await page.locator('table#holds').count()) === 0) {
        console.log('note: /account shows no table#holds while the reader has no hold');
      }
      assert.equal(await page.locator('tr[data-hold-id]').count(), 0, 'no hold yet');
      const total = (await page.locator('section#charges #outstanding-total').innerText()).trim();
      assert.match(total, /HK\$\s?0\.00/, `nothing outstanding: ${total}`);
      const history = page.locator('a[href="/account/history"]');
      assert.ok((await history.count()) >= 1, 'a link to the reading history');
      await h.clickAndWait(page, history.first());
      assert.equal(h.pathOf(page), '/account/history');
      await visited(page, 'history');
      const historyText = await page.locator('table#history').innerText();
      assert.ok(historyText.includes(TITLES.distantRiver.name), `the returned loan is in the history: ${historyText}`);
    });

    flow.step('renew one: the selected loan is renewed', async ({ page, data, server }) => {
      await goto(page, '/account');
      const id = data.loans.silentRiver;
      await page.locator(`table#loans tr[data-loan-id="${id}"] input[name=loan]`).check();
      await h.clickAndWaitForMain(page, page.locator('form#renew button[name=renew][value=selected]'));
      await visited(page, 'account-renewed-one');
      const results = page.locator('#renewal-results li[data-loan-id]');
      assert.equal(await results.count(), 1, 'one result');
      assert.equal(await results.first().getAttribute('data-loan-id'), String(id));
      assert.equal(await results.first().getAttribute('data-outcome'), 'renewed');
      const token = await server.api.readerToken(reader.card, NEW_PASSWORD);
      const loans = (await server.api.get('/me/loans', { token, expect: 200 })).body.loans;
      assert.equal(loans.find((l) => l.id === id).renewals, 1, 'the server counts one renewal');
      assert.equal(loans.filter((l) => l.renewals > 0).length, 1, 'only that loan was renewed');
    });

    flow.step('renew all: one refused, its reason in words', async ({ page, data }) => {
      await goto(page, '/account');
      await h.clickAndWaitForMain(page, page.locator('form#renew button[name=renew][value=all]'));
      await visited(page, 'account-renewed-all');
      const outcome = async (id) => page.locator(`#renewal-results li[data-loan-id="${id}"]`).getAttribute('data-outcome');
      assert.equal(await page.locator('#renewal-results li[data-loan-id]').count(), 3, 'a result per loan');
      assert.equal(await outcome(data.loans.silentRiver), 'renewed');
      assert.equal(await outcome(data.loans.hiddenRiver), 'renewed');
      assert.equal(await outcome(data.loans.goldenRiver), 'refused');
      const reason = (await page.locator(`#renewal-results li[data-loan-id="${data.loans.goldenRiver}"]`).innerText()).trim();
      text.refusedOnHold(reason);
      assert.doesNotMatch(reason, /on_hold_for_another/, 'the reason is words, not the code');
    });

    let holdId = null;
    flow.step('search and reserve: the hold is shown with its queue position', async ({ page, data }) => {
      await goto(page, '/catalogue', 'catalogue-empty');
      await page.fill('form#search input[name=q]', 'Jade Lantern');
      await h.submit(page, 'form#search');
      assert.equal(h.pathOf(page), '/catalogue');
      assert.equal(new URL(page.url()).searchParams.get('q'), 'Jade Lantern');
      await visited(page, 'catalogue');
      const titleId = data.titleIds.jadeLantern;
      const hit = page.locator(`li.hit[data-title-id="${titleId}"]`);
      assert.equal(await hit.count(), 1, 'The Jade Lantern is found');
      assert.ok((await hit.innerText()).includes(TITLES.jadeLantern.name));
      await hit.locator('form.reserve select[name=pickup_library]').selectOption('HKCL');
      await h.clickAndWait(page, hit.locator('form.reserve button[type=submit], form.reserve button:not([type]), form.reserve input[type=submit]').first());
      assert.equal(h.pathOf(page), '/account');
      await h.expectFlash(page);
      await visited(page, 'account-reserved');
      const rows = page.locator('table#holds tr[data-hold-id]');
      assert.equal(await rows.count(), 1, 'one hold');
      holdId = await rows.first().getAttribute('data-hold-id');
      const position = (await rows.first().locator('td.position').innerText()).trim();
      assert.match(position, /(^|\D)2(\D|$)/, `second in the queue (another reader reserved it first): ${position}`);
      const rowText = await rows.first().innerText();
      assert.ok(LIBRARY_NAMES.HKCL.some((n) => rowText.includes(n)), `the pickup library is shown: ${rowText}`);
      assert.ok(rowText.includes(TITLES.jadeLantern.name), `the title is shown: ${rowText}`);
    });

    flow.step('cancel the hold', async ({ page, server }) => {
      assert.ok(holdId, 'a hold was placed in the step before');
      await goto(page, '/account');
      const row = page.locator(`table#holds tr[data-hold-id="${holdId}"]`);
      await h.clickAndWait(page, row.locator('form.cancel-hold button, form.cancel-hold input[type=submit]').first());
      await h.expectFlash(page);
      await visited(page, 'account-hold-cancelled');
      assert.equal(await page.locator(`table#holds tr[data-hold-id="${holdId}"] form.cancel-hold`).count(), 0, 'the hold can no longer be cancelled');
      const token = await server.api.readerToken(reader.card, NEW_PASSWORD);
      const holds = (await server.api.get('/me/holds', { token, expect: 200 })).body.holds;
      assert.equal(holds.find((x) => String(x.id) === holdId).status, 'cancelled');
    });

    flow.step('My Info: register for an activity and cancel', async ({ page, server }) => {
      await goto(page, '/info', 'info');
      assert.ok((await page.locator('table#notices tr').count()) >= 2, 'the notices are listed');
      const rows = page.locator('table#activities tr[data-activity-id]');
      assert.ok((await rows.count()) >= 1, 'the activities are listed');
      const id = await rows.first().getAttribute('data-activity-id');
      const row = () => page.locator(`table#activities tr[data-activity-id="${id}"]`);
      await h.clickAndWait(page, row().locator('form.register button, form.register input[type=submit]').first());
      await h.expectFlash(page);
      await visited(page, 'info-registered');
      assert.equal(await row().locator('form.cancel-registration').count(), 1, 'registered: it can be cancelled');
      const token = await server.api.readerToken(reader.card, NEW_PASSWORD);
      const mine = (await server.api.get('/me/activities', { token, expect: 200 })).body.activities;
      assert.equal(mine.find((a) => String(a.id) === id)?.status, 'registered');
      await h.clickAndWait(page, row().locator('form.cancel-registration button, form.cancel-registration input[type=submit]').first());
      await h.expectFlash(page);
      assert.equal(await row().locator('form.register').count(), 1, 'cancelled: it can be registered again');
    });

    let settingsLanguage = null;
    flow.step('Settings: save channels; an email change needs the Password; change the PIN', async ({ page, server }) => {
      await goto(page, '/settings', 'settings');
      assert.ok((await page.locator('a[href="/password"]').count()) >= 1, 'a link to /password');
      settingsLanguage = await page.inputValue('form#settings select[name=language]');
      // Saved as shown, so that saving does not change the language of the pages.
      await page.locator('form#settings select[name=language]').selectOption(lang);
      await page.fill('form#settings input[name=sms_number]', '9123 4567');
      await page.locator('form#settings input[name=channel][value=sms]').check();
      await page.locator('form#settings input[name=channel][value=email]').check();
      await page.locator('form#settings input[name=keep_reading_history]').check();
      await h.submit(page, 'form#settings');
      await h.expectFlash(page);
      await goto(page, '/settings');
      assert.equal((await page.inputValue('form#settings input[name=sms_number]')).replace(/\D/g, ''), '91234567');
      assert.ok(await page.isChecked('form#settings input[name=channel][value=sms]'), 'SMS kept');

      // A new email without the Password is refused.
      await page.fill('form#settings input[name=email]', 'chan.new@example.com');
      await h.submit(page, 'form#settings');
      await visited(page, 'settings-error');
      const alert = await h.expectAlerts(page);
      text.words(alert, 'the settings error');
      await h.expectFieldError(page, 'current_password');
      const token = await server.api.readerToken(reader.card, NEW_PASSWORD);
      assert.equal((await server.api.get('/me/settings', { token, expect: 200 })).body.email, reader.email, 'nothing stored');

      await goto(page, '/settings');
      await page.fill('form#settings input[name=email]', 'chan.new@example.com');
      await page.fill('form#settings input[name=current_password]', NEW_PASSWORD);
      await h.submit(page, 'form#settings');
      await h.expectFlash(page);
      const settings = (await server.api.get('/me/settings', { token, expect: 200 })).body;
      assert.equal(settings.email, 'chan.new@example.com');
      assert.deepEqual([...settings.notification_channels].sort(), ['email', 'sms']);

      await goto(page, '/settings');
      await page.fill('form#change-pin input[name=password]', NEW_PASSWORD);
      await page.fill('form#change-pin input[name=new_pin]', '7391');
      await h.submit(page, 'form#change-pin');
      await h.expectFlash(page);
      await server.api.post('/auth/pin-login', { card_number: reader.card, pin: '7391' }, { expect: 200 });
    });

    flow.step('Settings show the language the pages are shown in', async () => {
      assert.equal(settingsLanguage, lang, `the pages are in ${lang}, select[name=language] says ${settingsLanguage}`);
    }, { usesPage: false });

    flow.step('the language switch is remembered after signing out and in', async ({ page }) => {
      const other = h.OTHER[lang];
      await goto(page, '/account');
      await h.switchLanguage(page);
      assert.equal(h.pathOf(page), '/account', 'the switch stays on the page');
      if (other === 'zh-Hant') TEXT['zh-Hant'].accountH1((await page.locator('h1').first().innerText()).trim());
      await h.signOut(page);
      assert.equal(h.pathOf(page), '/sign-in', 'signed out');
      await page.goto('/account');
      assert.equal(h.pathOf(page), '/sign-in', 'the session is over');
      await h.signIn(page, reader.card, NEW_PASSWORD);
      assert.equal(h.pathOf(page), '/account');
      await h.expectLanguage(page, other);
      await h.switchLanguage(page);
      await h.expectLanguage(page, lang);
    });

    flow.step('Ask a Librarian: the enquiry is sent and listed', async ({ page }) => {
      await goto(page, '/ask', 'ask');
      const subject = lang === 'en' ? 'Opening hours at Christmas' : '聖誕節開放時間';
      await page.fill('form#ask input[name=subject]', subject);
      await page.fill('form#ask textarea[name=message]', lang === 'en' ? 'Is the central library open on 26 December?\nThank you.' : '中央圖書館十二月二十六日開放嗎？');
      await page.locator('form#ask select[name=library]').selectOption('HKCL');
      await h.submit(page, 'form#ask');
      await h.expectFlash(page);
      await visited(page, 'ask-sent');
      const items = page.locator('#enquiries li');
      assert.ok((await items.count()) >= 1, 'the enquiry is listed');
      assert.ok((await page.locator('#enquiries').innerText()).includes(subject), 'by its subject');
    });

    flow.step('Libraries and Help', async ({ page }) => {
      await goto(page, '/libraries', 'libraries');
      assert.equal(await page.locator('table#libraries tr[data-library-code]').count(), 6, 'six libraries');
      const hk = (await page.locator('table#libraries tr[data-library-code="HKCL"]').innerText()).trim();
      const expected = lang === 'en' ? 'Hong Kong Central Library' : '香港中央圖書館';
      assert.ok(hk.includes(expected), `the library's name in the page's language (${expected}): ${hk}`);
      await goto(page, '/help', 'help');
      assert.ok((await page.locator('h1').first().innerText()).trim().length > 0);
      assert.ok((await page.locator('section.faq').count()) >= 1, 'questions and answers');
      await h.expectSignedInChrome(page);
    });

    if (axe) {
      flow.step('axe-core: no serious or critical violation on any page visited', async () => {
        assert.deepEqual(axeViolations, [], axeViolations.join('\n'));
      }, { usesPage: false });
    }

    if (js) {
      flow.step('no script error, CSP violation or failed resource', async ({ context }) => {
        assert.deepEqual(context.problems, [], context.problems.join('\n'));
      }, { usesPage: false });
    }
  });
}

module.exports = { mainFlows, TEXT, CJK };
