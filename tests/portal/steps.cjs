// What a person does in the pages, one function per step, shared by the scenarios. Each
// step goes through the pages only (clicks, fields, files) and checks every page reached.
'use strict';

/** Sign in with the extension wallet from the sign-in page; lands on the case list. */
async function signInExtension(p, opts = {}) {
  await p.visit('/ui/sign-in', { shot: opts.shot });
  const title = await p.text('h1');
  await Promise.all([p.page.waitForURL('**/ui/cases?lang=' + p.lang, { timeout: 30000 }),
    p.page.click('#sign-in')]);
  await p.check();
  return { title };
}

/** Fill in and sign one's profile on /ui/profile; the page's result line. */
async function signProfile(p, profile, opts = {}) {
  await p.visit('/ui/profile');
  const fields = { '#profile-name': profile.name, '#profile-name-zh': profile.nameZh,
    '#profile-country': profile.country, '#profile-contact': profile.contact };
  for (const [sel, value] of Object.entries(fields)) {
    if (value !== undefined) { await p.page.fill(sel, value); }
  }
  if (profile.language) { await p.page.selectOption('#profile-language', profile.language); }
  await p.page.click('#profile-sign');
  await p.page.waitForSelector('#profile-result.ok, #profile-result.error', { timeout: 30000 });
  const result = { cls: await p.page.getAttribute('#profile-result', 'class'),
    text: await p.text('#profile-result') };
  if (result.cls.includes('ok')) { await p.page.waitForEvent('load', { timeout: 10000 }); }
  result.current = await p.text('#profile-current');
  await p.check({ shot: opts.shot });
  return result;
}

module.exports = { signInExtension, signProfile };
