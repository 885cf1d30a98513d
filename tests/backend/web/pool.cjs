// The assessor pool's page in chromium (docs/jury.md §1, §5): a person applies and declares a
// relationship, signing with their wallet (the extension stand-in, key kept in Node); the
// institution's admin admits them (a first try below the published criteria is refused in
// words), suspends and reinstates; each page checked by axe-core and screenshotted in both
// languages. Prints one JSON object (texts read, results, the typed data signed).
//
// usage: node pool.cjs BASE_URL OUT_DIR '{"stranger": "0x…key", "admin": "0x…key", "seller": "0x…address"}'
'use strict';
const { account, axe, collectConsole, context, injectWallet, launch, loopbackOnly, run,
  signIn } = require('./driver.cjs');

async function person(browser, keyHex, lang, out, who) {
  const { key } = account(keyHex);
  const ctx = await context(browser, lang, { timezoneId: lang === 'en' ? 'Europe/London' : 'Asia/Shanghai' });
  await loopbackOnly(ctx, out.offLoopback);
  await injectWallet(ctx, key, { onTyped: (d) => out.typed.push({ who, type: d.primaryType,
    action: d.message.action }) });
  const page = collectConsole(await ctx.newPage(), out.console, who + ' ');
  return { ctx, page };
}

/** Submit a form of the page with the keyboard; its result, and the reload when it worked. */
async function submit(page, form) {
  await page.focus(form + ' button[type=submit]');
  const reloaded = page.waitForEvent('load', { timeout: 20000 }).catch(() => null);
  await page.keyboard.press('Enter');
  await page.waitForSelector(form + ' .result.ok, ' + form + ' .result.error', { timeout: 30000 });
  const result = { cls: await page.getAttribute(form + ' .result', 'class'),
    text: await page.locator(form + ' .result').innerText() };
  if (result.cls.includes('ok')) { await reloaded; await page.waitForLoadState('load'); }
  return result;
}

async function look(page, base, lang, png, out, name) {
  await page.goto(base + '/ui/pool?lang=' + lang);
  await page.waitForFunction(() => [...document.querySelectorAll('time')].every(
    (t) => t.textContent !== t.getAttribute('datetime')));
  out.axe[name] = await axe(page);
  if (png) { await page.screenshot({ path: png, fullPage: true }); }
  return page.locator('main').innerText();
}

async function main() {
  const [base, outDir, peopleJson] = process.argv.slice(2);
  const people = JSON.parse(peopleJson);
  const out = { console: [], typed: [], offLoopback: [], axe: {}, text: {}, results: {} };
  const browser = await launch();
  try {
    // the applicant, in English
    const s = await person(browser, people.stranger, 'en', out, 'stranger');
    await signIn(s.page, base, 'en');
    out.nav = await s.page.locator('nav.main a[data-nav=nav_pool]').innerText();
    out.text.apply = await look(s.page, base, 'en', outDir + '/pool-apply-en.png', out, 'apply');
    out.results.apply = await submit(s.page, '#pool-apply');
    await s.page.fill('#pool-declare-party', people.seller);
    await s.page.fill('#pool-declare-nature', 'former employer');
    out.results.declare = await submit(s.page, '#pool-declare');
    out.text.assessorEn = await look(s.page, base, 'en', outDir + '/pool-assessor-en.png', out,
      'assessorEn');

    // the institution's admin, in Chinese
    const a = await person(browser, people.admin, 'zh-Hans', out, 'admin');
    await signIn(a.page, base, 'zh-Hans');
    out.text.institutionBefore = await look(a.page, base, 'zh-Hans', null, out, 'institutionBefore');
    const admit = '#pool-decide-0 form[data-action="pool.admitted"]';
    await a.page.fill(admit + ' [name=accountAgeDays]', '400');
    await a.page.check(admit + ' [name=identityVerified]');
    await a.page.fill(admit + ' [name=standing]', '75');
    await a.page.fill(admit + ' [name=testScore]', '50');  // below the published 80
    out.results.admitLow = await submit(a.page, admit);
    await a.page.fill(admit + ' [name=testScore]', '101');  // not a score at all
    out.results.admitNotScore = await submit(a.page, admit);
    out.invalidField = await a.page.getAttribute(admit + ' [name=testScore]', 'aria-invalid');
    await a.page.fill(admit + ' [name=testScore]', '90');
    out.results.admit = await submit(a.page, admit);
    out.text.institutionZh = await look(a.page, base, 'zh-Hans',
      outDir + '/pool-institution-zh-Hans.png', out, 'institutionZh');
    const suspend = '#pool-decide-0 form[data-action="pool.suspended"]';
    await a.page.fill(suspend + ' [name=reason]', '未按时公开投票');
    out.results.suspend = await submit(a.page, suspend);
    out.text.suspended = await a.page.locator('#pool-table').innerText();
    out.results.reinstate = await submit(a.page,
      '#pool-decide-0 form[data-action="pool.reinstated"]');
    out.text.institutionEn = await look(a.page, base, 'en',
      outDir + '/pool-institution-en.png', out, 'institutionEn');

    // the assessor again, admitted, in Chinese
    out.text.assessorZh = await look(s.page, base, 'zh-Hans',
      outDir + '/pool-assessor-zh-Hans.png', out, 'assessorZh');
    out.text.applyZh = null;
    const c = await person(browser, people.buyer, 'zh-Hans', out, 'buyer');
    await signIn(c.page, base, 'zh-Hans');
    out.text.applyZh = await look(c.page, base, 'zh-Hans', outDir + '/pool-apply-zh-Hans.png',
      out, 'applyZh');
  } finally {
    await browser.close();
  }
  return out;
}

run(main);
