// A buyer carries a claim through the pages in chromium: sign in (wallet stand-in, key kept
// in Node), the orders page, "File a claim", the filing form with a first photo (upload
// progress, the commitment shown and checked before signing), the freeze sent from the
// wallet (eth_sendTransaction, recorded here: the test's escrow is in memory), then an
// evidence item read in the page. Screenshots of each page in LANG.
// Prints one JSON object.
//
// usage: node party.cjs BASE_URL KEY LANG OUT_DIR ORDER_ID PHOTO_PATH CASE_ID/evidence/REF|-
// With CHAIN_RPC set, eth_sendTransaction is signed and sent to that node for real.
// CLAIM: the amount claimed as typed (default 120.5, of a 480 tUSD order).
// WALLET_CHAIN: the chain id the wallet reports; OTHER_CHAIN: first report this one (the
// page must ask the wallet to switch: refused once, then accepted). EIP6963=1: the wallet is
// only announced by EIP-6963 (no window.ethereum), as most extensions are now.
'use strict';
const fs = require('fs');
const { account, axe: axeFindings, collectConsole, context, injectWallet, launch, loopbackOnly,
  signIn } = require('./driver.cjs');

/** axe-core's serious and critical violations on the page as it is now. */
async function axe(page, name, out) {
  for (const v of await axeFindings(page)) {
    out.axe.push({ page: name, id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5) });
  }
}

async function main() {
  const [base, keyHex, lang, outDir, orderId, photoPath, textRef] = process.argv.slice(2);
  const { key } = account(keyHex);
  const browser = await launch();
  const out = { console: [], signed: [], sent: [], external: [], axe: [], switches: [] };
  try {
    const ctx = await context(browser, lang, { locale: lang === 'en' ? 'en-US' : 'zh-CN' });
    await loopbackOnly(ctx, out.external);
    const other = async (method, params) => {
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
    };
    await injectWallet(ctx, key, { other, eip6963: process.env.EIP6963 === '1',
      onTyped: (data) => out.signed.push(data.primaryType === 'ProceduralStep'
        ? data.message.action : data.primaryType) });
    out.eip6963 = process.env.EIP6963 === '1';
    const page = collectConsole(await ctx.newPage(), out.console);
    await signIn(page, base, lang);

    // 1. The orders page, reached through the nav.
    await page.click('a[data-nav="nav_orders"]');
    await page.waitForSelector('#orders-table');
    // the table is in the DOM before layout.js (the page's last script) has run: its
    // countdowns' text is written by that script, so wait for the page's load
    await page.waitForLoadState('load');
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
    await page.fill('#step-file-claimedAmount', process.env.CLAIM || '120.5');
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
