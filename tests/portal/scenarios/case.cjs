// One whole case carried through the pages, each person in their own browser context with
// their own wallet, from the claim to the court's decision. The case page's forms do every
// step; `config.phase` picks the part this run does when the pages for the parts between
// are not there yet (the Python side does those between runs and lists them).
//
// Wallets (config.wallet): "extension", an injected EIP-1193 wallet holding a key the test
// made; or "builtin", the page's own wallet: phase "wallets" makes each person's in their
// browser (passphrase, recovery file downloaded; the case officer restores theirs from a
// recovery file) and keeps each browser's storage for the later phases, where one person
// restores from their recovery file in a fresh browser and the others come back and
// unlock with their passphrase in the signing prompt.
//
// config.inPages says which parts have pages (filing, freeze, court); the others were
// done by the Python side through the API.
//
// config: {phase: "wallets"|"parties"|"court", wallet, caseId, orderId, inPages, rpcUrl,
//          stateDir,
//          people: {name: {key?, lang, passphrase?, profile?, recoveryFile?, restore?}},
//          addresses: {mediator, arbitrator}, files: {...}, packageHash?, courtReference?}
'use strict';
const path = require('path');
const { injectExtension } = require('../extension.cjs');
const { act, courtDecides, grantCourt, createWallet, fileClaim, restoreWallet, sendFromWallet,
  signInExtension, signProfile, waitStage, disclose } = require('../steps.cjs');

function stateFile(config, name) { return path.join(config.stateDir, `state-${name}.json`); }

/** A person enters for this phase, signed in, with their wallet. */
async function enter(h, config, name) {
  const spec = config.people[name];
  if (config.wallet === 'extension') {
    const p = await h.person(name, { lang: spec.lang });
    p.wallet = await injectExtension(p.context, spec.key, { id: name, rpcUrl: config.rpcUrl });
    await signInExtension(p);
    if (spec.profile) { await signProfile(p, spec.profile); }
    return p;
  }
  if (spec.restore) {  // a fresh browser: the wallet comes back from the recovery file
    const p = await h.person(name, { lang: spec.lang, passphrase: spec.passphrase });
    await restoreWallet(p, spec.recoveryFile);
    return p;
  }
  return h.person(name, { lang: spec.lang, passphrase: spec.passphrase,
    storageState: stateFile(config, name) });
}

async function wallets(h, config) {
  const out = { people: {} };
  for (const [name, spec] of Object.entries(config.people)) {
    const p = await h.person(name, { lang: spec.lang, passphrase: spec.passphrase });
    const made = spec.recoveryFile
      ? { ...(await restoreWallet(p, spec.recoveryFile)),
        recoveryFile: spec.recoveryFile }
      : await createWallet(p, config.stateDir, { shot: name === 'buyer' && `flow-sign-in-${p.lang}`,
        promptShot: name === 'buyer' && `flow-prompt-${p.lang}`, keep: config.keep });
    if (spec.profile) { made.profile = await signProfile(p, spec.profile); }
    await p.save(stateFile(config, name));
    out.people[name] = made;
  }
  return out;
}

function file(spec) { return { name: spec.name, mime: spec.mime, content: spec.content,
  base64: spec.base64 }; }

async function parties(h, config) {
  let c = config.caseId;
  const f = config.files;
  const out = { steps: [] };
  const step = async (p, name, opts = {}) => {
    const r = await act(p, c, name, opts);
    out.steps.push({ who: p.name, step: name, stage: r.stage, text: r.text });
    return r;
  };
  const who = {};
  for (const name of ['buyer', 'seller', 'admin', 'mediator', 'arbitrator']) {
    who[name] = await enter(h, config, name);
  }
  const { buyer, seller, admin, mediator, arbitrator } = who;
  const keep = { keep: config.keep };
  if (config.inPages.filing) {  // the claim, from the buyer's orders page
    const filed = await fileClaim(buyer, config.orderId, { disputeType: 'not_as_described',
      remedy: 'partial_refund', amount: '240', kind: 'photo', file: file(f.photo),
      statement: 'Twelve of the forty LED panels arrived cracked; photos attached.' },
    { shot: `main-buyer-orders-${buyer.lang}`, formShot: `flow-claim-${buyer.lang}`,
      keep: config.keep });
    c = out.caseId = filed.caseId;
    out.steps.push({ who: 'buyer', step: 'file', stage: filed.stage });
  }
  if (config.inPages.freeze) {  // the escrow freeze, from the buyer's own wallet
    out.freeze = await sendFromWallet(buyer, c, { shot: `flow-freeze-${buyer.lang}`,
      keep: config.keep });
    out.steps.push({ who: 'buyer', step: 'freeze' });
  }
  if (config.wallet === 'builtin') {
    out.kinds = {};
    for (const [n, p] of Object.entries(who)) {
      await p.visit('/ui/cases');
      out.kinds[n] = await p.page.evaluate(() => window.chainarbWallet.kind());
    }
  }
  await buyer.visit('/ui/cases');
  await buyer.shot(`main-buyer-${buyer.lang}`, keep);
  await admin.visit('/ui/cases');
  await admin.shot(`main-admin-${admin.lang}`, keep);
  await seller.visit(`/ui/cases/${c}`);
  await seller.shot(`main-seller-${seller.lang}`, keep);
  // Negotiation: the seller offers 10 %; the buyer lets it lapse and asks for a mediator.
  await step(seller, 'offer', { fill: { '#step-offer-toBuyer': '48', '#step-offer-days': '2' } });
  await step(buyer, 'facilitation');
  // Facilitated settlement: the institution appoints the mediator, who publishes the
  // pre-evaluation and proposes; nobody accepts; both parties agree to arbitrate.
  await step(admin, 'appoint_mediator', { fill: {
    '#step-appoint_mediator-appointee': config.addresses.mediator } });
  out.disclosures = [await disclose(mediator, c, 'I am impartial and independent of both sides.')];
  out.steps.push({ who: 'mediator', step: 'disclose' });
  await mediator.visit(`/ui/cases/${c}`);
  await mediator.shot(`main-mediator-${mediator.lang}`, keep);
  await step(mediator, 'preeval', { fill: { '#step-preeval-tracking': 'delivered' } });
  await step(mediator, 'propose', { fill: { '#step-propose-toBuyer': '150',
    '#step-propose-days': '3' } });
  await step(seller, 'agree');
  await step(buyer, 'agree');
  await step(mediator, 'impasse');
  // Arbitration.
  await step(admin, 'appoint_arbitrator', { fill: {
    '#step-appoint_arbitrator-appointee': config.addresses.arbitrator } });
  out.disclosures.push(await disclose(arbitrator, c,
    'I am impartial and independent of both sides.'));
  out.steps.push({ who: 'arbitrator', step: 'disclose' });
  await step(buyer, 'evidence', { fill: { '#step-evidence-kind': 'photo' },
    files: { '#step-evidence-file': file(f.photo) } });
  await step(seller, 'evidence', { fill: { '#step-evidence-kind': 'invoice' },
    files: { '#step-evidence-file': file(f.invoice) } });
  await step(seller, 'answer', { files: { '#step-answer-document': file(f.answer) } });
  await step(arbitrator, 'close');
  await arbitrator.visit(`/ui/cases/${c}`);
  await arbitrator.shot(`main-arbitrator-${arbitrator.lang}`, keep);
  await step(arbitrator, 'award', { fill: { '#step-award-toBuyer': '180',
    '#step-award-compensation': '42.5' }, files: { '#step-award-document': file(f.award) } });
  // The objection window (the development escrow's, seconds long) passes; anyone may then
  // ask for enforcement, and the service executes the award on-chain.
  await waitStage(buyer, c, 'final', 90000);
  await step(buyer, 'enforce');
  out.finalStage = await waitStage(seller, c, 'enforced', 90000);
  await seller.visit(`/ui/cases/${c}`);
  await seller.shot(`flow-enforced-${seller.lang}`, keep);
  if (config.wallet === 'extension') {
    out.typedSigned = Object.fromEntries(Object.entries(who).map(
      ([n, p]) => [n, p.wallet.log.filter((l) => l.method === 'eth_signTypedData_v4')
        .map((l) => l.primaryType)]));
  } else {
    out.prompts = Object.fromEntries(Object.entries(who).map(([n, p]) => [n, p.prompts || 0]));
  }
  return out;
}

async function court(h, config) {
  const c = config.caseId;
  if (config.inPages.court_access) {  // the case officer gives the court the case
    const admin = await enter(h, config, 'admin');
    await grantCourt(admin, c, config.court, { shot: `flow-desk-${admin.lang}`,
      keep: config.keep });
  }
  const court = await enter(h, config, 'court');
  if (config.inPages.court) {
    const d = await courtDecides(court, c, { reference: config.courtReference },
      config.stateDir, { listShot: `main-court-${court.lang}`,
        checkShot: `flow-check-${court.lang}`, keep: config.keep });
    await court.shot(`flow-confirmed-${court.lang}`, { keep: config.keep });
    return { steps: [{ who: 'court', step: 'confirm', stage: d.stage }], finalStage: d.stage,
      court: d };
  }
  await court.visit(`/ui/cases/${c}`);
  await court.shot(`main-court-${court.lang}`, { keep: config.keep });
  const r = await act(court, c, 'confirm', { fill: {
    '#step-confirm-packageHash': config.packageHash,
    '#step-confirm-courtReference': config.courtReference } });
  await court.visit(`/ui/cases/${c}`);
  await court.shot(`flow-confirmed-${court.lang}`, { keep: config.keep });
  return { steps: [{ who: 'court', step: 'confirm', stage: r.stage, text: r.text }],
    finalStage: r.stage };
}

module.exports = async function wholeCase(h, config) {
  if (config.phase === 'wallets') { return wallets(h, config); }
  if (config.phase === 'parties') { return parties(h, config); }
  if (config.phase === 'court') { return court(h, config); }
  throw new Error('unknown phase ' + config.phase);
};
