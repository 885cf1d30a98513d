// The built-in wallet in chromium (playwright-core), no extension anywhere:
// A (English) makes a wallet on the sign-in page, downloads its recovery file, signs in
// through the signing prompt, signs EIP-712 typed data (a chainarb step and the EIP-712
// spec's nested "Mail" example) and a message; a second tab of A is locked and unlocks in
// the prompt (wrong passphrase first); cancelling is a refusal. B (简体中文) restores from
// the recovery file (wrong passphrase first) and signs in as the same account. The
// signatures are checked here against @metamask/eth-sig-util with the key decrypted from
// the recovery file by ethers; the Python test checks them again with eth-account.
// Prints one JSON object.
//
// A also sends a transaction through the service's chain relay (funded on anvil first).
//
// usage: node wallet.cjs BASE_URL PASSPHRASE TYPED_DATA_JSON OUT_DIR ANVIL_URL
'use strict';
const fs = require('fs');
const path = require('path');
const { launch } = require('./driver.cjs');
const sigUtil = require('@metamask/eth-sig-util');
const { Wallet } = require('ethers');

const MAIL = {  // EIP-712's example (nested structs, arrays), as eth_signTypedData_v4 takes it
  types: {
    EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
    Person: [{ name: 'name', type: 'string' }, { name: 'wallets', type: 'address[]' }],
    Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person[]' },
      { name: 'contents', type: 'string' }],
    Unused: [{ name: 'x', type: 'uint8' }],
  },
  primaryType: 'Mail',
  domain: { name: 'Ether Mail', version: '1', chainId: 1,
    verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  message: {
    from: { name: 'Cow', wallets: ['0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826',
      '0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF'] },
    to: [{ name: 'Bob', wallets: ['0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB',
      '0xB0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57', '0xB0B0b0b0b0b0B000000000000000000000000000'] }],
    contents: 'Hello, Bob!',
  },
};

async function person(browser, lang, out) {
  const context = await browser.newContext({ locale: lang === 'en' ? 'en-GB' : 'zh-CN',
    timezoneId: 'Asia/Shanghai', viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  // No extension wallet at all: the pages must work with what they serve.
  await context.addInitScript(() => { delete window.ethereum; });
  const page = await context.newPage();
  const log = (p) => {
    p.on('console', (m) => out.console.push(lang + ' ' + m.type() + ': ' + m.text()));
    p.on('pageerror', (e) => out.console.push(lang + ' pageerror: ' + e.message));
  };
  log(page);
  return { context, page, log };
}

/** What the open prompt shows: its title line and its rows. */
async function promptText(page) {
  await page.waitForSelector('#wallet-prompt[open]', { timeout: 20000 });
  return {
    what: await page.locator('#wallet-prompt-what').innerText(),
    heading: await page.locator('#wallet-prompt-title').innerText(),
    rows: await page.locator('#wallet-prompt table.wallet-fields tr').evaluateAll(
      (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[1].innerText])),
    hasPassphrase: await page.locator('#wallet-prompt-passphrase').count() === 1,
    signer: await page.locator('#wallet-prompt-signer').innerText(),
  };
}

async function main() {
  const [base, passphrase, typedJson, outDir, anvil] = process.argv.slice(2);
  const step = JSON.parse(typedJson);
  const out = { console: [] };
  const browser = await launch();
  try {
    // --- A: a new wallet (English) ---
    const a = await person(browser, 'en', out);
    const p = a.page;
    await p.goto(base + '/ui/sign-in?lang=en');
    out.kindBefore = await p.evaluate(() => window.chainarbWallet.kind());
    out.unlockHiddenBefore = await p.locator('#unlock-section').isHidden();
    await p.screenshot({ path: path.join(outDir, 'sign-in-en.png'), fullPage: true });
    // Too short, then different: refused in words, nothing made.
    await p.fill('#new-passphrase', 'short');
    await p.fill('#new-passphrase2', 'short');
    await p.click('#create-button');
    out.tooShort = await p.locator('#sign-in-status').innerText();
    await p.fill('#new-passphrase', passphrase);
    await p.fill('#new-passphrase2', passphrase + 'x');
    await p.click('#create-button');
    out.mismatch = await p.locator('#sign-in-status').innerText();
    out.madeTooEarly = await p.evaluate(() => window.chainarbWallet.builtin.exists());
    await p.fill('#new-passphrase2', passphrase);
    const t0 = Date.now();
    await p.click('#create-button');
    await p.waitForSelector('#recovery-step:not([hidden])', { timeout: 60000 });
    out.createMs = Date.now() - t0;
    out.continueDisabled = await p.locator('#continue-button').isDisabled();
    const [download] = await Promise.all([p.waitForEvent('download'), p.click('#download-recovery')]);
    out.recoveryName = download.suggestedFilename();
    const recoveryPath = path.join(outDir, out.recoveryName);
    await download.saveAs(recoveryPath);
    out.recovery = JSON.parse(fs.readFileSync(recoveryPath, 'utf8'));
    out.address = await p.evaluate(() => window.chainarbWallet.address());
    out.kind = await p.evaluate(() => window.chainarbWallet.kind());
    out.storedKeys = await p.evaluate(() => Object.keys(localStorage).sort());
    out.storedText = await p.evaluate(() => JSON.stringify(localStorage));
    // Continue: the sign-in message is signed after the prompt (unlocked: no passphrase).
    await p.click('#continue-button');
    out.signInPrompt = await promptText(p);
    await p.screenshot({ path: path.join(outDir, 'prompt-message-en.png') });
    await Promise.all([p.waitForURL('**/ui/cases?lang=en', { timeout: 30000 }),
      p.click('#wallet-prompt-sign')]);
    out.casesHeading = await p.locator('h1').innerText();
    out.signedInAs = await p.locator('header .who a.person').getAttribute('data-address');

    // Typed data: the chainarb step, then the spec's nested example; the digest too.
    const sign = async (td) => {  // through the alias actions.js uses
      const pending = p.evaluate((t) => window.chainarbSignTypedData(t), td);
      const shown = await promptText(p);
      await p.click('#wallet-prompt-sign');
      return { signature: await pending, shown,
        digest: await p.evaluate((t) => window.chainarbWallet.typedDataDigest(t), td) };
    };
    const pendingStep = p.evaluate((t) => window.chainarbWallet.signTypedData(t), step);
    out.stepPrompt = await promptText(p);
    await p.screenshot({ path: path.join(outDir, 'prompt-typed-en.png') });
    await p.click('#wallet-prompt-sign');
    out.stepSignature = await pendingStep;
    out.stepDigest = await p.evaluate((t) => window.chainarbWallet.typedDataDigest(t), step);
    out.mail = await sign(MAIL);
    out.alias = await p.evaluate(() => typeof window.chainarbSignTypedData);
    // A message (personal_sign).
    const pendingMsg = p.evaluate(() => window.chainarbWallet.personalSign('hello 你好'));
    await promptText(p);
    await p.click('#wallet-prompt-sign');
    out.messageSignature = await pendingMsg;
    // A transaction: signed here, sent through POST /ui/chain/rpc.
    await fetch(anvil, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setBalance',
        params: [out.address, '0xde0b6b3a7640000'] }) });
    const pendingTx = p.evaluate(() => window.chainarbWallet.sendTransaction({
      to: '0x4242424242424242424242424242424242424242', value: '1234500000000000',
      data: '0xc0ffee', description: 'A test payment' }));
    out.txPrompt = await promptText(p);
    await p.screenshot({ path: path.join(outDir, 'prompt-transaction-en.png') });
    await p.click('#wallet-prompt-sign');
    out.txHash = await pendingTx;
    out.txReceiptStatus = await p.evaluate((h) => window.chainarbWallet.waitForTransaction(h)
      .then((r) => r.status), out.txHash);
    // Cancel: a refusal with its code, nothing signed.
    const refused = p.evaluate((t) => window.chainarbWallet.signTypedData(t)
      .then(() => 'signed', (e) => e.code + ': ' + e.message), step);
    await promptText(p);
    await p.click('#wallet-prompt-cancel');
    out.cancelled = await refused;
    out.promptGone = await p.locator('#wallet-prompt').count();

    // A second tab: locked (unlock is per tab); the prompt asks for the passphrase.
    const p2 = await a.context.newPage();
    a.log(p2);
    await p2.goto(base + '/ui/cases?lang=en');
    out.secondTabUnlocked = await p2.evaluate(() => window.chainarbWallet.builtin.unlocked());
    const pending2 = p2.evaluate((t) => window.chainarbWallet.signTypedData(t), step);
    out.lockedPrompt = await promptText(p2);
    await p2.fill('#wallet-prompt-passphrase', 'not the passphrase');
    await p2.click('#wallet-prompt-sign');
    await p2.waitForFunction(() => {
      const s = document.getElementById('wallet-prompt-status');
      return s && s.className === 'error' && s.textContent;
    }, null, { timeout: 60000 });
    out.wrongInPrompt = await p2.locator('#wallet-prompt-status').innerText();
    await p2.fill('#wallet-prompt-passphrase', passphrase);
    await p2.click('#wallet-prompt-sign');
    out.secondTabSignature = await pending2;
    out.secondTabUnlockedAfter = await p2.evaluate(() => window.chainarbWallet.builtin.unlocked());
    // Signing out locks the wallet in that tab (the keystore stays).
    await Promise.all([p2.waitForURL('**/ui/sign-in**'), p2.click('#sign-out')]);
    out.afterSignOut = await p2.evaluate(() => [window.chainarbWallet.builtin.unlocked(),
      window.chainarbWallet.builtin.exists()]);

    // --- B: restore from the recovery file (简体中文) ---
    const b = await person(browser, 'zh-Hans', out);
    const q = b.page;
    await q.goto(base + '/ui/sign-in?lang=zh-Hans');
    await q.screenshot({ path: path.join(outDir, 'sign-in-zh.png'), fullPage: true });
    await q.click('#restore-button');
    out.noFile = await q.locator('#sign-in-status').innerText();
    await q.setInputFiles('#restore-file', recoveryPath);
    await q.fill('#restore-passphrase', 'wrong passphrase!');
    await q.click('#restore-button');
    await q.waitForSelector('#sign-in-status.error', { timeout: 60000 });
    out.wrongRestore = await q.locator('#sign-in-status').innerText();
    out.restoreInvalid = await q.getAttribute('#restore-passphrase', 'aria-invalid');
    out.restoredTooEarly = await q.evaluate(() => window.chainarbWallet.builtin.exists());
    await q.fill('#restore-passphrase', passphrase);
    await q.click('#restore-button');
    out.zhPrompt = await promptText(q);
    await q.screenshot({ path: path.join(outDir, 'prompt-message-zh.png') });
    await Promise.all([q.waitForURL('**/ui/cases?lang=zh-Hans', { timeout: 30000 }),
      q.click('#wallet-prompt-sign')]);
    out.restoredAddress = await q.evaluate(() => window.chainarbWallet.address());
    // Back on the sign-in page, the wallet kept here is offered for unlocking.
    await q.goto(base + '/ui/sign-in?lang=zh-Hans');
    out.unlockShown = await q.locator('#unlock-section').isVisible();
    out.unlockAddress = await q.locator('#builtin-address').innerText();
  } finally {
    await browser.close();
  }
  // The same signatures from the key in the recovery file (ethers decrypts it; MetaMask's
  // library signs).
  const key = (await Wallet.fromEncryptedJson(JSON.stringify(out.recovery), passphrase)).privateKey;
  const k = Buffer.from(key.slice(2), 'hex');
  out.keyAddress = new Wallet(key).address;
  const v4 = sigUtil.SignTypedDataVersion.V4;
  out.expected = {
    step: sigUtil.signTypedData({ privateKey: k, data: step, version: v4 }),
    stepDigest: '0x' + sigUtil.TypedDataUtils.eip712Hash(step, v4).toString('hex'),
    mail: sigUtil.signTypedData({ privateKey: k, data: MAIL, version: v4 }),
    mailDigest: '0x' + sigUtil.TypedDataUtils.eip712Hash(MAIL, v4).toString('hex'),
    message: sigUtil.personalSign({ privateKey: k,
      data: '0x' + Buffer.from('hello 你好', 'utf8').toString('hex') }),
  };
  out.mail.typedData = MAIL;
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
