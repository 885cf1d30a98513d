// Every page each person reaches, in English and in Chinese, with an extension wallet
// (injected EIP-1193): sign in through the sign-in page, the case list, each case the
// person may open; plus what a visitor who is not signed in sees. Every page is checked by
// the harness (axe-core, loopback only) and the main ones are screenshotted.
//
// config: {people: [{name, key, lang, profile?}], cases: [caseId], visitor: {paths: [...]}}
'use strict';
const { injectExtension } = require('../extension.cjs');
const { signInExtension, signProfile } = require('../steps.cjs');

module.exports = async function pages(h, config) {
  const out = { people: {}, visitor: {} };
  for (const spec of config.people) {
    const other = spec.lang === 'en' ? 'zh-Hans' : 'en';
    const p = await h.person(spec.name + '-' + spec.lang, { lang: spec.lang });
    const wallet = await injectExtension(p.context, spec.key, { id: spec.name });
    const seen = { address: wallet.address };
    seen.signIn = await signInExtension(p, { shot: `${spec.name}-sign-in-${spec.lang}` });
    if (spec.profile) {
      seen.profile = await signProfile(p, spec.profile, { shot: `${spec.name}-profile-${spec.lang}` });
      await p.visit('/ui/cases');
    }
    seen.listHeading = await p.text('h1');
    seen.listText = await p.text('main');
    await p.shot(`${spec.name}-cases-${spec.lang}`);
    seen.cases = {};
    for (const caseId of config.cases) {
      const resp = await p.visit(`/ui/cases/${caseId}`);
      const one = { status: resp.status() };
      if (resp.status() === 200) {
        one.stage = await p.page.locator('#summary .stage').getAttribute('data-stage');
        one.forms = await p.page.locator('#actions form[data-step]').evaluateAll(
          (fs) => fs.map((f) => f.dataset.step));
        if (caseId === config.cases[0]) { await p.shot(`${spec.name}-case-${spec.lang}`); }
      }
      seen.cases[caseId] = one;
    }
    // The page's own language switch leads to the same page in the other language.
    await p.clickTo(`.lang-switch a[hreflang="${other}"]`);
    seen.switched = { lang: await p.page.locator('html').getAttribute('lang'),
      url: p.page.url() };
    await p.visit(`/ui/cases?lang=${other}`);
    await p.shot(`${spec.name}-cases-${other}`);
    seen.signed = wallet.log.map((l) => l.method);
    out.people[spec.name + '-' + spec.lang] = seen;
  }
  // The first person looks at the first case again: the others' names are there now.
  const first = h.people[0];
  await first.visit(`/ui/cases/${config.cases[0]}`);
  out.again = { text: await first.text('main') };
  await first.visit('/ui/cases');
  out.again.list = await first.text('main');
  // Two extension wallets announced over EIP-6963 and no window.ethereum: the sign-in page
  // lists both and the person picks the second; only that one is asked to sign.
  if (config.chooser) {
    const c = await h.person('chooser', { lang: 'zh-Hans' });
    const wallets = [];
    for (const [i, key] of config.chooser.keys.entries()) {
      wallets.push(await injectExtension(c.context, key, { id: `pick${i}`,
        name: `Test Wallet ${i + 1}`, plain: false }));
    }
    await c.visit('/ui/sign-in');
    await c.page.waitForSelector('#extension-choice:not([hidden]) #extension-list input');
    const listed = await c.page.locator('#extension-list label').allInnerTexts();
    await c.page.check('#extension-list input[value="org.chainarb.test.pick1"]');
    await c.shot('chooser-zh-Hans');
    await Promise.all([c.page.waitForURL('**/ui/cases?lang=zh-Hans', { timeout: 30000 }),
      c.page.click('#sign-in')]);
    await c.check();
    out.chooser = { listed, signedInAs: await c.page.evaluate(() => window.chainarbWallet.address()),
      asked: wallets.map((w) => w.log.map((l) => l.method)) };
  }
  // A visitor with no wallet and no session.
  const v = await h.person('visitor', { lang: 'en' });
  for (const path of config.visitor.paths) {
    const resp = await v.visit(path, { waitFor: (config.visitor.waitFor || {})[path] });
    out.visitor[path] = { status: resp.status(), heading: await v.page.locator('h1').first()
      .innerText().catch(() => null), url: v.page.url() };
  }
  return out;
};
