// A court works through its pages in chromium: its cases, the judicial package downloaded
// from the page, the package uploaded to the service's checks, the decision signed in the
// wallet: the built-in one restored from a recovery file (extra.builtin), or an extension
// stand-in (window.ethereum backed by @metamask/eth-sig-util; the key stays in Node).
// The session comes from the test (the court signed in through the API; sign-in has its own
// tests): its token is set as the pages' cookie. Prints one JSON object.
//
// usage: node court.cjs BASE CASE_ID KEY TOKEN LANG OUT_DIR MODE '{"...": ...}'
//   MODE "download": the list, the workspace, one click on download (its result)
//   MODE "decide":   download, check the file (and extra.upload files), sign the decision
//   MODE "look":     the list and the workspace as they are (and extra.upload checked)
'use strict';
const path = require('path');
const fs = require('fs');
const { account, axe: axeFindings, collectConsole, context, injectWallet, launch, loopbackOnly }
  = require('./driver.cjs');

async function main() {
  const [base, caseId, keyHex, token, lang, outDir, mode, extraJson] = process.argv.slice(2);
  const extra = JSON.parse(extraJson || '{}');
  const { key } = account(keyHex);
  const browser = await launch(['--lang=' + (lang === 'en' ? 'en-GB' : 'zh-CN')]);
  const out = { console: [], signed: [], typed: [], blocked: [], axe: [] };
  try {
    const ctx = await context(browser, lang);
    await loopbackOnly(ctx, out.blocked);  // loopback only: any other request is reported
    await ctx.addCookies([{ name: 'chainarb_session', value: token, url: base,
      httpOnly: true, sameSite: 'Strict' }]);
    // extra.builtin {keystore, passphrase}: the built-in wallet, restored from the recovery
    // file below; else an extension stand-in (window.ethereum)
    if (!extra.builtin) {
      await injectWallet(ctx, key, { onTyped: (data) => { out.signed.push(data.primaryType);
        out.typed.push(data); } });
    }
    const page = collectConsole(await ctx.newPage(), out.console);

    // The court's list of cases, then the case's workspace through its link.
    await page.goto(base + '/ui/court?lang=' + lang);
    if (extra.builtin) {  // restore from the recovery file, then lock: signing asks again
      out.restored = await page.evaluate(async ({ ks, pw }) => {
        const a = await window.chainarbWallet.builtin.restore(ks, pw);
        window.chainarbWallet.builtin.lock();
        return a;
      }, { ks: extra.builtin.keystore, pw: extra.builtin.passphrase });
      out.kind = await page.evaluate(() => window.chainarbWallet.kind());
    }
    out.list = {
      heading: await page.locator('h1').innerText(),
      rows: await page.locator('#court-cases tbody tr').evaluateAll((rs) => rs.map((r) => ({
        caseId: r.dataset.case, stage: r.querySelector('.stage').dataset.stage,
        decision: r.querySelector('.decision').innerText }))),
    };
    await page.screenshot({ path: path.join(outDir, `court-list-${mode}-${lang}.png`), fullPage: true });
    await axe(page, 'list', out);
    await Promise.all([page.waitForURL('**/ui/court/cases/' + caseId + '**'),
      page.click(`#court-cases a[href^="/ui/court/cases/${caseId}"]`)]);
    out.workspace = await workspace(page);
    await axe(page, 'workspace', out);
    if (mode === 'look') {
      await checkFiles(page, extra.upload || [], lang, outDir, out);
      await page.screenshot({ path: path.join(outDir, `court-after-${lang}.png`), fullPage: true });
      return;
    }

    // 1. Download the package from the page.
    const saved = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'court-')), 'package.zip');
    const waiting = page.waitForEvent('download', { timeout: 60000 }).then(async (d) => {
      await d.saveAs(saved); return d.suggestedFilename(); }).catch(() => null);
    await page.click('#package-download');
    await page.waitForSelector('#package-status.ok, #package-status.error', { timeout: 60000 });
    out.download = { cls: await page.getAttribute('#package-status', 'class'),
      text: await page.locator('#package-status').innerText(),
      digest: await page.getAttribute('#package-status', 'data-digest'),
      manifest: await page.getAttribute('#package-status', 'data-manifest') };
    if (out.download.cls.includes('ok')) {
      out.download.filename = await waiting;
      out.download.path = saved;
      out.download.exportRows = await page.locator('#package-exports tbody tr').count();
      out.download.selected = await page.locator('#step-confirm-packageHash').inputValue()
        .catch(() => null);
    }
    await page.screenshot({ path: path.join(outDir, `court-download-${lang}.png`), fullPage: true });
    if (mode === 'download') { return; }

    // 2. The service's checks: each extra upload first (e.g. a tampered copy), then the file.
    await checkFiles(page, [...(extra.upload || []), saved], lang, outDir, out);

    // 3. The decision, signed in the wallet, keyboard only.
    const step = extra.decision || 'confirm';
    for (const [sel, value] of Object.entries(extra.fill || {})) { await page.fill(sel, value); }
    out.decisionPackage = await page.locator(`#step-${step}-packageHash`).inputValue();
    await page.focus(`form[data-step=${step}] button[type=submit]`);
    await page.keyboard.press('Enter');
    const form = `form[data-step=${step}]`;
    if (extra.builtin) {  // the wallet's prompt says what is signed; the passphrase unlocks
      await page.waitForSelector('#wallet-prompt[open]', { timeout: 30000 });
      out.prompt = { what: await page.locator('#wallet-prompt-what').innerText(),
        rows: await page.locator('#wallet-prompt table.wallet-fields tr').evaluateAll(
          (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[1].innerText])) };
      await page.screenshot({ path: path.join(outDir, `court-prompt-${lang}.png`) });
      await page.fill('#wallet-prompt-passphrase', extra.builtin.passphrase);
      await page.click('#wallet-prompt-sign');
    }
    await page.waitForSelector(form + ' .result.ok, ' + form + ' .result.error', { timeout: 60000 });
    out.result = { cls: await page.getAttribute(form + ' .result', 'class'),
      text: await page.locator(form + ' .result').innerText() };
    if (out.result.cls.includes('ok')) {
      await page.waitForEvent('load', { timeout: 15000 });
      out.after = await workspace(page);
      await axe(page, 'decided', out);
      await page.screenshot({ path: path.join(outDir, `court-decided-${lang}.png`), fullPage: true });
    }
  } finally {
    await browser.close();
    process.stdout.write(JSON.stringify(out) + '\n');
  }
}

// Upload each file to the service's checks through the page; what the page shows of each.
async function checkFiles(page, files, lang, outDir, out) {
  out.checks = [];
  for (const file of files) {
    await page.setInputFiles('#check-file', file);
    await page.focus('#check-run');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#check-verdict, #check-status.error', { timeout: 120000 });
    out.checks.push(await page.evaluate(() => {
      const q = (s) => document.querySelector(s);
      const verdict = q('#check-verdict');
      return {
        outcome: verdict && verdict.dataset.outcome, verdict: verdict && verdict.innerText,
        status: q('#check-status').innerText, progress: q('#check-progress').value,
        runBy: q('#check-run-by') && q('#check-run-by').innerText,
        digest: q('#check-digest') && q('#check-digest').innerText,
        rows: Array.from(document.querySelectorAll('#check-table tbody tr')).map((r) => ({
          name: r.dataset.check, status: r.dataset.status, label: r.cells[0].innerText,
          result: r.cells[1].innerText, reason: r.cells[2].innerText })),
        blocks: Array.from(document.querySelectorAll('#check-blocks tbody tr')).map((r) => ({
          chain: r.cells[0].innerText, number: r.cells[1].innerText, hash: r.cells[2].innerText,
          time: r.cells[3].querySelector('time').getAttribute('datetime') })),
        confirmHow: q('#check-confirm-how') && q('#check-confirm-how').innerText,
        yours: q('#check-yours') && q('#check-yours').innerText,
        notYours: q('#check-not-yours') && q('#check-not-yours').innerText,
      };
    }));
    await page.screenshot({ path: path.join(outDir, `court-check-${out.checks.length}-${lang}.png`),
      fullPage: true });
    await axe(page, 'checked', out);
  }
}

// axe-core 4.14 in the page: serious and critical violations, by rule and target.
async function axe(page, where, out) {
  const found = await axeFindings(page);
  out.axe.push(...found.map((v) => ({ where, id: v.id, impact: v.impact, targets: v.nodes })));
}

async function workspace(page) {
  await page.waitForSelector('#package');
  return page.evaluate(() => ({
    title: document.querySelector('#summary h1').innerText,
    stage: document.querySelector('#summary .stage').dataset.stage,
    headings: Array.from(document.querySelectorAll('section h2')).map((h) => h.innerText),
    forms: Array.from(document.querySelectorAll('#actions form[data-step]')).map((f) => f.dataset.step),
    exports: document.querySelectorAll('#package-exports tbody tr').length,
    decision: document.querySelector('#court-decision') &&
      document.querySelector('#court-decision').innerText,
    packageFirst: !!document.querySelector('#package-first'),
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
