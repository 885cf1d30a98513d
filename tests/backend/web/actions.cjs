// The case page's actions in chromium (playwright-core), each party with its own wallet
// stand-in (window.ethereum → Node → @metamask/eth-sig-util; keys never enter the page).
// The buyer (English) is refused an invalid amount without a request, uploads evidence,
// makes an offer in one tab while a second tab is stale (stale_sequence → refresh → retry);
// the seller (简体中文) sees the offer and accepts it. Prints one JSON object.
//
// usage: node actions.cjs BASE_URL CASE_ID BUYER_KEY SELLER_KEY OUT_DIR
'use strict';
const { launch } = require('./driver.cjs');
const sigUtil = require('@metamask/eth-sig-util');
const { privateToAddress } = require('@ethereumjs/util');

async function wallet(browser, keyHex, lang, out) {
  const key = Buffer.from(keyHex.replace(/^0x/, ''), 'hex');
  const address = '0x' + Buffer.from(privateToAddress(key)).toString('hex');
  const context = await browser.newContext({ locale: lang === 'en' ? 'en-GB' : 'zh-CN',
    timezoneId: 'Asia/Shanghai', viewport: { width: 1100, height: 900 } });
  const signed = [];
  // gate.hold: the next arbitration.agreed signature waits for it (the user is slow to
  // confirm in the wallet while another tab acts); gate.entered() fires when it starts.
  const gate = { hold: null, entered: null };
  await context.exposeFunction('__walletRequest', async (method, params) => {
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') { return [address]; }
    if (method === 'personal_sign') { return sigUtil.personalSign({ privateKey: key, data: params[0] }); }
    if (method === 'eth_signTypedData_v4') {
      const data = JSON.parse(params[1]);
      if (gate.hold && data.primaryType === 'ProceduralStep' &&
          data.message.action === 'arbitration.agreed') {
        const hold = gate.hold; gate.hold = null;
        if (gate.entered) { gate.entered(); }
        await hold;
      }
      signed.push(data.primaryType);
      return sigUtil.signTypedData({ privateKey: key, data, version: sigUtil.SignTypedDataVersion.V4 });
    }
    throw new Error('unsupported ' + method);
  });
  await context.addInitScript(() => {
    window.ethereum = { request: ({ method, params }) => window.__walletRequest(method, params || []) };
  });
  const apiCalls = [];
  context.on('request', (r) => { if (r.url().includes('/ui/api/')) { apiCalls.push(r.method() + ' ' + r.url()); } });
  const page = await context.newPage();
  page.on('console', (m) => out.console.push(lang + ' ' + m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => out.console.push(lang + ' pageerror: ' + e.message));
  return { context, page, signed, apiCalls, address, gate };
}

async function signIn(w, base, lang) {
  await w.page.goto(base + '/ui/sign-in?lang=' + lang);
  await Promise.all([w.page.waitForURL('**/ui/cases?lang=' + lang, { timeout: 20000 }),
    w.page.click('#sign-in')]);
}

async function submitAndWait(page, formSel) {
  await page.click(formSel + ' button[type=submit]');
  const done = formSel + ' .result.ok, ' + formSel + ' .result.error';
  const confirm = formSel + ' .commitment:not([hidden]) .sign-commitment';
  await page.waitForSelector(done + ', ' + confirm, { timeout: 30000 });
  if (await page.locator(confirm).count()) {  // an upload: the commitment is shown first
    await page.click(confirm);
    await page.waitForSelector(done, { timeout: 30000 });
  }
  return { cls: await page.getAttribute(formSel + ' .result', 'class'),
    text: await page.locator(formSel + ' .result').innerText() };
}

async function main() {
  const [base, caseId, buyerKey, sellerKey, outDir] = process.argv.slice(2);
  const browser = await launch();
  const out = { console: [] };
  try {
    const buyer = await wallet(browser, buyerKey, 'en', out);
    await signIn(buyer, base, 'en');
    const url = base + '/ui/cases/' + caseId;
    const p = buyer.page;
    await p.goto(url + '?lang=en');
    out.buyerForms = await p.locator('#actions form[data-step]').evaluateAll(
      (fs) => fs.map((f) => f.dataset.step));
    out.countdown = await p.locator('#summary .countdown').innerText();
    // Keyboard: the label names the field, Tab reaches it.
    out.labelled = await p.getByLabel('Refund to the buyer (tUSD)').count();
    await p.screenshot({ path: outDir + '/actions-en.png', fullPage: true });

    // 1. Invalid amounts: a localised error, nothing sent, nothing signed.
    const before = buyer.apiCalls.length;
    await p.fill('#step-offer-toBuyer', '12,5');
    out.invalidEn = await submitAndWait(p, '#step-offer');
    out.invalidAria = await p.getAttribute('#step-offer-toBuyer', 'aria-invalid');
    out.invalidFocus = await p.evaluate(() => document.activeElement.id);
    await p.fill('#step-offer-toBuyer', '10');
    await p.fill('#step-offer-compensation', '-3');
    out.badCompensation = await submitAndWait(p, '#step-offer');
    out.badCompensationFocus = await p.evaluate(() => document.activeElement.id);
    await p.fill('#step-offer-compensation', '0');
    await p.fill('#step-offer-toBuyer', '480.000001');
    out.tooLargeEn = await submitAndWait(p, '#step-offer');
    await p.goto(url + '?lang=zh-Hans');
    await p.fill('#step-offer-toBuyer', '1.1234567');
    out.invalidZh = await submitAndWait(p, '#step-offer');
    out.invalidSent = buyer.apiCalls.length - before;
    out.invalidSigned = buyer.signed.length;
    await p.screenshot({ path: outDir + '/invalid-zh.png', fullPage: true });

    // 2. Evidence through the page: upload → sign the returned typed data → submit.
    await p.goto(url + '?lang=en');
    out.evidenceBefore = await p.locator('#evidence tbody tr').count();
    await p.selectOption('#step-evidence-kind', 'communication');
    await p.setInputFiles('#step-evidence-file', { name: 'chat.txt', mimeType: 'text/plain',
      buffer: Buffer.from('Seller: the panels were fine when shipped.\n') });
    out.upload = await submitAndWait(p, '#step-evidence');
    await p.waitForLoadState('load');
    await p.waitForFunction((n) => document.querySelectorAll('#evidence tbody tr').length > n,
      out.evidenceBefore, { timeout: 20000 });
    out.evidenceAfter = await p.locator('#evidence tbody tr').count();
    out.evidenceKinds = await p.locator('#evidence tbody tr td:first-child').allInnerTexts();

    // 3. Two tabs: tab A prepares the arbitration agreement, and while its wallet waits
    // for the user, tab B makes the offer; A's signed record is then stale.
    await p.goto(url + '?lang=en');  // tab A
    const b = await buyer.context.newPage();
    await b.goto(url + '?lang=en');
    await b.fill('#step-offer-toBuyer', '48.5');
    await b.fill('#step-offer-compensation', '10');
    let release;
    buyer.gate.hold = new Promise((r) => { release = r; });
    const entered = new Promise((r) => { buyer.gate.entered = r; });
    const staleDone = submitAndWait(p, '#step-agree');
    await entered;
    out.offer = await submitAndWait(b, '#step-offer');
    release();
    out.stale = await staleDone;
    out.staleRefresh = await p.locator('#step-agree .result button.refresh').count();
    await p.screenshot({ path: outDir + '/stale-en.png', fullPage: true });
    await Promise.all([p.waitForEvent('load'), p.click('#step-agree .result button.refresh')]);
    out.buyerFormsAfterOffer = await p.locator('#actions form[data-step]').evaluateAll(
      (fs) => fs.map((f) => f.dataset.step));
    out.retry = await submitAndWait(p, '#step-agree');
    out.buyerSigned = buyer.signed;

    // 4. The seller, in Chinese, accepts the buyer's offer.
    const seller = await wallet(browser, sellerKey, 'zh-Hans', out);
    await signIn(seller, base, 'zh-Hans');
    const s = seller.page;
    await s.goto(url + '?lang=zh-Hans');
    out.sellerForms = await s.locator('#actions form[data-step]').evaluateAll(
      (fs) => fs.map((f) => f.dataset.step));
    out.offerTerms = await s.locator('form[data-step=accept] .offer-terms').innerText();
    await s.screenshot({ path: outDir + '/accept-zh.png', fullPage: true });
    out.accept = await submitAndWait(s, 'form[data-step=accept]');
    await s.waitForLoadState('load');
    await s.waitForSelector('#summary .stage[data-stage=settled]', { timeout: 20000 });
    out.sellerStage = await s.locator('#summary .stage').innerText();
    out.sellerSigned = seller.signed;
    await s.screenshot({ path: outDir + '/settled-zh.png', fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
