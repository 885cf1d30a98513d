// Passkey protection of the built-in wallet in chromium, with the DevTools protocol's
// virtual authenticator (CTAP2.1, user verification, PRF): a wallet is made, protected
// with a passkey (passphrase first), the key leaves localStorage's plain keystore; locked,
// the prompt needs the passphrase and the passkey; with the passkey gone from the
// authenticator it cannot be unlocked; the recovery file stays passphrase-only.
// Served on http://localhost (a passkey's RP ID must be a domain, not an IP address).
// Prints one JSON object.
//
// usage: node passkey.cjs BASE_URL PASSPHRASE OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { launch } = require('./driver.cjs');

async function main() {
  const [base0, passphrase, outDir] = process.argv.slice(2);
  const base = base0.replace('127.0.0.1', 'localhost');
  const out = { console: [] };
  const browser = await launch();
  try {
    const context = await browser.newContext({ locale: 'en-GB', acceptDownloads: true,
      viewport: { width: 1100, height: 900 } });
    await context.addInitScript(() => { delete window.ethereum; });
    const p = await context.newPage();
    p.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    p.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    const cdp = await context.newCDPSession(p);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
      protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, hasPrf: true,
      automaticPresenceSimulation: true } });

    await p.goto(base + '/ui/sign-in?lang=en');
    out.supported = await p.evaluate(() => window.chainarbWallet.builtin.passkeySupported());
    out.address = await p.evaluate((pw) => window.chainarbWallet.builtin.create(pw), passphrase);
    const plainStored = await p.evaluate(() => localStorage.getItem('chainarb.wallet.keystore'));
    await p.reload();
    out.controlsShown = await p.locator('#passkey-controls').isVisible();
    out.stateBefore = await p.locator('#passkey-state').innerText();
    // Without the passphrase: refused in words.
    await p.click('#passkey-protect');
    out.noPassphrase = await p.locator('#sign-in-status').innerText();
    await p.fill('#unlock-passphrase', passphrase);
    await p.click('#passkey-protect');
    await p.waitForSelector('#sign-in-status.ok', { timeout: 60000 });
    out.added = await p.locator('#sign-in-status').innerText();
    out.stateAfter = await p.locator('#passkey-state').innerText();
    out.credentials = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length;
    out.storedKeys = await p.evaluate(() => Object.keys(localStorage).sort());
    out.sealedText = await p.evaluate(() => localStorage.getItem('chainarb.wallet.passkey'));
    out.protected = await p.evaluate(() => window.chainarbWallet.builtin.passkeyProtected());
    await p.screenshot({ path: path.join(outDir, 'sign-in-passkey-en.png'), fullPage: true });

    // Locked: the prompt asks for the passphrase, then the passkey answers.
    await p.evaluate(() => window.chainarbWallet.builtin.lock());
    const typed = { types: { EIP712Domain: [{ name: 'name', type: 'string' }],
      Note: [{ name: 'text', type: 'string' }] }, primaryType: 'Note',
    domain: { name: 'x' }, message: { text: 'hi' } };
    const pending = p.evaluate((t) => window.chainarbWallet.signTypedData(t), typed);
    await p.waitForSelector('#wallet-prompt[open]');
    out.promptPasskeyNote = await p.locator('#wallet-prompt-passkey').innerText();
    await p.fill('#wallet-prompt-passphrase', passphrase);
    await p.click('#wallet-prompt-sign');
    out.signature = await pending;
    out.digest = await p.evaluate((t) => window.chainarbWallet.typedDataDigest(t), typed);

    // The recovery file is still the passphrase-only keystore (the passkey unseals it).
    const [download] = await Promise.all([p.waitForEvent('download'),
      p.click('#download-recovery-existing')]);
    const file = path.join(outDir, download.suggestedFilename());
    await download.saveAs(file);
    out.recoverySame = JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8'))) ===
      JSON.stringify(JSON.parse(plainStored));
    out.recovery = JSON.parse(fs.readFileSync(file, 'utf8'));

    // The passkey gone (another device, deleted): the passphrase alone does not unlock.
    await p.evaluate(() => window.chainarbWallet.builtin.lock());
    await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
    out.withoutPasskey = await p.evaluate((pw) => window.chainarbWallet.builtin.unlock(pw)
      .then(() => 'unlocked', (e) => e.code), passphrase);
    out.unlockedAfter = await p.evaluate(() => window.chainarbWallet.builtin.unlocked());
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
