// What a buyer sees of a case paid in an 18-decimal token, in English and in Chinese, kept as
// screenshots (docs/portal/screenshots with CHAINARB_KEEP_SCREENSHOTS=1): the case page
// (amounts and labels in DAI), an offer with more decimals than DAI has (refused in words),
// and the built-in wallet's signing prompt naming the people (the addresses opened one
// click away). axe-core runs on the prompt with its disclosures open. Prints one JSON object.
//
// usage: node screens.cjs BASE_URL CASE_ID KEY KEYSTORE_PATH PASSPHRASE OUT_DIR
'use strict';
const path = require('path');
const d = require('./driver.cjs');

async function main() {
  const [base, caseId, keyHex, keystorePath, passphrase, outDir] = process.argv.slice(2);
  const out = { console: [], blocked: [] };
  const browser = await d.launch();
  try {
    for (const lang of ['en', 'zh-Hans']) {
      const seen = out[lang] = {};
      // The case page and a refused offer, with an extension wallet.
      const ctx = await d.context(browser, lang);
      await d.loopbackOnly(ctx, out.blocked);
      await d.injectWallet(ctx, d.account(keyHex).key);
      const page = d.collectConsole(await ctx.newPage(), out.console, lang + ' ');
      await d.signIn(page, base, lang);
      await page.goto(`${base}/ui/cases/${caseId}?lang=${lang}`);
      await page.screenshot({ path: path.join(outDir, `token-case-${lang}.png`) });
      await page.fill('#step-offer-toBuyer', '1.0000000000000000001');
      await page.click('#step-offer button[type=submit]');
      await page.waitForSelector('#step-offer .result.error');
      seen.refused = await page.locator('#step-offer .result').innerText();
      await page.locator('#step-offer').screenshot({
        path: path.join(outDir, `token-offer-refused-${lang}.png`) });
      await ctx.close();
      // The built-in wallet (restored from its recovery file) signs an offer: the prompt.
      const b = await d.context(browser, lang, { viewport: { width: 1100, height: 900 } });
      await d.loopbackOnly(b, out.blocked);
      await b.addInitScript(() => { delete window.ethereum; });
      const p = d.collectConsole(await b.newPage(), out.console, lang + ' ');
      await p.goto(`${base}/ui/sign-in?lang=${lang}`);
      await p.setInputFiles('#restore-file', keystorePath);
      await p.fill('#restore-passphrase', passphrase);
      await p.click('#restore-button');
      await p.waitForSelector('#wallet-prompt[open]', { timeout: 60000 });
      await Promise.all([p.waitForURL('**/ui/cases?lang=' + lang, { timeout: 30000 }),
        p.click('#wallet-prompt-sign')]);
      await p.goto(`${base}/ui/cases/${caseId}?lang=${lang}`);
      await p.fill('#step-offer-toBuyer', '1234.5');
      await p.fill('#step-offer-compensation', '0.000000000000000001');
      await p.click('#step-offer button[type=submit]');
      await p.waitForSelector('#wallet-prompt[open]', { timeout: 30000 });
      seen.rows = await p.locator('#wallet-prompt table.wallet-fields tr').evaluateAll(
        (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[1].innerText]));
      await p.click('#wallet-prompt table.wallet-fields details.wallet-address summary');
      await p.click('#wallet-prompt-signer summary');
      seen.addresses = await p.locator('#wallet-prompt details.wallet-address code').allInnerTexts();
      seen.axe = await d.axe(p);
      await p.screenshot({ path: path.join(outDir, `token-prompt-${lang}.png`) });
      await p.click('#wallet-prompt-cancel');
      await b.close();
    }
  } finally {
    await browser.close();
  }
  return out;
}

d.run(main);
