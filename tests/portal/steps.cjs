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

module.exports = { signInExtension };
