// /docs (Swagger UI) and /redoc (ReDoc) in chromium with every request not to loopback
// aborted and counted: both render the service's OpenAPI from files it serves itself.
// Prints one JSON object.
//
// usage: node apidocs.cjs BASE_URL OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { launch } = require('./driver.cjs');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings on the page as it is now (none let through). */
async function axe(page) {
  await page.evaluate(AXE + '\n;undefined');
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`));
}

async function main() {
  const [base, outDir] = process.argv.slice(2);
  const browser = await launch();
  const out = { blocked: [], console: [] };
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:' ||
          url.protocol === 'blob:') {
        return route.continue();
      }
      out.blocked.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
    await page.goto(base + '/docs');
    await page.waitForSelector('.opblock', { timeout: 30000 });
    out.swagger = { title: await page.locator('.info .title').first().innerText(),
      operations: await page.locator('.opblock').count(),
      linksInToggles: await page.evaluate(() => Array.from(document.querySelectorAll(
        '.opblock-summary-control')).filter((b) => b.querySelector('a[href], button, input, select, textarea, [tabindex]'))
        .length),
      axe: await axe(page) };
    await page.screenshot({ path: path.join(outDir, 'docs.png') });
    // One operation opened (parameters, responses, the schemas): still clean.
    await page.locator('.opblock-summary-control').nth(2).click();
    await page.waitForSelector('.opblock.is-open .responses-wrapper', { timeout: 30000 });
    out.swagger.axeOpen = await axe(page);
    await page.screenshot({ path: path.join(outDir, 'docs-open.png'), fullPage: false });
    await page.goto(base + '/redoc');
    await page.waitForSelector('.api-content h1', { timeout: 30000 });
    out.redoc = { title: await page.locator('.api-content h1').first().innerText(),
      operations: await page.locator('[data-section-id^="operation/"]').count(),
      axe: await axe(page) };
    await page.screenshot({ path: path.join(outDir, 'redoc.png') });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
