/* chainarb pages, every page: times in the viewer's zone, countdowns to deadlines.
 *
 * Why a file and not inline: one script for every page, served by the service (CSP allows
 * it by nonce). Data in #layout-data: the service's clock when the page was made (a
 * countdown counts from the service's time, not a wrong device clock) and the words.
 * <time datetime> holds UTC ISO 8601; its text becomes the local time (title: the UTC).
 * [data-countdown="<ISO>"] shows the time left, or that the deadline passed.
 */
(function () {
  'use strict';
  var el = document.getElementById('layout-data');
  var DATA = el ? JSON.parse(el.textContent) : { serverNow: Date.now() / 1000 };
  var loadedAt = Date.now();
  var lang = document.documentElement.lang;

  document.querySelectorAll('time[datetime]').forEach(function (t) {
    var d = new Date(t.getAttribute('datetime'));
    if (!isNaN(d)) { t.title = t.getAttribute('datetime'); t.textContent = d.toLocaleString(lang); }
  });

  function now() { return Math.floor(DATA.serverNow + (Date.now() - loadedAt) / 1000); }

  function pad(n) { return String(n).padStart(2, '0'); }

  function tick() {
    document.querySelectorAll('[data-countdown]').forEach(function (c) {
      var left = Math.floor(Date.parse(c.dataset.countdown) / 1000) - now();
      if (isNaN(left)) { return; }
      if (left <= 0) { c.textContent = DATA.passed; c.className = 'countdown passed'; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), s = left % 60;
      c.textContent = DATA.left.replace('{d}', d).replace('{h}', pad(h))
        .replace('{m}', pad(m)).replace('{s}', pad(s));
    });
  }
  tick(); setInterval(tick, 1000);
}());
