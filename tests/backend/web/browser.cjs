// Drives Debian's chromium through playwright-core against a live chainarb service:
// a wallet stand-in (window.ethereum backed by @metamask/eth-sig-util with the test's key)
// signs in through the sign-in page; the case list and the case page are then read in
// English and in Simplified Chinese, with a screenshot of each; and the public /verify page
// of an unknown package. Prints one JSON object.
//
// usage: node browser.cjs BASE_URL CASE_ID PRIVATE_KEY_HEX OUT_DIR
'use strict';
const { launch } = require('./driver.cjs');
const sigUtil = require('@metamask/eth-sig-util');

async function main() {
  const [base, caseId, keyHex, outDir] = process.argv.slice(2);
  const key = Buffer.from(keyHex.replace(/^0x/, ''), 'hex');
  const browser = await launch();
  const out = { console: [] };
  try {
    const context = await browser.newContext({ locale: 'de-DE', timezoneId: 'Europe/Berlin',
      viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    // The wallet: requests go to Node, which signs with the key (never given to the page).
    await page.exposeFunction('__walletRequest', async (method, params) => {
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') {
        return [out.address];
      }
      if (method === 'personal_sign') {
        return sigUtil.personalSign({ privateKey: key, data: params[0] });
      }
      if (method === 'eth_signTypedData_v4') {
        return sigUtil.signTypedData({ privateKey: key, data: JSON.parse(params[1]),
          version: sigUtil.SignTypedDataVersion.V4 });
      }
      throw new Error('unsupported ' + method);
    });
    const { privateToAddress } = require('@ethereumjs/util');
    out.address = '0x' + Buffer.from(privateToAddress(key)).toString('hex');
    await page.addInitScript(() => {
      window.ethereum = { isMetaMask: true,
        request: ({ method, params }) => window.__walletRequest(method, params || []) };
    });

    // 1. Sign in through the page (English).
    await page.goto(base + '/ui/sign-in?lang=en');
    out.signInTitle = await page.locator('h1').innerText();
    await Promise.all([page.waitForURL('**/ui/cases?lang=en', { timeout: 20000 }),
      page.click('#sign-in')]);
    out.listHeading = await page.locator('h1').innerText();
    out.listLinks = await page.locator(`a[href^="/ui/cases/${caseId}"]`).count();

    // 2. The case page in English; times shown in the browser's zone.
    await page.click(`a[href^="/ui/cases/${caseId}"]`);
    await page.waitForSelector('#timeline');
    out.en = {
      title: await page.title(),
      stage: await page.locator('#summary .stage').innerText(),
      headings: await page.locator('section h2').allInnerTexts(),
      steps: await page.locator('#timeline tr.step').count(),
      evidenceRows: await page.locator('#evidence tbody tr').count(),
      firstTime: await page.locator('#timeline time').first().innerText(),
      firstTimeIso: await page.locator('#timeline time').first().getAttribute('datetime'),
    };
    await page.screenshot({ path: outDir + '/case-en.png', fullPage: true });

    // 3. Switch language with the page's own link.
    await Promise.all([page.waitForURL('**lang=zh-Hans'),
      page.click('.lang-switch a[hreflang="zh-Hans"]')]);
    out.zh = {
      lang: await page.locator('html').getAttribute('lang'),
      stage: await page.locator('#summary .stage').innerText(),
      headings: await page.locator('section h2').allInnerTexts(),
    };
    await page.screenshot({ path: outDir + '/case-zh.png', fullPage: true });

    // 4. A browser without a wallet is told so.
    const bare = await context.newPage();
    await bare.goto(base + '/ui/sign-in?lang=zh-Hans');
    await bare.evaluate(() => { delete window.ethereum; });
    await bare.click('#sign-in');
    out.noWallet = await bare.locator('#sign-in-status').innerText();

    // 5. A certificate's URL with a digest the service never issued: the public page says
    // so in both languages, styled (its inline style and script carry the CSP nonce).
    const pub = await context.newPage();
    const pubConsole = [];  // chromium logs the 404 itself as an error: kept apart
    pub.on('console', (m) => pubConsole.push(m.type() + ': ' + m.text()));
    const resp = await pub.goto(base + '/verify/' + 'ab'.repeat(32) + '?lang=zh-Hans');
    out.verify = {
      status: resp.status(),
      heading: await pub.locator('h1').innerText(),
      text: await pub.locator('main').innerText(),
      headerColor: await pub.locator('header').evaluate((e) => getComputedStyle(e).backgroundColor),
      console: pubConsole,
    };
    await pub.screenshot({ path: outDir + '/verify-404-zh.png', fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
