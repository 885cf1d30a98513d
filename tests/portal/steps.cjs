// What a person does in the pages, one function per step, shared by the scenarios. Each
// step goes through the pages only (clicks, fields, files) and checks every page reached.
'use strict';

/** Sign in with the extension wallet from the sign-in page; lands on the case list. */
async function signInExtension(p, opts = {}) {
  await p.visit('/ui/sign-in', { shot: opts.shot });
  const title = await p.text('h1');
  await Promise.all([p.page.waitForURL('**/ui/cases?lang=' + p.lang, { timeout: 30000 }),
    p.page.click('#sign-in')]);
  await p.check();
  return { title };
}

/** Fill in and sign one's profile on /ui/profile; the page's result line. */
async function signProfile(p, profile, opts = {}) {
  await p.visit('/ui/profile');
  const fields = { '#profile-name': profile.name, '#profile-name-zh': profile.nameZh,
    '#profile-country': profile.country, '#profile-contact': profile.contact };
  for (const [sel, value] of Object.entries(fields)) {
    if (value !== undefined) { await p.page.fill(sel, value); }
  }
  if (profile.language) { await p.page.selectOption('#profile-language', profile.language); }
  await p.page.click('#profile-sign');
  await p.page.waitForSelector('#profile-result.ok, #profile-result.error', { timeout: 30000 });
  const result = { cls: await p.page.getAttribute('#profile-result', 'class'),
    text: await p.text('#profile-result') };
  if (result.cls.includes('ok')) { await p.page.waitForEvent('load', { timeout: 10000 }); }
  result.current = await p.text('#profile-current');
  await p.check({ shot: opts.shot });
  return result;
}

/**
 * One step on the case page: open the case, fill the step's form (fields by selector,
 * files by selector), submit it with the keyboard, wait for the page's verdict and, when
 * it is done, for the page to reload. Returns {ok, text, stage, formsAfter}.
 * opts.form: the form's selector when there are several of one step (accept-0 …).
 */
async function act(p, caseId, step, opts = {}) {
  const page = p.page;
  await p.visit(`/ui/cases/${caseId}`);  // afresh: the others have moved the case since
  const form = opts.form || `form[data-step=${step}]`;
  await page.waitForSelector(form, { timeout: 15000 });
  for (const [sel, value] of Object.entries(opts.fill || {})) {
    if ((await page.locator(sel).evaluate((e) => e.tagName)) === 'SELECT') {
      await page.selectOption(sel, value);
    } else {
      await page.fill(sel, value);
    }
  }
  for (const [sel, file] of Object.entries(opts.files || {})) {
    await page.setInputFiles(sel, { name: file.name, mimeType: file.mime,
      buffer: Buffer.from(file.content, file.base64 ? 'base64' : 'utf8') });
  }
  await page.focus(form + ' button[type=submit]');
  const reloaded = page.waitForEvent('load', { timeout: 40000 }).catch(() => null);
  await page.keyboard.press('Enter');
  await page.waitForSelector(form + ' .result.ok, ' + form + ' .result.error', { timeout: 40000 });
  const out = { step, ok: (await page.getAttribute(form + ' .result', 'class')).includes('ok'),
    text: await page.locator(form + ' .result').innerText() };
  if (opts.shot) { await p.shot(opts.shot); }
  if (!out.ok) { throw new Error(`${p.name}: step ${step} refused: ${out.text}`); }
  await reloaded;
  await p.check();
  out.stage = await page.locator('#summary .stage').getAttribute('data-stage');
  out.formsAfter = await page.locator('#actions form[data-step]').evaluateAll(
    (fs) => fs.map((f) => f.dataset.step));
  return out;
}

/** The stage the case page shows now (reloaded). */
async function stageOf(p, caseId) {
  await p.visit(`/ui/cases/${caseId}`);
  return p.page.locator('#summary .stage').getAttribute('data-stage');
}

/** Reload the case page until its stage is `want` (the service's ticks move it). */
async function waitStage(p, caseId, want, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  let stage = null;
  while (Date.now() < until) {
    stage = await stageOf(p, caseId);
    if (stage === want) { return stage; }
    await p.page.waitForTimeout(1000);
  }
  throw new Error(`${p.name}: case stage ${stage}, waited for ${want}`);
}

module.exports = { act, signInExtension, signProfile, stageOf, waitStage };
