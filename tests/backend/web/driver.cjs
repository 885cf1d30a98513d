// What the page tests' browser drivers share (desk, party, court, people, act .cjs):
// launching Debian's chromium, a person's browser context with an injected extension wallet
// whose key stays in Node (@metamask/eth-sig-util signs), the console and page errors
// collected, every request off loopback aborted and counted, axe-core's serious and
// critical findings, and signing in through the sign-in page. tests/portal/harness.cjs is
// the whole-case harness; this is the small one for the single-page drivers.
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');
const sigUtil = require('@metamask/eth-sig-util');
const { privateToAddress } = require('@ethereumjs/util');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const LOCALES = { en: 'en-GB', 'zh-Hans': 'zh-CN' };

/** Debian's chromium (CHROMIUM names it), headless, as every driver runs it. */
function launch(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...extraArgs] });
}

/** A 0x private key as the signing key and its address. */
function account(keyHex) {
  const key = Buffer.from(keyHex.replace(/^0x/, ''), 'hex');
  return { key, address: '0x' + Buffer.from(privateToAddress(key)).toString('hex') };
}

/** A browser context in `lang` (the locale the page negotiates), Shanghai time unless said. */
function context(browser, lang, opts = {}) {
  return browser.newContext({ locale: opts.locale || LOCALES[lang] || lang,
    timezoneId: opts.timezoneId || 'Asia/Shanghai',
    viewport: opts.viewport || { width: 1200, height: 900 }, acceptDownloads: true });
}

/** Abort and count (into `into`) every request not to loopback, data: or blob:. */
async function loopbackOnly(ctx, into) {
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || u.protocol === 'data:' ||
        u.protocol === 'blob:') {
      return route.continue();
    }
    into.push(route.request().url());
    return route.abort();
  });
}

/** An extension wallet stand-in for `key`: accounts, personal_sign and eth_signTypedData_v4
 * answered here (each typed data passed to `onTyped`), anything else to `other(method,
 * params)` (default: refused). window.ethereum, or with `eip6963` only announced by
 * EIP-6963 as most extensions now are. */
async function injectWallet(ctx, key, { onTyped = () => {}, other, eip6963 = false } = {}) {
  const { address } = account(key.toString('hex'));
  await ctx.exposeFunction('__walletRequest', async (method, params) => {
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') { return [address]; }
    if (method === 'personal_sign') { return sigUtil.personalSign({ privateKey: key, data: params[0] }); }
    if (method === 'eth_signTypedData_v4') {
      const data = JSON.parse(params[1]);
      onTyped(data);
      return sigUtil.signTypedData({ privateKey: key, data, version: sigUtil.SignTypedDataVersion.V4 });
    }
    if (other) { return other(method, params); }
    throw new Error('unsupported ' + method);
  });
  await ctx.addInitScript((announced) => {
    const provider = { request: ({ method, params }) => window.__walletRequest(method, params || []) };
    if (!announced) { window.ethereum = provider; return; }
    delete window.ethereum;
    const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', {
      detail: Object.freeze({ info: { uuid: '00000000-0000-4000-8000-000000006963',
        name: 'Test Wallet', rdns: 'org.example.test',
        icon: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg"/>' }, provider }) }));
    window.addEventListener('eip6963:requestProvider', announce);
    announce();
  }, eip6963);
}

/** The page's console and uncaught errors, as 'type: text' lines into `into`. */
function collectConsole(page, into, prefix = '') {
  page.on('console', (m) => into.push(prefix + m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => into.push(prefix + 'pageerror: ' + e.message));
  return page;
}

/** axe-core's serious and critical violations on the page as it is now (evaluated through
 * the DevTools protocol: the page's CSP, nonces only, stays in force). */
async function axe(page) {
  await page.evaluate(AXE + '\n;undefined');
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })));
}

/** Sign in through the sign-in page with the injected wallet; lands on the case list. */
async function signIn(page, base, lang) {
  await page.goto(base + '/ui/sign-in?lang=' + lang);
  await Promise.all([page.waitForURL('**/ui/cases?lang=' + lang, { timeout: 20000 }),
    page.click('#sign-in')]);
}

/** Run `main`, print its result as one JSON line; a failure exits 1 with its stack. */
function run(main) {
  main().then((out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (e) => { console.error(e); process.exit(1); });
}

module.exports = { account, axe, collectConsole, context, injectWallet, launch, loopbackOnly,
  run, signIn };
