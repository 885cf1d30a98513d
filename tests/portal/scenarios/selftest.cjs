// The harness's own checks must be able to fail: a page given an image from another host
// with no text alternative and a fetch to another host (both refused by the CSP), a
// navigation to another host (aborted by the route), an uncaught error, and a page visited
// but never checked. The Python side asserts each is reported.
'use strict';

module.exports = async function selftest(h) {
  const p = await h.person('probe', { lang: 'en' });
  await p.visit('/ui/sign-in');
  await p.page.evaluate(() => {
    const img = document.createElement('img');
    img.src = 'https://example.org/tracker.png';
    document.querySelector('main').appendChild(img);
    fetch('http://example.net/beacon').catch(() => {});
    setTimeout(() => { throw new Error('selftest boom'); }, 0);
  });
  await p.page.waitForTimeout(500);
  await p.check();
  const other = await p.context.newPage();  // a page going off loopback itself
  await other.goto('https://example.com/').catch(() => {});
  await other.close();
  await p.page.goto(p.url('/ui/cases'));  // reached, never checked
  return { ok: true };
};
