// The portal's browser harness: Debian's chromium driven by playwright-core, one browser
// context per person, and three checks made on everything the people do.
//
// - Network: every request to anything but loopback is aborted and counted as a failure
//   (the pages must work offline: scripts, styles and fonts come from the service), and so
//   is anything the page's Content-Security-Policy refused.
// - Accessibility: axe-core 4.14.1 (npm, pinned) is evaluated in every page a person visits
//   (`check`), and a serious or critical violation is a failure; a page a person reached but
//   never checked is a failure too, so no page slips past.
// - Errors: an uncaught exception in a page is a failure.
// Screenshots go to the run's out dir; the ones the docs show (`{keep: true}`) to the keep
// dir (docs/portal/screenshots when the Python side keeps them). A scenario (tests/portal/scenarios/NAME.cjs) exports `async (harness, config) =>
// result`; run.cjs runs it and prints {result, failures, checked, shots} as one JSON line.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const BLOCKING = new Set(['serious', 'critical']);

function isLoopback(url) {
  let u;
  try { u = new URL(url); } catch (e) { return false; }
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') { return true; }
  return LOOPBACK.has(u.hostname) || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
}

/** The page's address without the origin: what the checks name a page by. */
function where(url) {
  const u = new URL(url);
  const lang = u.searchParams.get('lang');
  return u.pathname + (lang ? '?lang=' + lang : '');
}

class Harness {
  constructor({ base, outDir, keepDir, chromium: exe }) {
    this.base = base.replace(/\/$/, '');
    this.outDir = outDir;
    this.keepDir = keepDir || outDir;  // the screenshots the docs show (shot(…, {keep}))
    this.exe = exe || process.env.CHROMIUM || '/usr/bin/chromium';
    this.failures = [];   // {kind: blocked|csp|axe|unchecked|pageerror, who, where, detail}
    this.checked = [];    // {who, where, violations (all impacts, counted)}
    this.shots = [];
    this.people = [];
    this.moderate = {};   // axe rule id -> count, for what is not failing yet
  }

  async start() {
    this.browser = await chromium.launch({ executablePath: this.exe,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
        '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync'] });
    return this;
  }

  fail(kind, who, at, detail) { this.failures.push({ kind, who, where: at, detail }); }

  /** A person in their own browser context (own storage, cookies, wallet). */
  async person(name, opts = {}) {
    const lang = opts.lang || 'en';
    const context = await this.browser.newContext({
      locale: lang === 'en' ? 'en-US' : 'zh-CN',
      timezoneId: opts.timezoneId || (lang === 'en' ? 'Europe/Berlin' : 'Asia/Shanghai'),
      viewport: opts.viewport || { width: 1200, height: 900 },
      serviceWorkers: 'block', acceptDownloads: true,
      // A person coming back: their cookies and the wallet kept in the browser's storage.
      ...(opts.storageState ? { storageState: opts.storageState } : {}),
    });
    const p = new Person(this, name, lang, context);
    p.passphrase = opts.passphrase || '';
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLoopback(url)) { return route.continue(); }
      this.fail('blocked', name, p.page ? p.page.url() : '', url);
      return route.abort('blockedbyclient');
    });
    // What the page's Content-Security-Policy refused never reaches the network (so the
    // route above never sees it): a page that tried to load it is a failure all the same.
    await context.exposeBinding('__cspViolation', (source, detail) => {
      this.fail('csp', name, where(source.page.url()), detail);
    });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__cspViolation(`${e.blockedURI} (${e.effectiveDirective})`);
      });
    });
    if (opts.cdpSetup) { await opts.cdpSetup(context); }
    p.page = await context.newPage();
    p.watch(p.page);
    this.people.push(p);
    return p;
  }

  async close() {
    for (const p of this.people) {
      for (const at of p.visited) {
        if (!p.checkedAt.has(at)) { this.fail('unchecked', p.name, at, 'visited, never checked'); }
      }
    }
    if (this.browser) { await this.browser.close(); }
  }

  summary(result) {
    return { result, failures: this.failures, checked: this.checked, shots: this.shots,
      moderate: this.moderate };
  }
}

class Person {
  constructor(harness, name, lang, context) {
    this.h = harness; this.name = name; this.lang = lang; this.context = context;
    this.visited = new Set(); this.checkedAt = new Set(); this.console = [];
  }

  /** Watch a page of this person's: navigations to check, uncaught errors. */
  watch(page) {
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame() && frame.url().startsWith(this.h.base)) {
        this.visited.add(where(frame.url()));
      }
    });
    page.on('pageerror', (e) => this.h.fail('pageerror', this.name, where(page.url()),
      String(e && e.message || e)));
    page.on('console', (m) => this.console.push(m.type() + ': ' + m.text()));
  }

  url(p) {
    if (/^https?:/.test(p)) { return p; }
    const sep = p.includes('?') ? '&' : '?';
    return this.h.base + p + (p.includes('lang=') ? '' : sep + 'lang=' + this.lang);
  }

  /** Open a page of the service (in the person's language unless the path says) and check it. */
  async visit(p, opts = {}) {
    const resp = await this.page.goto(this.url(p), { waitUntil: 'load' });
    // A page its script builds after load (Swagger UI, ReDoc): checked once it is there.
    if (opts.waitFor) { await this.page.waitForSelector(opts.waitFor, { timeout: 30000 }); }
    await this.check(opts);
    return resp;
  }

  /** axe-core over the current page: serious and critical violations are failures, with no
   * exception: the third-party viewers (/docs, /redoc) included. */
  async check(opts = {}) {
    const page = opts.page || this.page;
    await page.waitForLoadState('load');
    const at = where(page.url());
    const has = await page.evaluate(() => typeof window.axe !== 'undefined');
    if (!has) { await page.evaluate(AXE + '\n;undefined'); }
    const res = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' — ' +
          (n.failureSummary || '').split('\n').slice(0, 2).join(' ')) }));
    });
    for (const v of res) {
      if (BLOCKING.has(v.impact)) {
        this.h.fail('axe', this.name, at, `${v.id} (${v.impact}): ${v.help} — ${v.nodes.join('; ')}`);
      } else {
        this.h.moderate[v.id] = (this.h.moderate[v.id] || 0) + 1;
      }
    }
    this.checkedAt.add(at);
    this.h.checked.push({ who: this.name, where: at, violations: res.length });
    if (opts.shot) { await this.shot(opts.shot, { page }); }
    return res;
  }

  async shot(name, opts = {}) {
    const file = path.join(opts.keep ? this.h.keepDir : this.h.outDir, name + '.png');
    await (opts.page || this.page).screenshot({ path: file, fullPage: opts.fullPage !== false });
    this.h.shots.push(file);
    return file;
  }

  /** Click and wait for the navigation it causes, then check the page reached. */
  async clickTo(selector, opts = {}) {
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load', timeout: 30000 }),
      this.page.click(selector)]);
    await this.check(opts);
  }

  text(selector) { return this.page.locator(selector).innerText(); }

  /** Keep this person's cookies and storage (the built-in wallet) for a later run. */
  async save(file) { await this.context.storageState({ path: file }); return file; }
}

module.exports = { Harness, Person, isLoopback, where };
