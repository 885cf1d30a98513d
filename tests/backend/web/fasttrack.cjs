// The fast track through the case pages in chromium (docs/jury.md §9): a plan of acts, each
// by one person in one language on one case — "propose" (the mediator's form: the page
// fetches the report, checks its SHA-256 and the wallet signs the step with the report as
// its document), "object" (a party's form), "look" — each page read (the fast-track
// section, the stage, the forms), checked by axe-core and screenshotted. The wallet is the
// extension stand-in, its key kept in Node. Prints one JSON object: {acts: [...], console,
// offLoopback}.
//
// usage: node fasttrack.cjs BASE_URL '{"keys": {"mediator": "0x…"}, "acts": [{"who", "lang",
//   "case", "do", "png"}]}'
'use strict';
const { account, axe, collectConsole, context, injectWallet, launch, loopbackOnly, run,
  signIn } = require('./driver.cjs');

const FORMS = { propose: 'fast_track', object: 'fast_track_objection' };

async function read(page, out) {
  const section = page.locator('#fast-track');
  out.section = (await section.count()) ? await section.innerText() : null;
  out.state = (await section.count()) ? await section.getAttribute('data-state') : null;
  out.stage = await page.locator('#summary .stage').getAttribute('data-stage');
  out.stageText = await page.locator('#summary .stage').innerText();
  out.forms = await page.locator('#actions form[data-step]').evaluateAll(
    (fs) => fs.map((f) => f.dataset.step));
}

async function main() {
  const [base, planJson] = process.argv.slice(2);
  const plan = JSON.parse(planJson);
  const out = { acts: [], console: [], offLoopback: [], typed: [] };
  const browser = await launch();
  const pages = {};
  try {
    for (const act of plan.acts) {
      const id = act.who + ':' + act.lang;
      if (!pages[id]) {
        const { key } = account(plan.keys[act.who]);
        const ctx = await context(browser, act.lang, {
          timezoneId: act.lang === 'en' ? 'America/New_York' : 'Asia/Shanghai' });
        await loopbackOnly(ctx, out.offLoopback);
        await injectWallet(ctx, key, { onTyped: (d) => out.typed.push({ who: act.who,
          type: d.primaryType, action: d.message.action }) });
        pages[id] = collectConsole(await ctx.newPage(), out.console, act.who + ' ');
        await signIn(pages[id], base, act.lang);
      }
      const page = pages[id];
      const res = { who: act.who, lang: act.lang, do: act.do };
      await page.goto(base + '/ui/cases/' + act.case + '?lang=' + act.lang);
      await page.waitForFunction(() => [...document.querySelectorAll('time')].every(
        (t) => t.textContent !== t.getAttribute('datetime')));
      await read(page, res);
      res.axe = await axe(page);
      if (act.do === 'look') {
        if (act.png) { await page.screenshot({ path: act.png, fullPage: true }); }
      } else {
        const form = 'form[data-step=' + FORMS[act.do] + ']';
        if (act.png) {  // the page the person decides on, with the form
          await page.locator(form).scrollIntoViewIfNeeded();
          await page.screenshot({ path: act.png, fullPage: true });
        }
        await page.focus(form + ' button[type=submit]');
        const reloaded = page.waitForEvent('load', { timeout: 20000 }).catch(() => null);
        await page.keyboard.press('Enter');  // keyboard only
        await page.waitForSelector(form + ' .result.ok, ' + form + ' .result.error',
          { timeout: 30000 });
        res.result = { cls: await page.getAttribute(form + ' .result', 'class'),
          text: await page.locator(form + ' .result').innerText() };
        if (res.result.cls.includes('ok')) {
          await reloaded;
          await page.waitForLoadState('load');
          res.after = {};
          await read(page, res.after);
        }
      }
      out.acts.push(res);
    }
  } finally {
    await browser.close();
  }
  return out;
}

run(main);
