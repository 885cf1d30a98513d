// A buyer carries a claim through the pages in chromium: sign in (wallet stand-in, key kept
// in Node), the orders page, "File a claim", the filing form with a first photo (upload
// progress, the commitment shown and checked before signing), the freeze sent from the
// wallet (eth_sendTransaction, recorded here: the test's escrow is in memory), then an
// evidence item read in the page. Screenshots of each page in LANG.
// Prints one JSON object.
//
// usage: node party.cjs BASE_URL KEY LANG OUT_DIR ORDER_ID PHOTO_PATH CASE_ID/evidence/REF|-
// With CHAIN_RPC set, eth_sendTransaction is signed and sent to that node for real.
// WALLET_CHAIN: the chain id the wallet reports; OTHER_CHAIN: first report this one (the
// page must ask the wallet to switch: refused once, then accepted). EIP6963=1: the wallet is
// only announced by EIP-6963 (no window.ethereum), as most extensions are now.
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');
const sigUtil = require('@metamask/eth-sig-util');
const { privateToAddress } = require('@ethereumjs/util');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now. */
async function axe(page, name, out) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact,
        nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  for (const v of found) { out.axe.push(Object.assign({ page: name }, v)); }
}

async function main() {
  const [base, keyHex, lang, outDir, orderId, photoPath, textRef] = process.argv.slice(2);
  const key = Buffer.from(keyHex.replace(/^0x/, ''), 'hex');
  const address = '0x' + Buffer.from(privateToAddress(key)).toString('hex');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const out = { console: [], signed: [], sent: [], external: [], axe: [], switches: [] };
  try {
    const context = await browser.newContext({ locale: lang === 'en' ? 'en-US' : 'zh-CN',
      timezoneId: 'Asia/Shanghai', viewport: { width: 1200, height: 900 } });
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' || u.protocol === 'data:' || u.protocol === 'blob:') {
        return route.continue();
      }
      out.external.push(route.request().url());
      return route.abort();
    });
    await context.exposeFunction('__walletRequest', async (method, params) => {
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') { return [address]; }
      if (method === 'personal_sign') { return sigUtil.personalSign({ privateKey: key, data: params[0] }); }
      if (method === 'eth_signTypedData_v4') {
        const data = JSON.parse(params[1]);
        out.signed.push(data.primaryType === 'ProceduralStep' ? data.message.action : data.primaryType);
        return sigUtil.signTypedData({ privateKey: key, data, version: sigUtil.SignTypedDataVersion.V4 });
      }
      if (method === 'eth_chainId') {  // WALLET_CHAIN: the network the wallet is on
        out.chainAsked = true;
        return '0x' + BigInt(process.env.WALLET_CHAIN).toString(16);
      }
      if (method === 'wallet_switchEthereumChain') {
        out.switches.push(params[0].chainId);
        if (process.env.SWITCH_REFUSE === '1') {
          const e = new Error('User rejected the request.'); e.code = 4001; throw e;
        }
        process.env.WALLET_CHAIN = BigInt(params[0].chainId).toString();
        return null;
      }
      if (method === 'eth_sendTransaction') {
        out.sent.push(params[0]);
        if (!process.env.CHAIN_RPC) { return '0x' + 'ab'.repeat(32); }
        // A real chain: the wallet signs and sends it there, and waits for its receipt.
        const { ethers } = require('ethers');
        const wallet = new ethers.Wallet('0x' + key.toString('hex'),
          new ethers.JsonRpcProvider(process.env.CHAIN_RPC));
        const p = params[0];
        const sent = await wallet.sendTransaction({ to: p.to, data: p.data, value: BigInt(p.value) });
        out.receiptStatus = (await sent.wait()).status;
        return sent.hash;
      }
      throw new Error('unsupported ' + method);
    });
    await context.addInitScript((eip6963) => {
      const provider = { request: ({ method, params }) => window.__walletRequest(method, params || []) };
      if (!eip6963) { window.ethereum = provider; return; }
      delete window.ethereum;
      const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', {
        detail: Object.freeze({ info: { uuid: '00000000-0000-4000-8000-000000006963',
          name: 'Test Wallet', rdns: 'org.example.test',
          icon: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg"/>' }, provider }) }));
      window.addEventListener('eip6963:requestProvider', announce);
      announce();
    }, process.env.EIP6963 === '1');
    out.eip6963 = process.env.EIP6963 === '1';
    const page = await context.newPage();
    page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    await page.goto(base + '/ui/sign-in?lang=' + lang);
    await Promise.all([page.waitForURL('**/ui/cases?lang=' + lang, { timeout: 20000 }),
      page.click('#sign-in')]);

    // 1. The orders page, reached through the nav.
    await page.click('a[data-nav="nav_orders"]');
    await page.waitForSelector('#orders-table');
    out.orders = await page.locator('#orders-table tbody tr').evaluateAll((rows) =>
      rows.map((r) => ({ order: r.dataset.order,
        cells: Array.from(r.querySelectorAll('td')).map((c) => c.innerText.trim()) })));
    out.countdowns = await page.locator('#orders-table .countdown').allInnerTexts();
    await page.screenshot({ path: `${outDir}/orders-${lang}.png`, fullPage: true });
    await axe(page, 'orders', out);

    // 2. File a claim: the order's case opens and its page shows the filing form.
    await Promise.all([page.waitForURL('**/ui/cases/**', { timeout: 20000 }),
      page.click(`#claim-${orderId}`)]);
    await page.waitForSelector('form[data-step=file]');
    out.caseUrl = page.url();
    out.disputeOptions = await page.locator('#step-file-disputeType option').allInnerTexts();
    out.remedyOptions = await page.locator('#step-file-remedy option').allInnerTexts();
    await page.selectOption('#step-file-disputeType', 'not_as_described');
    await page.selectOption('#step-file-remedy', 'partial_refund');
    await page.fill('#step-file-claimedAmount', '120.5');
    await page.fill('#step-file-statement', 'The LED panels arrived cracked; 12 of 40 unusable.');
    await page.selectOption('#step-file-kind', 'photo');
    await page.setInputFiles('#step-file-file', photoPath);
    await page.screenshot({ path: `${outDir}/claim-form-${lang}.png`, fullPage: true });
    await axe(page, 'claim-form', out);
    await page.click('form[data-step=file] button[type=submit]');
    await page.waitForSelector('form[data-step=file] .commitment:not([hidden])', { timeout: 30000 });
    out.progress = await page.locator('#step-file-progress').evaluate((p) => p.value);
    out.commitmentShown = await page.locator('form[data-step=file] .commitment-value').innerText();
    out.signedBeforeConfirm = out.signed.slice();
    await page.screenshot({ path: `${outDir}/claim-commitment-${lang}.png`, fullPage: true });
    await Promise.all([page.waitForEvent('load', { timeout: 30000 }),
      page.click('form[data-step=file] .sign-commitment')]);
    await page.waitForSelector('#wallet-transactions');
    out.stage = await page.locator('#summary .stage').innerText();
    out.walletText = await page.locator('#wallet-transactions li p').first().innerText();
    if (process.env.OTHER_CHAIN) {
      // On another network, the switch refused: refused in words, nothing sent.
      process.env.WALLET_CHAIN = process.env.OTHER_CHAIN;
      process.env.SWITCH_REFUSE = '1';
      await page.click('#wallet-transactions button.send-tx');
      await page.waitForSelector('#wallet-transactions .result.error');
      out.wrongChain = await page.locator('#wallet-transactions .result.error').innerText();
      out.sentOnWrongChain = out.sent.length;
      await page.screenshot({ path: `${outDir}/case-wrong-chain-${lang}.png`, fullPage: true });
      // Still there, the switch accepted: the call goes out on the escrow's chain.
      process.env.SWITCH_REFUSE = '0';
    }
    await page.click('#wallet-transactions button.send-tx');
    await page.waitForSelector('#wallet-transactions .result.ok');
    out.walletResult = await page.locator('#wallet-transactions .result.ok').innerText();
    await page.screenshot({ path: `${outDir}/case-wallet-${lang}.png`, fullPage: true });
    await axe(page, 'case-wallet', out);
    out.openLinks = await page.locator('#evidence a.open-evidence').count();

    // 3. Read evidence in the page: the photo just uploaded, then a text item ('-': none).
    await Promise.all([page.waitForURL('**/evidence/**'),
      page.click('#evidence a.open-evidence >> nth=0')]);
    await page.waitForSelector('#evidence-check.ok, #evidence-check.error', { timeout: 20000 });
    out.photo = { check: await page.locator('#evidence-check').getAttribute('data-checked'),
      shown: await page.locator('#evidence-image').count(),
      width: await page.locator('#evidence-image').evaluate((i) => i.naturalWidth),
      download: await page.locator('#evidence-download').getAttribute('download') };
    await page.screenshot({ path: `${outDir}/evidence-photo-${lang}.png`, fullPage: true });
    await axe(page, 'evidence-photo', out);
    // The statement of claim is the filing's document: listed on the case page, read here.
    await Promise.all([page.waitForURL('**/ui/cases/*'), page.click('#evidence-back')]);
    out.documents = await page.locator('#documents tbody tr td:first-child').allInnerTexts();
    await Promise.all([page.waitForURL('**/documents/**'),
      page.click('#documents a.open-document >> nth=0')]);
    await page.waitForSelector('#evidence-check.ok, #evidence-check.error', { timeout: 20000 });
    out.statement = { check: await page.locator('#evidence-check').getAttribute('data-checked'),
      text: await page.locator('#evidence-check').innerText(),
      body: await page.locator('#evidence-text').innerText(),
      title: await page.locator('h1').innerText() };
    await page.screenshot({ path: `${outDir}/document-statement-${lang}.png`, fullPage: true });
    await axe(page, 'document', out);
    if (textRef !== '-') {  // '-': no text item to read in this world
      await page.goto(`${base}/ui/cases/${textRef}?lang=${lang}`);
      await page.waitForSelector('#evidence-check.ok, #evidence-check.error', { timeout: 20000 });
      out.text = { check: await page.locator('#evidence-check').getAttribute('data-checked'),
        body: await page.locator('#evidence-text').innerText() };
      const [download] = await Promise.all([page.waitForEvent('download'),
        page.click('#evidence-download')]);
      out.text.downloaded = fs.readFileSync(await download.path(), 'utf8');
      await axe(page, 'evidence-text', out);
    }

    // 4. The notices page.
    await page.click('a[data-nav="nav_notices"]');
    await page.waitForSelector('#notices');
    out.notices = await page.locator('#notices-list li h2').allInnerTexts();
    await page.screenshot({ path: `${outDir}/notices-${lang}.png`, fullPage: true });
    await axe(page, 'notices', out);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
