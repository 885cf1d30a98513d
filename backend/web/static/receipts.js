/* chainarb: the receipts this browser keeps for the signed-in person (docs/portal/party.md).
 *
 * Every accepted step and upload answers with the institution's signed `receipt` (an
 * upload also with `provenanceReceipts`, one per provenance entry it logged); the
 * case page's script (actions.js) hands it to keep(), which stores it in localStorage
 * under the signed-in address and the case. It is never sent anywhere: it is the party's
 * own evidence. The "Your receipts" section lists them and downloads each as the file
 * `chainarb verify --receipts DIR` reads, named and written exactly as
 * evidence.receipts.save_receipt does: canonical JSON (sorted keys, no whitespace) and a
 * newline, named by the first 32 hex digits of the SHA-256 of that JSON.
 * The canonical JSON and SHA-256 are signer.js's (the ones the signing pages check a
 * prepared step by), loaded before this script on every page that has the section (both
 * `defer`, document order: backend/web/receipts.py); in Node the tests require it.
 * Loadable in Node too (module.exports) so the tests can hold the naming to Python's.
 */
(function (root) {
  'use strict';

  var PREFIX = 'chainarb.receipts:';
  var digest = typeof module !== 'undefined' && module.exports
    ? require('./signer.js').digest : root.chainarbDigest;

  /** Canonical JSON as evidence.receipts._canonical (json.dumps sort_keys, compact). */
  var canonical = digest.canonicalJson;

  /** The receipt's file: {name, text}, as save_receipt writes it. */
  async function fileOf(receipt) {
    var json = canonical(receipt);
    // sha256 answers 0x-hex: the name is the first 32 hex digits after the 0x
    return { name: (await digest.sha256(json)).slice(2, 34) + '.json', text: json + '\n' };
  }

  function storeKey(address, caseId) {
    return PREFIX + String(address).toLowerCase() + ':' + String(caseId).toLowerCase();
  }

  /** What this browser holds for (address, case): [{name, action, receipt}], oldest first. */
  function list(address, caseId) {
    try {
      var v = JSON.parse(root.localStorage.getItem(storeKey(address, caseId)) || '[]');
      return Array.isArray(v) ? v : [];
    } catch (e) { return []; }
  }

  /** Keep `receipt` (the answer's) for (address, case); the same receipt twice is one. */
  async function keep(address, caseId, receipt, action) {
    if (!receipt || typeof receipt !== 'object') { return null; }
    var file = await fileOf(receipt);
    var held = list(address, caseId);
    if (!held.some(function (h) { return h.name === file.name; })) {
      held.push({ name: file.name, action: action || '', receipt: receipt });
      root.localStorage.setItem(storeKey(address, caseId), JSON.stringify(held));
    }
    if (root.document && root.document.getElementById('receipts-data')) { render(); }
    return file.name;
  }

  var api = { canonical: canonical, fileOf: fileOf, list: list, keep: keep };
  if (typeof module !== 'undefined' && module.exports) { module.exports = api; return; }
  root.chainarbReceipts = api;

  function words() { return JSON.parse(document.getElementById('receipts-data').textContent); }

  function what(d, h) {
    var entry = (h.receipt && h.receipt.entry) || {};
    if (h.action && d.steps[h.action]) { return d.steps[h.action]; }
    if (entry.kind === 'evidence') { return d.words.rc_evidence; }
    var kind = d.kinds[entry.kind];  // the log's kinds in words (evidence.words.LOG_KINDS)
    return kind ? kind.charAt(0).toUpperCase() + kind.slice(1) : d.words.rc_step;
  }

  function cell(tr, text, title) {
    var td = document.createElement('td');
    td.textContent = text;
    if (title) { td.title = title; }
    tr.appendChild(td);
    return td;
  }

  async function render() {
    var d = words();
    var held = list(d.viewer, d.caseId).slice().sort(function (a, b) {
      return Number(a.receipt.index) - Number(b.receipt.index); });
    var table = document.getElementById('receipts-table');
    var body = table.querySelector('tbody');
    var all = document.getElementById('receipts-download-all');
    body.textContent = '';
    document.getElementById('receipts-none').hidden = held.length > 0;
    table.hidden = all.hidden = held.length === 0;
    for (var i = 0; i < held.length; i++) {
      var h = held[i];
      var file = await fileOf(h.receipt);
      var tr = document.createElement('tr');
      tr.dataset.index = String(h.receipt.index);
      cell(tr, String(h.receipt.index));
      cell(tr, what(d, h), h.receipt.entry && h.receipt.entry.recordHash);
      var at = new Date(h.receipt.acceptedAt);
      cell(tr, isNaN(at) ? String(h.receipt.acceptedAt) : at.toLocaleString(d.lang),
        h.receipt.acceptedAt);
      var a = document.createElement('a');
      a.className = 'receipt-download';
      a.download = file.name;
      a.href = URL.createObjectURL(new Blob([file.text], { type: 'application/json' }));
      a.textContent = d.words.rc_download;
      a.setAttribute('aria-label', d.words.rc_download + ' ' + file.name);
      var td = cell(tr, '');
      td.appendChild(a);
      var code = document.createElement('code');
      code.textContent = ' ' + file.name;
      code.setAttribute('translate', 'no');
      td.appendChild(code);
      body.appendChild(tr);
    }
  }

  function start() {
    document.getElementById('receipts-download-all').addEventListener('click', function () {
      document.querySelectorAll('#receipts-table a.receipt-download').forEach(function (a) {
        a.click(); });
    });
    render();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else { start(); }
})(typeof window !== 'undefined' ? window : globalThis);
