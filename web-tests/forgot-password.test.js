'use strict';
// "Forgot Password": the same neutral message for any email; the temporary password
// arrives by mail through the local SMTP server; signing in with it leads to the forced
// change, and the new Password works.

const assert = require('node:assert/strict');
const { browserFlow } = require('./lib/flow');
const h = require('./lib/harness');

browserFlow('forgot Password (en, JavaScript)', { js: true }, (flow) => {
  const reader = h.READERS.chan;
  let neutral = null;
  let temporary = null;

  flow.step('the sign-in page links to /forgot-password', async ({ page }) => {
    await page.goto('/sign-in');
    await h.clickAndWait(page, page.locator('a[href="/forgot-password"]').first());
    assert.equal(h.pathOf(page), '/forgot-password');
    await h.expectLanguage(page, 'en');
    assert.equal(await page.locator('form#forgot input[name=email]').count(), 1);
  }, { critical: true });

  flow.step('an unknown email gets the neutral message', async ({ page }) => {
    await page.goto('/forgot-password');
    await page.fill('form#forgot input[name=email]', 'nobody.here@example.com');
    await h.submit(page, 'form#forgot');
    neutral = await h.expectFlash(page);
  });

  flow.step("a reader's email gets the same message", async ({ page }) => {
    await page.goto('/forgot-password');
    await page.fill('form#forgot input[name=email]', reader.email);
    await h.submit(page, 'form#forgot');
    const text = await h.expectFlash(page);
    if (neutral !== null) assert.equal(text, neutral, 'the message does not tell whether the email is known');
  }, { critical: true });

  flow.step('the temporary password arrives by mail', async ({ server }) => {
    const mail = await h.waitForMail(server, reader.email, /\n {4}\S+\r?\n/);
    assert.match(mail.subject, /temporary/i);
    temporary = mail.body.match(/\n {4}(\S+)\r?\n/)[1];
    assert.ok(temporary.length >= 8, `a temporary password: ${temporary}`);
    const toNobody = server.mail.messages().filter((m) => m.to.includes('nobody.here@example.com'));
    assert.equal(toNobody.length, 0, 'nothing is sent to an unknown email');
  }, { critical: true });

  flow.step('signing in with it leads to the forced change', async ({ page }) => {
    // Tried again after a renderer crash, the step finds the session it signed in with
    // (the temporary password works once).
    await page.goto('/password');
    if (h.pathOf(page) !== '/password') {
      await h.signIn(page, reader.card, temporary);
      assert.equal(h.pathOf(page), '/password');
    }
    await page.fill('form#change-password input[name=current_password]', temporary);
    await page.fill('form#change-password input[name=new_password]', h.NEW_PASSWORD);
    await page.fill('form#change-password input[name=confirm_password]', h.NEW_PASSWORD);
    await h.submit(page, 'form#change-password');
    assert.equal(h.pathOf(page), '/account');
    await h.expectFlash(page);
  }, { critical: true });

  flow.step('the new Password works, the temporary one no longer', async ({ page, server }) => {
    await h.signOut(page);
    assert.equal(h.pathOf(page), '/sign-in');
    await h.signIn(page, reader.card, temporary);
    assert.equal(h.pathOf(page), '/sign-in', 'the temporary password worked once');
    await h.expectAlerts(page);
    await h.signIn(page, reader.card, h.NEW_PASSWORD);
    assert.equal(h.pathOf(page), '/account');
    await server.api.readerToken(reader.card, h.NEW_PASSWORD);
  });

  flow.step('no script error, CSP violation or failed resource', async ({ context }) => {
    assert.deepEqual(context.problems, [], context.problems.join('\n'));
  }, { usesPage: false });
});
