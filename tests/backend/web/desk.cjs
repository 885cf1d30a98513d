// One person on the institution's or a neutral's pages in chromium (playwright-core): sign in
// with the wallet stand-in (window.ethereum → Node → @metamask/eth-sig-util; the key never
// enters the page), then run the test's script of acts, keyboard first. Prints one JSON
// object: what each act read, the typed data the wallet signed, the console.
//
// usage: node desk.cjs BASE_URL KEY LANG '[{"goto": "/ui/..."}, {"fill": [sel, text]},
//   {"press": sel}, {"wait": sel}, {"text": sel}, {"attr": [sel, name]}, {"count": sel},
//   {"shot": path}, {"axe": true}, {"file": [sel, name, mime, content]}]'
'use strict';
const { chromium } = require('playwright-core');
const sigUtil = require('@metamask/eth-sig-util');
const { privateToAddress } = require('@ethereumjs/util');
const AXE = require('fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function main() {
  const [base, keyHex, lang, actsJson] = process.argv.slice(2);
  const acts = JSON.parse(actsJson);
  const key = Buffer.from(keyHex.replace(/^0x/, ''), 'hex');
  const address = '0x' + Buffer.from(privateToAddress(key)).toString('hex');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const out = { console: [], typed: [], reads: [], offsite: [], axe: [] };
  try {
    const context = await browser.newContext({ locale: lang === 'en' ? 'en-GB' : 'zh-CN',
      timezoneId: 'Asia/Shanghai', viewport: { width: 1200, height: 900 } });
    // Every request but loopback is aborted and counted (the pages need no other host).
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' || u.protocol === 'data:') { return route.continue(); }
      out.offsite.push(route.request().url());
      return route.abort();
    });
    await context.exposeFunction('__walletRequest', async (method, params) => {
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') { return [address]; }
      if (method === 'personal_sign') { return sigUtil.personalSign({ privateKey: key, data: params[0] }); }
      if (method === 'eth_signTypedData_v4') {
        const data = JSON.parse(params[1]);
        out.typed.push(data);
        return sigUtil.signTypedData({ privateKey: key, data, version: sigUtil.SignTypedDataVersion.V4 });
      }
      throw new Error('unsupported ' + method);
    });
    await context.addInitScript(() => {
      window.ethereum = { request: ({ method, params }) => window.__walletRequest(method, params || []) };
    });
    const page = await context.newPage();
    page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    await page.goto(base + '/ui/sign-in?lang=' + lang);
    await Promise.all([page.waitForURL('**/ui/cases?lang=' + lang, { timeout: 20000 }),
      page.click('#sign-in')]);
    for (const act of acts) {
      if (act.goto) { await page.goto(base + act.goto); }
      if (act.fill) { await page.fill(act.fill[0], act.fill[1]); }
      if (act.check) { await page.check(act.check); }
      if (act.file) {
        await page.setInputFiles(act.file[0], { name: act.file[1], mimeType: act.file[2],
          buffer: Buffer.from(act.file[3]) });
      }
      if (act.press) { await page.focus(act.press); await page.keyboard.press('Enter'); }
      if (act.wait) { await page.waitForSelector(act.wait, { timeout: 30000 }); }
      if (act.load) { await page.waitForEvent('load', { timeout: 15000 }); }
      if (act.text) { out.reads.push(await page.locator(act.text).first().innerText()); }
      if (act.attr) { out.reads.push(await page.locator(act.attr[0]).first().getAttribute(act.attr[1])); }
      if (act.count) { out.reads.push(await page.locator(act.count).count()); }
      if (act.disabled) { out.reads.push(await page.locator(act.disabled).first().isDisabled()); }
      if (act.shot) { await page.screenshot({ path: act.shot, fullPage: true }); }
      if (act.axe) {  // axe-core on the page as it is now: serious and critical violations
        await page.evaluate(AXE);  // through the DevTools protocol: the page CSP stays as it is
        const found = await page.evaluate(async () => (await window.axe.run(document))
          .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })));
        out.axe.push({ url: page.url(), violations: found });
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
