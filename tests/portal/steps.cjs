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

// --- the built-in wallet (no extension: the page's own wallet, backend/web/wallet.py) ---

/** The wallet prompt is open: approve it (typing the passphrase when this tab is locked);
 * what it showed: {what, rows}. */
const PROMPT = '#wallet-prompt[open]:not([data-e2e-approved])';  // one not yet approved

async function approvePrompt(p, opts = {}) {
  const page = p.page;
  await page.waitForSelector(PROMPT, { timeout: opts.timeout || 30000 });
  const shown = { what: await page.locator('#wallet-prompt-what').innerText(),
    rows: await page.locator('#wallet-prompt table.wallet-fields tr').evaluateAll(
      (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[1].innerText])) };
  if (!p.promptChecked) {  // the prompt is a page state too: held to axe once per person
    p.promptChecked = true;
    await p.check();
  }
  if (opts.shot) { await p.shot(opts.shot, { keep: opts.keep, fullPage: false }); }
  if (await page.locator('#wallet-prompt-passphrase').count()) {
    await page.fill('#wallet-prompt-passphrase', p.passphrase);
  }
  // Marked, not waited out: a locked tab decrypts the keystore (scrypt) before it closes,
  // and the step's next signature opens a new prompt.
  await page.locator(PROMPT).evaluate((d) => { d.dataset.e2eApproved = '1'; });
  await page.click('#wallet-prompt[data-e2e-approved] #wallet-prompt-sign');
  p.prompts = (p.prompts || 0) + 1;
  return shown;
}

/** A new built-in wallet from the sign-in page: passphrase twice, the recovery file
 * downloaded into outDir, then signing in (the prompt shows the message). */
async function createWallet(p, outDir, opts = {}) {
  const page = p.page;
  await p.visit('/ui/sign-in');
  if (opts.shot) { await p.shot(opts.shot, { keep: opts.keep }); }
  await page.fill('#new-passphrase', p.passphrase);
  await page.fill('#new-passphrase2', p.passphrase);
  await page.click('#create-button');
  await page.waitForSelector('#recovery-step:not([hidden])', { timeout: 60000 });
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.click('#download-recovery')]);
  const file = require('path').join(outDir, `recovery-${p.name}.json`);
  await download.saveAs(file);
  await page.click('#continue-button');
  const landed = page.waitForURL('**/ui/cases?lang=' + p.lang, { timeout: 30000 });
  const shown = await approvePrompt(p, { shot: opts.promptShot, keep: opts.keep });
  await landed;
  await p.check();
  return { address: await page.evaluate(() => window.chainarbWallet.address()),
    recoveryFile: file, prompt: shown };
}

/** Restore the built-in wallet from a recovery file on the sign-in page and sign in. */
async function restoreWallet(p, file, opts = {}) {
  const page = p.page;
  await p.visit('/ui/sign-in', { shot: opts.shot });
  await page.setInputFiles('#restore-file', file);
  await page.fill('#restore-passphrase', p.passphrase);
  await page.click('#restore-button');
  const landed = page.waitForURL('**/ui/cases?lang=' + p.lang, { timeout: 60000 });
  await approvePrompt(p, { timeout: 60000 });
  await landed;
  await p.check();
  return { address: await page.evaluate(() => window.chainarbWallet.address()) };
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
  const reloaded = p.page.waitForEvent('load', { timeout: 60000 }).catch(() => null);
  await p.page.click('#profile-sign');
  await settle(p, '#profile-result.ok, #profile-result.error');
  const result = { cls: await p.page.getAttribute('#profile-result', 'class'),
    text: await p.text('#profile-result') };
  if (result.cls.includes('ok')) { await reloaded; }
  result.current = await p.text('#profile-current');
  await p.check({ shot: opts.shot });
  return result;
}

/** Wait for `done` to show, approving every wallet prompt on the way (a step may ask for
 * two signatures: the record and the escrow's Settlement or Award it carries) and, in
 * `form`, signing an upload's commitment once the page shows it (the page shows the
 * commitment it recomputed from the file before anything is signed). */
async function settle(p, done, timeoutMs = 60000, form = null) {
  const until = Date.now() + timeoutMs;
  const commit = form ? form + ' .sign-commitment:not([data-e2e-clicked])' : null;
  for (;;) {
    const which = await (await p.page.waitForFunction(([sel, prompt, c]) => {
      if (document.querySelector(sel)) { return 'done'; }
      if (document.querySelector(prompt)) { return 'prompt'; }
      const b = c && document.querySelector(c);
      return b && b.offsetParent !== null && !b.disabled ? 'commitment' : null;
    }, [done, PROMPT, commit], { timeout: Math.max(1000, until - Date.now()) })).jsonValue();
    if (which === 'done') { return; }
    if (which === 'prompt') {
      await approvePrompt(p);
    } else {
      p.commitments = (p.commitments || []).concat(
        [await p.page.locator(form + ' .commitment-value').innerText()]);
      await p.page.locator(commit).evaluate((b) => { b.dataset.e2eClicked = '1'; });
      await p.page.click(form + ' .sign-commitment[data-e2e-clicked]');
    }
    if (Date.now() > until) { throw new Error(`${p.name}: no verdict for ${done}`); }
  }
}

/**
 * One step on the case page: open the case, fill the step's form (fields by selector,
 * files by selector), submit it with the keyboard, wait for the page's verdict and, when
 * it is done, for the page to reload. Returns {ok, text, stage, formsAfter}.
 * opts.form: the form's selector when there are several of one step (accept-0 …).
 */
async function act(p, caseId, step, opts = {}) {
  const page = p.page;
  await p.visit(`/ui/cases/${caseId}`);  // afresh: the others have moved the case since
  const form = opts.form || `form[data-step=${step}]`;
  await page.waitForSelector(form, { timeout: 15000 });
  for (const [sel, value] of Object.entries(opts.fill || {})) {
    if ((await page.locator(sel).evaluate((e) => e.tagName)) === 'SELECT') {
      await page.selectOption(sel, value);
    } else {
      await page.fill(sel, value);
    }
  }
  for (const [sel, file] of Object.entries(opts.files || {})) {
    await page.setInputFiles(sel, { name: file.name, mimeType: file.mime,
      buffer: Buffer.from(file.content, file.base64 ? 'base64' : 'utf8') });
  }
  await page.focus(form + ' button[type=submit]');
  const reloaded = page.waitForEvent('load', { timeout: 40000 }).catch(() => null);
  await page.keyboard.press('Enter');
  await settle(p, form + ' .result.ok, ' + form + ' .result.error', 90000, form);
  const out = { step, ok: (await page.getAttribute(form + ' .result', 'class')).includes('ok'),
    text: await page.locator(form + ' .result').innerText() };
  if (opts.shot) { await p.shot(opts.shot); }
  if (!out.ok) { throw new Error(`${p.name}: step ${step} refused: ${out.text}`); }
  await reloaded;
  await p.check();
  out.stage = await page.locator('#summary .stage').getAttribute('data-stage');
  out.formsAfter = await page.locator('#actions form[data-step]').evaluateAll(
    (fs) => fs.map((f) => f.dataset.step));
  return out;
}

/** The stage the case page shows now (reloaded). */
async function stageOf(p, caseId) {
  await p.visit(`/ui/cases/${caseId}`);
  return p.page.locator('#summary .stage').getAttribute('data-stage');
}

/** Reload the case page until its stage is `want` (the service's ticks move it). */
async function waitStage(p, caseId, want, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  let stage = null;
  while (Date.now() < until) {
    stage = await stageOf(p, caseId);
    if (stage === want) { return stage; }
    await p.page.waitForTimeout(1000);
  }
  throw new Error(`${p.name}: case stage ${stage}, waited for ${want}`);
}

// --- the parties' pages (backend/web/party.py) ---

/** From the orders page: file a claim for an order (dispute type and remedy in words,
 * amount, statement, a first piece of evidence), signing the claim and the evidence's
 * commitment; lands on the case page. */
async function fileClaim(p, orderId, claim, opts = {}) {
  const page = p.page;
  await p.visit('/ui/orders');
  if (opts.shot) { await p.shot(opts.shot, { keep: opts.keep }); }
  await p.clickTo(`#claim-${orderId}`);
  const form = 'form[data-step=file]';
  await page.waitForSelector(form);
  await page.selectOption('#step-file-disputeType', claim.disputeType);
  await page.selectOption('#step-file-remedy', claim.remedy);
  await page.fill('#step-file-claimedAmount', claim.amount);
  await page.fill('#step-file-statement', claim.statement);
  if (claim.file) {
    await page.selectOption('#step-file-kind', claim.kind);
    await page.setInputFiles('#step-file-file', { name: claim.file.name,
      mimeType: claim.file.mime, buffer: Buffer.from(claim.file.content,
        claim.file.base64 ? 'base64' : 'utf8') });
  }
  if (opts.formShot) { await p.shot(opts.formShot, { keep: opts.keep }); }
  await p.check();
  const caseUrl = page.url();
  const reloaded = page.waitForEvent('load', { timeout: 90000 }).catch(() => null);
  await page.focus(form + ' button[type=submit]');
  await page.keyboard.press('Enter');
  await settle(p, `${form} .result.error, #wallet-transactions`, 120000, form);
  const err = await page.locator(`${form} .result.error`).count();
  if (err) { throw new Error(`${p.name}: claim refused: ${await p.text(form + ' .result')}`); }
  await reloaded;
  await p.check();
  const caseId = new URL(page.url()).pathname.split('/').pop();
  return { caseId, caseUrl, stage: await page.locator('#summary .stage').getAttribute('data-stage') };
}

/** On the case page: send what the case waits for from this person's wallet (the escrow
 * freeze, raiseDispute; or objectToAward); the transaction hash the page shows. */
async function sendFromWallet(p, caseId, opts = {}) {
  const page = p.page;
  await p.visit(`/ui/cases/${caseId}`);
  await page.waitForSelector('#wallet-transactions button.send-tx');
  if (opts.shot) { await p.shot(opts.shot, { keep: opts.keep }); }
  const what = await page.locator('#wallet-transactions li p').first().innerText();
  await page.click('#wallet-transactions button.send-tx');
  await settle(p, '#wallet-transactions .result.ok, #wallet-transactions .result.error', 90000);
  const ok = await page.locator('#wallet-transactions .result.ok').count();
  const text = await p.text('#wallet-transactions .result');
  if (!ok) { throw new Error(`${p.name}: wallet transaction refused: ${text}`); }
  const tx = await page.locator('#wallet-transactions [data-tx]').first().getAttribute('data-tx')
    .catch(() => null);
  await p.check();
  return { what, text, tx };
}

// --- the institution's desk (backend/web/institution.py) ---

/** Submit one of the desk's forms (nothing is signed by the admin's key) and wait for the
 * page to reload after it. */
async function deskForm(p, form) {
  const page = p.page;
  const reloaded = page.waitForEvent('load', { timeout: 60000 }).catch(() => null);
  await page.focus(form + ' button[type=submit]');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${form} .result.ok, ${form} .result.error`, { timeout: 60000 });
  const text = await p.text(form + ' .result');
  if (!(await page.getAttribute(form + ' .result', 'class')).includes('ok')) {
    throw new Error(`${p.name}: ${form} refused: ${text}`);
  }
  await reloaded;
  await p.check();
  return text;
}

/** The case officer registers a court on the desk (its institution-issued profile) and
 * gives it the case. */
async function grantCourt(p, caseId, court, opts = {}) {
  const page = p.page;
  await p.visit('/ui/institution');
  if (!(await page.locator(`#register-table tr[data-address="${court.address}"]`).count())) {
    await page.fill('#register-court-address', court.address);
    await page.fill('#register-court-name', court.name);
    await page.fill('#register-court-nameZh', court.nameZh);
    await page.fill('#register-court-country', court.country);
    await deskForm(p, 'form#register-court');
  }
  const grant = `form[id="grant-${caseId}"]`;
  await page.selectOption(`[id="grant-${caseId}-court"]`, court.address);
  if (opts.shot) { await p.shot(opts.shot, { keep: opts.keep }); }
  return deskForm(p, grant);
}

/** A neutral, on their desk, signs their disclosure on the appointment (impartial and
 * independent, nothing to disclose): the package's `identities` check needs it. */
async function disclose(p, caseId, statement) {
  const page = p.page;
  await p.visit(`/ui/neutral/cases/${caseId}`);
  await page.fill('#disclosure-statement', statement);
  await page.click('#disclosure button[type=submit]');
  await settle(p, '#disclosure .result.ok, #disclosure .result.error');
  const text = await p.text('#disclosure .result');
  if (!(await page.getAttribute('#disclosure .result', 'class')).includes('ok')) {
    throw new Error(`${p.name}: disclosure refused: ${text}`);
  }
  await page.waitForSelector('#disclosure-given', { timeout: 60000 });
  await p.check();
  return p.text('#disclosure-given');
}

// --- the court's pages (backend/web/court.py) ---

/** The court, from its list to its decision: the workspace, the package downloaded (its
 * digest and manifest shown), the downloaded file checked by the service, the decision
 * signed; the page after it. */
async function courtDecides(p, caseId, decision, outDir, opts = {}) {
  const page = p.page;
  await p.visit('/ui/court');
  const rows = await page.locator('#court-cases tbody tr').evaluateAll((rs) => rs.map(
    (r) => ({ caseId: r.dataset.case, stage: r.querySelector('.stage').dataset.stage })));
  if (opts.listShot) { await p.shot(opts.listShot, { keep: opts.keep }); }
  await p.clickTo(`#court-cases a[href^="/ui/court/cases/${caseId}"]`);
  const out = { rows };
  // 1. The package, downloaded; retried while the last records are being anchored.
  const file = require('path').join(outDir, `package-${caseId.slice(2, 10)}.zip`);
  for (let i = 0; i < 6; i += 1) {
    const saved = page.waitForEvent('download', { timeout: 90000 })
      .then((d) => d.saveAs(file).then(() => d.suggestedFilename())).catch(() => null);
    await page.click('#package-download');
    await page.waitForSelector('#package-status.ok, #package-status.error', { timeout: 90000 });
    if ((await page.getAttribute('#package-status', 'class')).includes('ok')) {
      out.filename = await saved;
      break;
    }
    await page.waitForTimeout(5000);
  }
  out.download = { text: await p.text('#package-status'),
    digest: await page.getAttribute('#package-status', 'data-digest'),
    manifest: await page.getAttribute('#package-status', 'data-manifest') };
  if (!out.filename) { throw new Error(`court: no package: ${out.download.text}`); }
  await p.check();
  // 2. The service checks the file the court just saved.
  await page.setInputFiles('#check-file', file);
  await page.focus('#check-run');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#check-verdict, #check-status.error', { timeout: 180000 });
  out.check = await page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    return { outcome: q('#check-verdict') && q('#check-verdict').dataset.outcome,
      runBy: q('#check-run-by') && q('#check-run-by').innerText,
      yours: !!q('#check-yours'),
      rows: Array.from(document.querySelectorAll('#check-table tbody tr')).map(
        (r) => [r.dataset.check, r.dataset.status]) };
  });
  await p.check();
  if (opts.checkShot) { await p.shot(opts.checkShot, { keep: opts.keep }); }
  // 3. The decision, naming the package downloaded here.
  const form = `form[data-step=${decision.step || 'confirm'}]`;
  await page.fill(`${form} [name=courtReference]`, decision.reference);
  out.packageHash = await page.locator(`${form} [name=packageHash]`).inputValue();
  const reloaded = page.waitForEvent('load', { timeout: 90000 }).catch(() => null);
  await page.focus(form + ' button[type=submit]');
  await page.keyboard.press('Enter');
  await settle(p, form + ' .result.ok, ' + form + ' .result.error', 90000);
  const result = await p.text(form + ' .result');
  if (!(await page.getAttribute(form + ' .result', 'class')).includes('ok')) {
    throw new Error(`court: decision refused: ${result}`);
  }
  await reloaded;
  await p.check();
  out.stage = await page.locator('#summary .stage').getAttribute('data-stage');
  out.decision = await p.text('#court-decision');
  out.formsLeft = await page.locator('#actions form[data-step]').count();
  return out;
}

module.exports = { act, courtDecides, disclose, grantCourt, fileClaim, sendFromWallet, approvePrompt, createWallet, restoreWallet, settle, signInExtension,
  signProfile, stageOf, waitStage };
