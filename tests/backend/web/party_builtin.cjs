// A buyer with no extension at all (the built-in wallet, 简体中文): makes a wallet on the
// sign-in page, keeps its recovery file, signs in; pays an order into the escrow on anvil
// from that address (anvil's impersonation stands in for the checkout); then, only through
// the pages: the order listed, the claim filed and signed in the wallet's prompt, and the
// escrow frozen with the wallet's own transaction, signed in the page and sent through the
// service's chain relay. Prints one JSON object.
//
// usage: node party_builtin.cjs BASE_URL ANVIL_URL ESCROW OPEN_ORDER_DATA AMOUNT_WEI OUT_DIR
'use strict';
const path = require('path');
const { launch } = require('./driver.cjs');

async function rpc(url, method, params) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = await r.json();
  if (body.error) { throw new Error(method + ': ' + JSON.stringify(body.error)); }
  return body.result;
}

async function mined(url, hash) {
  for (let i = 0; i < 100; i++) {
    const receipt = await rpc(url, 'eth_getTransactionReceipt', [hash]);
    if (receipt) { return receipt; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('not mined: ' + hash);
}

async function main() {
  const [base, anvil, escrow, openData, amount, outDir] = process.argv.slice(2);
  const out = { console: [], external: [] };
  const browser = await launch();
  try {
    const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
      viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    await context.addInitScript(() => { delete window.ethereum; });
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' || u.protocol === 'data:' || u.protocol === 'blob:') {
        return route.continue();
      }
      out.external.push(route.request().url());
      return route.abort();
    });
    const p = await context.newPage();
    p.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    p.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    const sign = async () => {  // the built-in wallet's prompt: what it shows, then sign
      await p.waitForSelector('#wallet-prompt[open]', { timeout: 30000 });
      const what = await p.locator('#wallet-prompt-title').innerText() + ' | ' +
        await p.locator('#wallet-prompt-what').innerText();
      await p.click('#wallet-prompt-sign');
      return what;
    };

    // 1. A new wallet and its recovery file; signing in through the prompt.
    await p.goto(base + '/ui/sign-in?lang=zh-Hans');
    await p.fill('#new-passphrase', 'correct horse battery staple 42');
    await p.fill('#new-passphrase2', 'correct horse battery staple 42');
    await p.click('#create-button');
    await p.waitForSelector('#recovery-step:not([hidden])', { timeout: 60000 });
    const [download] = await Promise.all([p.waitForEvent('download'), p.click('#download-recovery')]);
    await download.saveAs(path.join(outDir, download.suggestedFilename()));
    await p.click('#continue-button');
    await Promise.all([p.waitForURL('**/ui/cases?lang=zh-Hans', { timeout: 30000 }), sign()]);
    out.address = await p.evaluate(() => window.chainarbWallet.address());
    out.kind = await p.evaluate(() => window.chainarbWallet.kind());

    // 2. The checkout (outside the pages): the order paid from this address, and gas.
    await rpc(anvil, 'anvil_setBalance', [out.address, '0x' + (10n ** 20n).toString(16)]);
    await rpc(anvil, 'anvil_impersonateAccount', [out.address]);
    const paid = await rpc(anvil, 'eth_sendTransaction', [{ from: out.address, to: escrow,
      data: openData, value: '0x' + BigInt(amount).toString(16) }]);
    out.paidStatus = (await mined(anvil, paid)).status;
    await rpc(anvil, 'anvil_stopImpersonatingAccount', [out.address]);

    // 3. The pages: orders, the claim, the freeze.
    await p.click('a[data-nav="nav_orders"]');
    await p.waitForSelector('#orders-table button.claim');
    out.orderRow = await p.locator('#orders-table tbody tr').first().innerText();
    await Promise.all([p.waitForURL('**/ui/cases/**', { timeout: 20000 }),
      p.click('#orders-table button.claim')]);
    await p.waitForSelector('form[data-step=file]');
    await p.selectOption('#step-file-disputeType', 'not_as_described');
    await p.selectOption('#step-file-remedy', 'partial_refund');
    await p.fill('#step-file-claimedAmount', '0.25');  // of the 1 ETH escrowed (18 decimals)
    await p.fill('#step-file-statement', '货物破损。The goods arrived broken.');
    await p.click('form[data-step=file] button[type=submit]');
    try {
      out.filingPrompt = await sign();
    } catch (e) {  // say what the form said instead
      throw new Error('no prompt; the form says: ' +
        await p.locator('form[data-step=file] .result').innerText());
    }
    await p.waitForSelector('#wallet-transactions button.send-tx', { timeout: 30000 });
    await p.click('#wallet-transactions button.send-tx');
    out.txPrompt = await sign();
    await p.waitForSelector('#wallet-transactions .result.ok, #wallet-transactions .result.error',
      { timeout: 60000 });
    out.txResult = await p.locator('#wallet-transactions .result').innerText();
    out.txHash = await p.locator('#wallet-transactions .result').getAttribute('data-tx');
    out.freezeStatus = (await mined(anvil, out.txHash)).status;
    await p.screenshot({ path: path.join(outDir, 'builtin-freeze-zh.png'), fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
