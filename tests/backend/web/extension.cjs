// Extension wallets in chromium: two EIP-1193 stand-ins announced by EIP-6963 (no
// window.ethereum): the sign-in page offers a chooser; the person picks the second, signs in,
// and chainarbWallet sends every request (typed data, transaction) to that one only.
// Then a page with only a plain window.ethereum signs in as before.
// Keys stay in Node (@metamask/eth-sig-util). Prints one JSON object.
//
// usage: node extension.cjs BASE_URL KEY_HEX OUT_DIR
'use strict';
const path = require('path');
const { launch } = require('./driver.cjs');
const sigUtil = require('@metamask/eth-sig-util');
const { privateToAddress } = require('@ethereumjs/util');

async function main() {
  const [base, keyHex, outDir] = process.argv.slice(2);
  const key = Buffer.from(keyHex.replace(/^0x/, ''), 'hex');
  const address = '0x' + Buffer.from(privateToAddress(key)).toString('hex');
  const out = { console: [], requests: [], switches: [] };
  const state = { chainId: '0x1', refuseSwitch: false };
  const browser = await launch();
  try {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1100, height: 900 } });
    await context.exposeFunction('__walletRequest', async (which, method, params) => {
      out.requests.push(which + ' ' + method);
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') { return [address]; }
      if (method === 'personal_sign') { return sigUtil.personalSign({ privateKey: key, data: params[0] }); }
      if (method === 'eth_signTypedData_v4') {
        return sigUtil.signTypedData({ privateKey: key, data: JSON.parse(params[1]),
          version: sigUtil.SignTypedDataVersion.V4 });
      }
      if (method === 'eth_sendTransaction') { out.sent = params[0]; return '0x' + 'ab'.repeat(32); }
      if (method === 'eth_chainId') { return state.chainId; }
      if (method === 'wallet_switchEthereumChain') {
        out.switches.push(params[0].chainId);
        if (state.refuseSwitch) { throw new Error('User rejected the request.'); }
        state.chainId = params[0].chainId;
        return null;
      }
      throw new Error('unsupported ' + method);
    });
    await context.addInitScript(() => {
      delete window.ethereum;
      const wallets = [['Alpha Wallet', 'org.example.alpha'], ['Beta Wallet', 'org.example.beta']];
      const announce = () => wallets.forEach(([name, rdns], i) => {
        const provider = { request: ({ method, params }) => window.__walletRequest(rdns, method, params || []) };
        window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({
          info: { uuid: '00000000-0000-4000-8000-00000000000' + i, name, rdns,
            icon: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg"/>' },
          provider }) }));
      });
      window.addEventListener('eip6963:requestProvider', announce);
      announce();
    });
    const page = await context.newPage();
    page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    await page.goto(base + '/ui/sign-in?lang=en');
    out.kind = await page.evaluate(() => window.chainarbWallet.kind());
    out.needsChoice = await page.evaluate(() => window.chainarbWallet.extension.needsChoice());
    out.choiceShown = await page.locator('#extension-choice').isVisible();
    out.choices = await page.locator('#extension-list label').allInnerTexts();
    await page.screenshot({ path: path.join(outDir, 'sign-in-extensions-en.png'), fullPage: true });
    await page.getByLabel('Beta Wallet (org.example.beta)').check();
    await Promise.all([page.waitForURL('**/ui/cases?lang=en', { timeout: 20000 }),
      page.click('#sign-in')]);
    out.cases = await page.locator('#cases tbody tr').count();
    const typed = { types: { EIP712Domain: [{ name: 'name', type: 'string' }],
      Note: [{ name: 'text', type: 'string' }] }, primaryType: 'Note',
    domain: { name: 'x' }, message: { text: 'hi' } };
    out.typedSignature = await page.evaluate((t) => window.chainarbWallet.signTypedData(t), typed);
    out.typedExpected = sigUtil.signTypedData({ privateKey: key, data: typed,
      version: sigUtil.SignTypedDataVersion.V4 });
    out.txHash = await page.evaluate(() => window.chainarbWallet.sendTransaction(
      { to: '0x4242424242424242424242424242424242424242', data: '0x01', value: 5 }));
    out.address = address;
    state.chainId = '0x5'; state.refuseSwitch = true;
    out.wrongChain = await page.evaluate(() => window.chainarbWallet.sendTransaction(
      { to: '0x4242424242424242424242424242424242424242' }).then(() => 'sent', (e) => e.code));

    // A plain window.ethereum and nothing announced: still works.
    const plain = await browser.newContext({ locale: 'en-GB' });
    await plain.exposeFunction('__plainRequest', async (method, params) => {
      out.requests.push('plain ' + method);
      if (method === 'eth_requestAccounts') { return [address]; }
      if (method === 'personal_sign') { return sigUtil.personalSign({ privateKey: key, data: params[0] }); }
      throw new Error('unsupported ' + method);
    });
    await plain.addInitScript(() => {
      window.ethereum = { request: ({ method, params }) => window.__plainRequest(method, params || []) };
    });
    const p2 = await plain.newPage();
    await p2.goto(base + '/ui/sign-in?lang=en');
    out.plainKind = await p2.evaluate(() => window.chainarbWallet.kind());
    out.plainChoiceShown = await p2.locator('#extension-choice').isVisible();
    await Promise.all([p2.waitForURL('**/ui/cases?lang=en', { timeout: 20000 }), p2.click('#sign-in')]);
    out.plainSignedIn = true;
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
