// The people pages in chromium: a person fills in and signs their profile with a wallet
// stand-in (window.ethereum backed by @metamask/eth-sig-util; the key stays in Node), then
// the case list, a case page and a profile are read and screenshotted in both languages.
// Sessions come as cookies (the sign-in page is the wallet's; tested there).
// Prints one JSON object.
//
// usage: node people.cjs BASE_URL CASE_ID OUT_DIR '{"who": {"key": "0x..", "token": ".."}}'
'use strict';
const { account, collectConsole, context, injectWallet, launch, run } = require('./driver.cjs');

/** A person's own browser: their session cookie and their wallet (the key stays here). */
async function person(browser, base, who, lang, out) {
  const ctx = await context(browser, lang);
  await ctx.addCookies([{ name: 'chainarb_session', value: who.token, url: base }]);
  await injectWallet(ctx, account(who.key).key, { onTyped: (data) => out.typed.push(data) });
  return collectConsole(await ctx.newPage(), out.console);
}

async function main() {
  const [base, caseId, outDir, peopleJson] = process.argv.slice(2);
  const people = JSON.parse(peopleJson);
  const browser = await launch();
  const out = { console: [], typed: [] };
  try {
    // 1. A newcomer's profile: refused without a name, then signed and saved.
    const p = await person(browser, base, people.stranger, 'en', out);
    await p.goto(base + '/ui/profile?lang=en');
    out.emptyNotice = await p.locator('#profile-none').innerText();
    await p.click('#profile-sign');
    out.noName = { text: await p.locator('#profile-result').innerText(),
      invalid: await p.locator('#profile-name').getAttribute('aria-invalid') };
    await p.fill('#profile-name', 'Wang Fang');
    await p.fill('#profile-name-zh', '王芳');
    await p.fill('#profile-country', 'cn');
    await p.selectOption('#profile-language', 'zh-Hans');
    await p.fill('#profile-contact', 'wang.fang@example.cn');
    await p.screenshot({ path: outDir + '/profile-form-en.png', fullPage: true });
    await Promise.all([p.waitForSelector('td[data-field="profile_name_zh"]', { timeout: 20000 }),
      p.click('#profile-sign')]);
    out.saved = await p.locator('#profile-current table').innerText();
    out.header = await p.locator('header .who').innerText();
    await p.screenshot({ path: outDir + '/profile-en.png', fullPage: true });
    await p.goto(base + '/ui/profile?lang=zh-Hans');
    out.headerZh = await p.locator('header .who').innerText();
    await p.screenshot({ path: outDir + '/profile-zh.png', fullPage: true });

    // 2. The buyer's case list and case page, both languages: names, words, countdowns.
    for (const lang of ['en', 'zh-Hans']) {
      const b = await person(browser, base, people.buyer, lang, out);
      await b.goto(base + '/ui/cases?lang=' + lang);
      await b.waitForFunction(() => {
        const c = document.querySelector('#cases .countdown');
        return c && c.textContent.length > 0;
      });
      out['list_' + lang] = { heading: await b.locator('h1').innerText(),
        row: await b.locator('#cases tbody tr').first().innerText(),
        countdown: await b.locator('#cases .countdown').first().innerText() };
      await b.screenshot({ path: outDir + '/cases-' + lang + '.png', fullPage: true });
      await b.goto(base + '/ui/cases/' + caseId + '?lang=' + lang);
      out['case_' + lang] = { h1: await b.locator('#summary h1').innerText(),
        timeline: await b.locator('#timeline tbody').innerText() };
      await b.screenshot({ path: outDir + '/case-' + lang + '.png', fullPage: true });
      await b.click('#parties a.person >> nth=1');
      await b.waitForSelector('#person');
      out['person_' + lang] = await b.locator('#person').innerText();
      await b.screenshot({ path: outDir + '/person-' + lang + '.png', fullPage: true });
    }

    // 3. The institution's admin: every case under the institution's heading.
    const a = await person(browser, base, people.admin, 'zh-Hans', out);
    await a.goto(base + '/ui/cases?lang=zh-Hans');
    out.admin = { headings: await a.locator('main h1, main h2').allInnerTexts(),
      rows: await a.locator('#institution-cases tbody tr').count() };
    await a.screenshot({ path: outDir + '/cases-admin-zh.png', fullPage: true });
  } finally {
    await browser.close();
  }
  return out;
}

run(main);
