// One person takes one step through the case page in chromium: sign in with the wallet
// stand-in (key kept in Node), open the case, fill the form, submit, wait for the result.
// Prints one JSON object: the forms offered, the result, the stage after the reload, and
// the typed data the wallet signed. STEP "none": only look (forms) and probe.
// extra.probe: [{path, body}] posted from the page through /ui/api/ (as a script in the
// page could), each answered with {status, code}.
//
// usage: node act.cjs BASE_URL CASE_ID KEY LANG OUT_PNG STEP '{"fill": {...}, "file": {...}}'
'use strict';
const { account, collectConsole, context, injectWallet, launch, run, signIn } = require('./driver.cjs');

async function main() {
  const [base, caseId, keyHex, lang, png, step, extraJson] = process.argv.slice(2);
  const extra = JSON.parse(extraJson || '{}');
  const { key } = account(keyHex);
  const browser = await launch();
  const out = { console: [], signed: [], typed: [] };
  try {
    const ctx = await context(browser, lang, { locale: lang === 'en' ? 'en-US' : 'zh-CN',
      timezoneId: 'America/New_York', viewport: { width: 1100, height: 900 } });
    await injectWallet(ctx, key, { onTyped: (data) => { out.signed.push(data.primaryType);
      out.typed.push(data); } });
    const page = collectConsole(await ctx.newPage(), out.console);
    await signIn(page, base, lang);
    await page.goto(base + '/ui/cases/' + caseId + '?lang=' + lang);
    out.forms = await page.locator('#actions form[data-step]').evaluateAll(
      (fs) => fs.map((f) => f.dataset.step));
    out.headings = await page.locator('#actions form[data-step] h3').allInnerTexts();
    out.probes = [];
    for (const pr of extra.probe || []) {
      out.probes.push(await page.evaluate(async ({ path, body }) => {
        const r = await fetch('/ui/api/' + path, { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-Chainarb-UI': '1' },
          body: JSON.stringify(body) });
        let code = null;
        try { code = (await r.json()).code; } catch (e) { code = null; }
        return { status: r.status, code };
      }, pr));
    }
    if (step === 'none') {
      await page.screenshot({ path: png, fullPage: true });
    } else {
      await submit(page, step, extra, png, out);
    }
  } finally {
    await browser.close();
  }
  return out;
}

async function submit(page, step, extra, png, out) {
  {
    const form = `form[data-step=${step}]`;
    for (const [sel, value] of Object.entries(extra.fill || {})) {
      const tag = await page.$eval(sel, (e) => e.tagName);
      if (tag === 'SELECT') { await page.selectOption(sel, value); } else { await page.fill(sel, value); }
    }
    if (extra.file) {
      await page.setInputFiles(extra.file.selector, { name: extra.file.name,
        mimeType: extra.file.mime, buffer: Buffer.from(extra.file.content) });
    }
    // Keyboard only: focus the form's button and press Enter.
    await page.focus(form + ' button[type=submit]');
    await page.keyboard.press('Enter');
    await page.waitForSelector(form + ' .result.ok, ' + form + ' .result.error', { timeout: 30000 });
    out.result = { cls: await page.getAttribute(form + ' .result', 'class'),
      text: await page.locator(form + ' .result').innerText() };
    await page.screenshot({ path: png, fullPage: true });
    if (out.result.cls.includes('ok')) {
      await page.waitForEvent('load', { timeout: 10000 });
      out.stage = await page.locator('#summary .stage').getAttribute('data-stage');
      out.formsAfter = await page.locator('#actions form[data-step]').evaluateAll(
        (fs) => fs.map((f) => f.dataset.step));
    }
  }
}

run(main);
