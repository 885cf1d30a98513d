// The case page keeps the receipts of what a party submits (receipts.js): the buyer
// uploads evidence and agrees to arbitrate through the page; each answer's receipt is kept
// in this browser (localStorage, under the address and the case) and listed in "Your
// receipts"; every receipt is downloaded as a file into OUT_DIR/downloads (the names the
// browser gives them); the section is shot in English and Chinese. Every request off
// loopback is aborted and counted; axe-core runs on the section.
//
// usage: node receipts.cjs BASE_URL CASE_ID KEY OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { account, axe, collectConsole, context, injectWallet, launch, loopbackOnly, run,
  signIn } = require('./driver.cjs');

async function submit(page, step) {
  const form = `form[data-step=${step}]`;
  await page.focus(form + ' button[type=submit]');
  await page.keyboard.press('Enter');
  const done = form + ' .result.ok, ' + form + ' .result.error';
  const confirm = form + ' .commitment:not([hidden]) .sign-commitment';
  await page.waitForSelector(done + ', ' + confirm, { timeout: 30000 });
  if (await page.locator(confirm).count()) {
    await page.click(confirm);
    await page.waitForSelector(done, { timeout: 30000 });
  }
  const result = { cls: await page.getAttribute(form + ' .result', 'class'),
    text: await page.locator(form + ' .result').innerText() };
  if (result.cls.includes('ok')) { await page.waitForEvent('load', { timeout: 10000 }); }
  return result;
}

async function rows(page) {
  await page.waitForSelector('#receipts-table:not([hidden]) tbody tr', { timeout: 10000 });
  return page.locator('#receipts-table tbody tr').evaluateAll((trs) => trs.map((tr) =>
    Array.from(tr.querySelectorAll('td')).map((td) => td.innerText.trim())));
}

async function main() {
  const [base, caseId, keyHex, outDir] = process.argv.slice(2);
  const { key, address } = account(keyHex);
  const browser = await launch();
  const out = { console: [], blocked: [], signed: [], typed: [] };
  const downloads = path.join(outDir, 'downloads');
  fs.mkdirSync(downloads, { recursive: true });
  try {
    const ctx = await context(browser, 'en', { timezoneId: 'America/New_York' });
    await loopbackOnly(ctx, out.blocked);
    await injectWallet(ctx, key, { onTyped: (d) => { out.signed.push(d.primaryType);
      out.typed.push(d); } });
    const sent = [];
    ctx.on('request', (r) => { if (r.postData() && r.postData().includes('chainarb.log-receipt')) {
      sent.push(r.method() + ' ' + r.url()); } });
    const page = collectConsole(await ctx.newPage(), out.console);
    await signIn(page, base, 'en');
    const url = base + '/ui/cases/' + caseId;
    await page.goto(url + '?lang=en');
    out.before = { none: await page.locator('#receipts-none').isVisible(),
      what: await page.locator('#receipts-what').innerText() };
    await page.selectOption('#step-evidence-kind', 'communication');
    await page.setInputFiles('#step-evidence-file', { name: 'chat.txt', mimeType: 'text/plain',
      buffer: Buffer.from('The seller wrote on 2 Nov: "no refunds".\n') });
    out.evidence = await submit(page, 'evidence');
    out.afterEvidence = await rows(page);
    out.agree = await submit(page, 'agree');
    out.rows = await rows(page);
    out.none = await page.locator('#receipts-none').isVisible();
    out.stored = await page.evaluate((k) => JSON.parse(localStorage.getItem(k) || '[]'),
      'chainarb.receipts:' + address.toLowerCase() + ':' + caseId.toLowerCase());
    out.otherKeys = await page.evaluate(() => Object.keys(localStorage).filter(
      (k) => k.startsWith('chainarb.receipts:')));
    out.axe = await axe(page);
    await page.locator('#receipts').screenshot({ path: path.join(outDir, 'receipts-en.png') });
    // "Download all": one file per receipt, as the browser saves them.
    const want = out.rows.length;
    const got = [];
    const each = new Promise((resolve) => {
      page.on('download', async (d) => {
        const name = d.suggestedFilename();
        await d.saveAs(path.join(downloads, name));
        got.push(name);
        if (got.length === want) { resolve(); }
      });
    });
    await page.click('#receipts-download-all');
    await Promise.race([each, new Promise((_, no) => setTimeout(
      () => no(new Error('downloads: ' + got.length + ' of ' + want)), 20000))]);
    out.downloaded = got.sort();
    // The same browser in Chinese: the same receipts, in words.
    await page.goto(url + '?lang=zh-Hans');
    out.rowsZh = await rows(page);
    out.titleZh = await page.locator('#receipts-h').innerText();
    out.whatZh = await page.locator('#receipts-what').innerText();
    await page.locator('#receipts').screenshot({ path: path.join(outDir, 'receipts-zh-Hans.png') });
    out.sent = sent;
  } finally {
    await browser.close();
  }
  return out;
}

run(main);
