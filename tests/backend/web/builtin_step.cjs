// A step of a case signed on the case page with the built-in wallet (简体中文): the person
// restores their key from a keystore v3 file made elsewhere (eth-account), signs in, opens
// the case and makes a settlement offer; the wallet's prompt shows the offer in words and
// the page posts the signed record. No extension, no window.ethereum. Prints one JSON object.
//
// usage: node builtin_step.cjs BASE_URL CASE_ID KEYSTORE_PATH PASSPHRASE OUT_DIR
'use strict';
const path = require('path');
const { launch } = require('./driver.cjs');

async function main() {
  const [base, caseId, keystorePath, passphrase, outDir] = process.argv.slice(2);
  const out = { console: [] };
  const browser = await launch();
  try {
    const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
      viewport: { width: 1100, height: 900 } });
    await context.addInitScript(() => { delete window.ethereum; });
    const p = await context.newPage();
    p.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    p.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    await p.goto(base + '/ui/sign-in?lang=zh-Hans');
    await p.setInputFiles('#restore-file', keystorePath);
    await p.fill('#restore-passphrase', passphrase);
    await p.click('#restore-button');
    await p.waitForSelector('#wallet-prompt[open]', { timeout: 60000 });
    await Promise.all([p.waitForURL('**/ui/cases?lang=zh-Hans', { timeout: 30000 }),
      p.click('#wallet-prompt-sign')]);
    await p.goto(base + '/ui/cases/' + caseId + '?lang=zh-Hans');
    await p.fill('#step-offer-toBuyer', '100.5');
    await p.fill('#step-offer-compensation', '0');
    await p.click('#step-offer button[type=submit]');
    // One prompt per record to sign (the offer, and the settlement it would become).
    out.prompts = [];
    for (;;) {
      await p.waitForSelector('#wallet-prompt[open], #step-offer .result.ok, #step-offer .result.error',
        { timeout: 30000 });
      if (!(await p.locator('#wallet-prompt[open]').count())) { break; }
      out.prompts.push({
        what: await p.locator('#wallet-prompt-what').innerText(),
        rows: await p.locator('#wallet-prompt table.wallet-fields tr').evaluateAll(
          (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[1].innerText])),
      });
      if (out.prompts.length === 1) {
        // Names, not addresses: each address the page knows is shown as the person's name
        // and seats, the address one click away (a disclosure).
        const first = out.prompts[0];
        first.named = await p.locator('#wallet-prompt details.wallet-address summary').allInnerTexts();
        first.addressHiddenBefore = await p.locator('#wallet-prompt details.wallet-address code')
          .first().isHidden();
        first.signer = await p.locator('#wallet-prompt-signer summary').innerText();
        await p.screenshot({ path: path.join(outDir, 'prompt-offer-zh.png') });
        await p.click('#wallet-prompt table.wallet-fields details.wallet-address summary');
        first.addressShown = await p.locator(
          '#wallet-prompt table.wallet-fields details.wallet-address code').innerText();
        await p.click('#wallet-prompt-signer summary');
        first.signerAddress = await p.locator('#wallet-prompt-signer code').innerText();
        await p.screenshot({ path: path.join(outDir, 'prompt-offer-address-zh.png') });
      }
      const dialog = await p.$('#wallet-prompt');
      await p.click('#wallet-prompt-sign');
      await dialog.waitForElementState('hidden');  // this one closed (another may open)
    }
    out.result = { cls: await p.getAttribute('#step-offer .result', 'class'),
      text: await p.locator('#step-offer .result').innerText() };
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
