// One person on the institution's or a neutral's pages in chromium (playwright-core): sign in
// with the wallet stand-in (window.ethereum → Node → @metamask/eth-sig-util; the key never
// enters the page), then run the test's script of acts, keyboard first. Prints one JSON
// object: what each act read, the typed data the wallet signed, the console.
//
// usage: node desk.cjs BASE_URL KEY LANG '[{"goto": "/ui/..."}, {"fill": [sel, text]},
//   {"press": sel}, {"wait": sel}, {"text": sel}, {"attr": [sel, name]}, {"count": sel},
//   {"shot": path}, {"axe": true}, {"file": [sel, name, mime, content]}]'
'use strict';
const { account, axe, collectConsole, context, injectWallet, launch, loopbackOnly, run, signIn } =
  require('./driver.cjs');

async function main() {
  const [base, keyHex, lang, actsJson] = process.argv.slice(2);
  const acts = JSON.parse(actsJson);
  const { key } = account(keyHex);
  const browser = await launch();
  const out = { console: [], typed: [], reads: [], offsite: [], axe: [] };
  try {
    const ctx = await context(browser, lang);
    await loopbackOnly(ctx, out.offsite);  // the pages need no other host
    await injectWallet(ctx, key, { onTyped: (data) => out.typed.push(data) });
    const page = collectConsole(await ctx.newPage(), out.console);
    await signIn(page, base, lang);
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
      if (act.axe) { out.axe.push({ url: page.url(), violations: await axe(page) }); }
    }
  } finally {
    await browser.close();
  }
  return out;
}

run(main);
