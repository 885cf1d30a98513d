/* chainarb case page: the steps a signed-in user may take now, signed by their wallet.
 *
 * Why in the page: the wallet (window.ethereum) holds the key; the server only ever sees
 * the signed record. The page never builds a record itself: it asks the service to prepare
 * the step (POST cases/{id}/steps/prepare with the action and the fields entered), checks
 * that what came back is what the user entered (domain, signer, amounts, the payload's
 * SHA-256), has the wallet sign the typed data with eth_signTypedData_v4 (and the escrow
 * Settlement or the Award it carries) and posts the records through /ui/api/ (which adds
 * the session cookie's token). One source of truth for the record format: the service.
 * Amounts are decimal strings parsed into integer base units with BigInt, never floats.
 * Loadable in Node too (module.exports) so the tests can hold its helpers to the service.
 */
(function (root) {
  'use strict';

  /** Parse a decimal token amount ("12.5") into base units (BigInt); throws a code. */
  function parseUnits(text, decimals) {
    var s = String(text == null ? '' : text).trim();
    if (s === '') { throw new UiError('amount_required'); }
    var m = /^(\d+)(?:\.(\d+))?$/.exec(s);
    if (!m) { throw new UiError('amount_format'); }
    var frac = m[2] || '';
    if (frac.length > decimals) { throw new UiError('amount_decimals'); }
    while (frac.length < decimals) { frac += '0'; }
    return BigInt(m[1]) * (10n ** BigInt(decimals)) + BigInt(frac || '0');
  }

  /** An exact decimal string written as the server writes amounts (evidence.words.amount):
   * the whole part in groups of three ("1,234.500000"); for the eye, never parsed back. */
  function grouped(text) {
    var parts = text.split('.');
    return parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (parts.length > 1 ? '.' + parts[1] : '');
  }

  /** Base units (BigInt or decimal string) to an exact decimal string with all decimals. */
  function formatUnits(units, decimals) {
    var v = BigInt(units);
    var neg = v < 0n; if (neg) { v = -v; }
    var base = 10n ** BigInt(decimals);
    var frac = (v % base).toString().padStart(decimals, '0');
    return (neg ? '-' : '') + (v / base).toString() + (decimals ? '.' + frac : '');
  }

  function UiError(code, detail) {
    this.code = code; this.detail = detail || ''; this.message = code + (detail ? ': ' + detail : '');
  }
  UiError.prototype = Object.create(Error.prototype);

  // canonical JSON and SHA-256: signer.js, shared with the other signing page
  var digest = typeof module !== 'undefined' && module.exports
    ? require('./signer.js').digest : root.chainarbDigest;
  var canonicalJson = digest.canonicalJson, hex = digest.hex, sha256 = digest.sha256;

  function b64(buffer) {
    var s = ''; var a = new Uint8Array(buffer);
    for (var i = 0; i < a.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, a.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  /** Canonical JSON with addresses in lower case (the service returns them EIP-55). */
  function same(a, b) {
    var norm = function (v) {
      return canonicalJson(v).replace(/"0x[0-9a-fA-F]{40}"/g, function (m) {
        return m.toLowerCase(); });
    };
    return norm(a) === norm(b);
  }

  /** Does the service's prepared step say what the user entered? Returns a reason or ''.
   * (The wallet then shows the same typed data; this check is the page's own.) */
  function mismatch(prep, action, fields, viewer, domain) {
    if (!prep || prep.action !== action) { return 'action'; }
    var td = prep.typedData;
    var d = td && td.domain;
    if (!d || String(d.chainId) !== String(domain.chainId) ||
        String(d.verifyingContract).toLowerCase() !==
        String(domain.verifyingContract).toLowerCase() || d.name !== domain.name ||
        d.version !== domain.version) { return 'domain'; }
    var msg = td.message || {};
    var signer = msg.actor || msg.offeror || msg.objector || msg.court || msg.submitter;
    if (!signer || signer.toLowerCase() !== viewer.toLowerCase()) { return 'signer'; }
    var given = prep.payload || {};
    for (var k in fields) {
      if (!Object.prototype.hasOwnProperty.call(fields, k) || k === 'reasons') { continue; }
      if (k in msg && !same(msg[k], fields[k])) { return k; }
      if (prep.payload && k in given && !same(given[k], fields[k])) { return k; }
      var atts = prep.attachments || [];
      for (var i = 0; i < atts.length; i++) {
        var m = atts[i].typedData.message;
        if (k in m && !same(m[k], fields[k])) { return k; }
      }
    }
    return '';
  }

  /** What an allocation pays, or the refusal: toBuyer and compensation as typed, checked
   * against the escrowed amount and the guarantee available (base units). Never throws. */
  function allocationPreview(toBuyerText, compText, held, guarantee, decimals) {
    var toBuyer, comp;
    try { toBuyer = parseUnits(toBuyerText, decimals); } catch (e) {
      return { code: e.code, field: 'toBuyer' }; }
    try { comp = parseUnits(compText === '' ? '0' : compText, decimals); } catch (e) {
      return { code: e.code, field: 'compensation' }; }
    held = BigInt(held); guarantee = BigInt(guarantee);
    if (toBuyer > held) { return { code: 'amount_too_large', field: 'toBuyer' }; }
    if (comp > guarantee) { return { code: 'compensation_too_large', field: 'compensation' }; }
    return { code: '', values: { escrow: held, toBuyer: toBuyer, toSeller: held - toBuyer,
      compensation: comp, buyerTotal: toBuyer + comp, guaranteeLeft: guarantee - comp } };
  }

  /** The award document the editor writes from the allocation and the reasons (Markdown,
   * in the page's words); its SHA-256 is the awardHash the arbitrator signs. */
  function awardDocument(words, meta, alloc, reasons, decimals, currency) {
    var money = function (v) { return formatUnits(v, decimals) + ' ' + currency; };
    return '# ' + words.award_doc_title + '\n\n' +
      '- ' + words.award_doc_case + ': ' + meta.caseId + '\n' +
      '- ' + words.award_doc_order + ': ' + meta.orderId + '\n' +
      '- ' + words.award_doc_by + ': ' + meta.signer + '\n\n' +
      '## ' + words.award_doc_allocation + '\n\n' +
      '- ' + words.pv_escrow + ': ' + money(meta.amount) + '\n' +
      '- ' + words.pv_to_buyer + ': ' + money(alloc.toBuyer) + '\n' +
      '- ' + words.pv_to_seller + ': ' + money(alloc.toSeller) + '\n' +
      '- ' + words.pv_compensation + ': ' + money(alloc.compensation) + '\n\n' +
      '## ' + words.award_doc_reasons + '\n\n' + reasons.replace(/\r\n?/g, '\n') + '\n';
  }

  var api = { parseUnits: parseUnits, formatUnits: formatUnits, canonicalJson: canonicalJson,
    mismatch: mismatch, UiError: UiError, allocationPreview: allocationPreview,
    awardDocument: awardDocument };
  if (typeof module !== 'undefined' && module.exports) { module.exports = api; return; }

  // ---------------------------------------------------------------- the page ----------
  var caseNode = document.getElementById('case-data');
  // other pages (the institution's: desk.js) load it for its amount helpers alone
  if (!caseNode) { root.chainarbActions = api; return; }
  var CASE = JSON.parse(caseNode.textContent);
  var MSG = CASE.messages;
  var loadedAt = Date.now();

  function now() {  // the service's clock as the page got it, advanced by the browser's
    return Math.floor(CASE.serverNow + (Date.now() - loadedAt) / 1000);
  }

  function message(code, detail) {
    return MSG['err_' + code] || (MSG.err_unknown + (detail ? ' (' + code + ')' : ''));
  }

  function show(form, kind, text, retry) {
    var out = form.querySelector('.result');
    out.className = 'result ' + kind;
    out.textContent = text;
    if (retry) {
      var b = document.createElement('button');
      b.type = 'button'; b.textContent = MSG.refresh; b.className = 'refresh';
      b.addEventListener('click', function () { location.reload(); });
      out.appendChild(document.createTextNode(' ')); out.appendChild(b);
      b.focus();
    }
  }

  // The wallet's account check and signature: signer.js (shared with pool.js).
  var signer = root.chainarbSigner(CASE.viewer, UiError);
  var account = signer.account;
  var signTyped = signer.signTyped;

  async function call(method, path, body, isForm) {
    var headers = { 'X-Chainarb-UI': '1' };
    if (!isForm && body !== undefined) { headers['Content-Type'] = 'application/json'; }
    var r = await fetch('/ui/api/' + path, { method: method, headers: headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : (isForm ? body : JSON.stringify(body)) });
    var data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      throw new UiError((data && data.code) || ('http_' + r.status), data && data.detail);
    }
    return data;
  }

  /** Prepare (service), check, sign (wallet) and post one step; ``extra`` joins the body. */
  async function run(action, fields, extra) {
    await account();
    var prep = await call('POST', 'cases/' + CASE.caseId + '/steps/prepare',
      { action: action, payload: fields });
    var bad = mismatch(prep, action, fields, CASE.viewer, CASE.domain);
    if (!bad && prep.recordType === 'ProceduralStep' && prep.payload &&
        await sha256(canonicalJson(prep.payload)) !== prep.typedData.message.payloadHash) {
      bad = 'payloadHash';
    }
    if (bad) { throw new UiError('prepared_mismatch', bad); }
    var record = Object.assign({}, prep.unsignedRecord,
      { signatures: [await signTyped(prep.typedData)] });
    var attachments = [];
    for (var i = 0; i < prep.attachments.length; i++) {
      var a = prep.attachments[i];
      attachments.push(Object.assign({}, a.unsignedRecord,
        { signatures: [await signTyped(a.typedData)] }));
    }
    var body = Object.assign({ record: record, payload: prep.payload,
      attachments: attachments }, extra || {});
    if (prep.reasons) { body.reasons = prep.reasons; }
    return kept(await call('POST', prep.endpoint.replace(/^\//, ''), body), action);
  }

  /** Keep the answer's receipt in this browser (receipts.js), before the page reloads,
   * and those of the provenance entries it logged (an upload's `provenanceReceipts`). */
  async function kept(res, action) {
    if (res && res.receipt && root.chainarbReceipts) {
      await root.chainarbReceipts.keep(CASE.viewer, CASE.caseId, res.receipt, action);
    }
    var more = (res && Array.isArray(res.provenanceReceipts)) ? res.provenanceReceipts : [];
    for (var i = 0; i < more.length && root.chainarbReceipts; i++) {
      await root.chainarbReceipts.keep(CASE.viewer, CASE.caseId, more[i], '');
    }
    return res;
  }

  async function readFile(input, required) {
    var f = input && input.files && input.files[0];
    if (!f) { if (required) { throw new UiError('file_required'); } return null; }
    return { file: f, bytes: await f.arrayBuffer() };
  }

  function docOf(f) {
    return { filename: f.file.name, media_type: f.file.type || 'application/octet-stream',
      content_base64: b64(f.bytes) };
  }

  function parseField(form, name, value) {
    try { return parseUnits(value, CASE.decimals); } catch (e) { e.field = name; throw e; }
  }

  /** The limits an allocation is checked against: the form's preview's (the escrow as
   * read now on the desk), else the case's order. */
  function limitsOf(form) {
    var pv = form.querySelector('.allocation-preview');
    return { held: pv ? pv.dataset.amount : CASE.amount,
      guarantee: pv ? pv.dataset.guarantee : CASE.guarantee,
      currency: pv ? pv.dataset.currency : '' };
  }

  /** Refund to the buyer and compensation from the guarantee; the rest to the seller. */
  function allocation(form) {
    var amount = BigInt(CASE.amount);
    var lim = limitsOf(form);
    var toBuyer = parseField(form, 'toBuyer', form.elements.toBuyer.value);
    var comp = parseField(form, 'compensation', form.elements.compensation.value || '0');
    if (toBuyer > amount || toBuyer > BigInt(lim.held)) { throw new UiError('amount_too_large'); }
    if (comp > BigInt(lim.guarantee)) { throw new UiError('compensation_too_large'); }
    return { toBuyer: toBuyer.toString(), toSeller: (amount - toBuyer).toString(),
      compensation: comp.toString() };
  }

  /** Fill the form's preview from what is typed; show the refusal while the allocation
   * does not add up. The submit button stays usable (a disabled button explains nothing
   * to a screen reader): submitting re-checks and refuses, in words, before any signing. */
  function updatePreview(form) {
    var pv = form.querySelector('.allocation-preview');
    if (!pv) { return; }
    var lim = limitsOf(form);
    var typed = form.elements.toBuyer.value;
    var res = allocationPreview(typed, form.elements.compensation.value, lim.held,
      lim.guarantee, CASE.decimals);
    var refusal = pv.querySelector('.refusal');
    ['toBuyer', 'compensation'].forEach(function (n) {
      form.elements[n].removeAttribute('aria-invalid'); });
    if (res.code && String(typed).trim() === '' && res.code === 'amount_required') {
      refusal.hidden = true; return;  // nothing typed yet
    }
    if (res.code) {
      refusal.textContent = MSG.pv_refused + ' ' + message(res.code);
      refusal.hidden = false;
      form.elements[res.field].setAttribute('aria-invalid', 'true');
      pv.querySelectorAll('[data-pv]').forEach(function (td) {
        if (td.dataset.pv !== 'escrow') { td.textContent = '—'; } });
      return;
    }
    refusal.hidden = true;
    pv.querySelectorAll('[data-pv]').forEach(function (td) {
      td.textContent = grouped(formatUnits(res.values[td.dataset.pv], CASE.decimals)) + ' ' +
        lim.currency;
    });
  }

  function days(form) {
    var d = Number(form.elements.days.value);
    if (!Number.isInteger(d) || d < 1 || d > 30) { throw new UiError('days_range'); }
    return String(now() + d * 86400);
  }

  function address(form, name) {
    var v = String(form.elements[name].value || '').trim();
    if (!/^0x[0-9a-fA-F]{40}$/.test(v)) {
      var e = new UiError('address_format'); e.field = name; throw e;
    }
    return v;
  }

  function hash32(form, name) {
    var v = String(form.elements[name].value || '').trim().toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(v)) { var e = new UiError('hash_format'); e.field = name; throw e; }
    return v;
  }

  function text(form, name, code) {
    var v = String(form.elements[name].value || '').trim();
    if (!v) { var e = new UiError(code); e.field = name; throw e; }
    return v;
  }

  /** The award: the allocation, and as its document either the file attached or the
   * Markdown the page writes from the reasons typed (exactly one of the two). */
  async function award(form, action) {
    var alloc = allocation(form);
    var reasons = form.elements.reasons ? String(form.elements.reasons.value || '').trim() : '';
    var f = await readFile(form.elements.document, false);
    if (f && reasons) { var both = new UiError('reasons_or_document'); both.field = 'reasons'; throw both; }
    if (!f && !reasons) {
      var none = new UiError('reasons_or_document_missing'); none.field = 'reasons'; throw none;
    }
    var doc, bytes;
    if (f) { doc = docOf(f); bytes = f.bytes; } else {
      var lim = limitsOf(form);
      var md = awardDocument(MSG, { caseId: CASE.caseId, orderId: CASE.orderId,
        signer: CASE.viewer, amount: CASE.amount }, alloc, reasons, CASE.decimals, lim.currency);
      bytes = new TextEncoder().encode(md);
      doc = { filename: 'award.md', media_type: 'text/markdown', content_base64: b64(bytes) };
    }
    return run(action, Object.assign(alloc, { awardHash: await sha256(bytes) }), { document: doc });
  }

  function appoint(action, role, names) {
    return function (form) {
      return run(action, { role: role, appointees: names.map(function (n) {
        return address(form, n); }) });
    };
  }

  var HANDLERS = {
    offer: function (form) {
      var alloc = allocation(form);
      return run('offer.made', Object.assign(alloc, { expiresAt: days(form) }));
    },
    accept: function (form) {
      return run('offer.accepted', { offerId: form.elements.offerId.value });
    },
    withdraw: function (form) {
      return run('offer.withdrawn', { offerId: form.elements.offerId.value });
    },
    facilitation: function () { return run('facilitation.requested', {}); },
    agree: function () { return run('arbitration.agreed', {}); },
    close: function () { return run('record.closed', {}); },
    impasse: function () { return run('impasse.declared', {}); },
    enforce: function () { return run('enforcement.requested', {}); },
    answer: async function (form) {
      var f = await readFile(form.elements.document, true);
      return run('answer.submitted', { answerHash: await sha256(f.bytes) },
        { document: docOf(f) });
    },
    objection: async function (form) {
      var reasons = text(form, 'reasons', 'reasons_required');
      return run('award.objected', { reasonsHash: await sha256(reasons) }, {
        document: { filename: 'objection.txt', media_type: 'text/plain',
          content_base64: b64(new TextEncoder().encode(reasons)) } });
    },
    preeval: async function (form) {
      var tracking = form.elements.tracking.value;
      // no status chosen: the report reads the order's performance evidence
      var report = await call('GET', 'cases/' + CASE.caseId + '/pre-evaluation' +
        (tracking ? '?tracking=' + encodeURIComponent(tracking) : ''));
      if (await sha256(report.canonical) !== report.sha256) {
        throw new UiError('prepared_mismatch', 'report');
      }
      return run('preevaluation.published', { recommended: report.recommended,
        reportHash: report.sha256 }, { document: { filename: 'pre-evaluation.json',
        media_type: 'application/json',
        content_base64: b64(new TextEncoder().encode(report.canonical)) } });
    },
    fast_track: async function () {
      // the proposal is the pre-evaluation of the evidence as recorded now (no what-if)
      var prop = await call('GET', 'cases/' + CASE.caseId + '/fast-track');
      if (await sha256(prop.canonical) !== prop.sha256) {
        throw new UiError('prepared_mismatch', 'report');
      }
      return run('fasttrack.proposed', prop.payload, { document: {
        filename: 'fast-track-proposal.json', media_type: 'application/json',
        content_base64: b64(new TextEncoder().encode(prop.canonical)) } });
    },
    fast_track_objection: function () { return run('fasttrack.objected', {}); },
    return_shipment: async function (form) {
      // the salted commitment to the shipment (the salt stays with the buyer)
      var shipment = { carrier: text(form, 'carrier', 'carrier_required'),
        trackingNumber: text(form, 'trackingNumber', 'tracking_required') };
      var salt = new Uint8Array(32); root.crypto.getRandomValues(salt);
      var canon = new TextEncoder().encode(canonicalJson(shipment));
      var joined = new Uint8Array(salt.length + canon.length);
      joined.set(salt); joined.set(canon, salt.length);
      return run('return.shipped', Object.assign(shipment,
        { tracking: await sha256(joined.buffer) }));
    },
    return_receipt: function () { return run('return.received', {}); },
    return_dispute: function () { return run('return.disputed', {}); },
    propose: function (form) {
      var alloc = allocation(form);
      var id = new Uint8Array(8); root.crypto.getRandomValues(id);
      return run('settlement.proposed', Object.assign({ offerId: 'proposal-' + hex(id).slice(2) },
        alloc, { expiresAt: days(form) }));
    },
    appoint_mediator: appoint('appoint.mediator', 'mediator', ['appointee']),
    appoint_arbitrator: appoint('appoint.arbitrator', 'arbitrator', ['appointee']),
    appoint_panel: appoint('appoint.panel', 'panelist', ['appointee1', 'appointee2',
      'appointee3']),
    award: function (form) { return award(form, 'award.issued'); },
    panel_award: function (form) { return award(form, 'award.panel_signed'); },
    confirm: function (form) {
      return run('court.confirmed', { packageHash: hash32(form, 'packageHash'),
        courtReference: text(form, 'courtReference', 'reference_required') });
    },
    refuse: function (form) {
      return run('court.refused', { packageHash: hash32(form, 'packageHash'),
        courtReference: text(form, 'courtReference', 'reference_required'),
        reasons: text(form, 'reasons', 'reasons_required') });
    },
    evidence: async function (form) {
      var f = await readFile(form.elements.file, true);
      return uploadEvidence(form, f, form.elements.kind.value);
    },
    file: async function (form) {
      var claimed = parseField(form, 'claimedAmount', form.elements.claimedAmount.value);
      if (claimed > BigInt(CASE.amount)) {
        var big = new UiError('claim_too_large'); big.field = 'claimedAmount'; throw big;
      }
      var statement = text(form, 'statement', 'claim_statement_required');
      var first = await readFile(form.elements.file, false);
      var bytes = new TextEncoder().encode(statement);
      var viewer = CASE.viewer.toLowerCase();
      var other = viewer === String(CASE.buyer).toLowerCase() ? CASE.seller : CASE.buyer;
      var res = await run('case.filed', { claimant: CASE.viewer, respondent: other,
        orderId: String(CASE.orderId), disputeType: form.elements.disputeType.value,
        remedy: form.elements.remedy.value, claimedAmount: claimed.toString(),
        statementHash: await sha256(bytes) }, { document: { filename: 'statement.txt',
        media_type: 'text/plain', content_base64: b64(bytes) } });
      if (first) { await uploadEvidence(form, first, form.elements.kind.value); }
      return res;
    },
  };

  /** Upload one file (progress shown), check the commitment the service offers against
   * our own file and salt, show it, and sign it once the person says so. */
  async function uploadEvidence(form, f, kind) {
    var salt = new Uint8Array(32); root.crypto.getRandomValues(salt);
    var fileSha = await sha256(f.bytes);
    var fd = new FormData();
    fd.append('sha256', fileSha); fd.append('salt', hex(salt));
    fd.append('file', f.file, f.file.name);
    var box = form.querySelector('.upload');
    var staged = await upload('cases/' + CASE.caseId + '/evidence?kind=' +
      encodeURIComponent(kind), fd, box);
    // The commitment we sign must be of our own file: SHA-256(tag ‖ salt ‖ sha256(file)).
    var tag = new TextEncoder().encode('chainarb.commitment.v1');
    var buf = new Uint8Array(tag.length + 64);
    buf.set(tag); buf.set(salt, tag.length);
    buf.set(fromHex(fileSha), tag.length + 32);
    var expected = await sha256(buf);
    if (staged.sha256 !== fileSha || staged.typedData.message.commitment !== expected) {
      throw new UiError('commitment_mismatch');
    }
    if (box) { await confirmCommitment(box, expected); }
    var sig = await signTyped(staged.typedData);
    var record = Object.assign({}, staged.unsignedRecord, { signatures: [sig] });
    return kept(await call('POST', 'cases/' + CASE.caseId + '/evidence/' + staged.id +
      '/submit', { record: record }), 'evidence.submitted');
  }

  /** POST a multipart body through the proxy with the upload's progress in ``box``. */
  function upload(path, fd, box) {
    var bar = box && box.querySelector('progress');
    var pct = box && box.querySelector('.upload-percent');
    if (box) { box.hidden = false; }
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/ui/api/' + path);
      xhr.setRequestHeader('X-Chainarb-UI', '1');
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable || !bar) { return; }
        var v = Math.round(100 * e.loaded / e.total);
        bar.value = v; pct.textContent = v + ' %';
      };
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300) {
          if (bar) { bar.value = 100; pct.textContent = '100 %'; }
          resolve(data);
        } else {
          reject(new UiError((data && data.code) || ('http_' + xhr.status), data && data.detail));
        }
      };
      xhr.onerror = function () { reject(new UiError('http_0')); };
      xhr.send(fd);
    });
  }

  /** Show the commitment and wait for the person's click before the wallet signs it. */
  function confirmCommitment(box, commitment) {
    var part = box.querySelector('.commitment');
    part.querySelector('.commitment-value').textContent = commitment;
    part.hidden = false;
    var button = part.querySelector('.sign-commitment');
    button.focus();
    return new Promise(function (resolve) {
      button.addEventListener('click', function () { button.disabled = true; resolve(); },
        { once: true });
    });
  }

  function fromHex(h) {
    var out = new Uint8Array((h.length - 2) / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(h.substr(2 + 2 * i, 2), 16); }
    return out;
  }

  var FIELD_OF = { amount_required: 'toBuyer', amount_format: 'toBuyer',
    amount_decimals: 'toBuyer', amount_too_large: 'toBuyer', compensation_too_large:
    'compensation', days_range: 'days', file_required: 'file', reasons_required: 'reasons',
    claim_statement_required: 'statement', claim_too_large: 'claimedAmount' };

  document.querySelectorAll('form[data-step]').forEach(function (form) {
    if (form.querySelector('.allocation-preview')) {
      ['toBuyer', 'compensation'].forEach(function (n) {
        form.elements[n].addEventListener('input', function () { updatePreview(form); });
      });
      updatePreview(form);
    }
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var button = form.querySelector('button[type=submit]');
      if (button.disabled) { return; }
      button.disabled = true;
      form.querySelectorAll('[aria-invalid]').forEach(function (f) {
        f.removeAttribute('aria-invalid'); });
      show(form, 'pending', MSG.signing);
      try {
        var res = await HANDLERS[form.dataset.step](form);
        show(form, 'ok', MSG.done + (res && res.stage ? ' ' + (MSG.stages[res.stage] ||
          res.stage) : ''));
        setTimeout(function () { location.reload(); }, 1200);
      } catch (e) {
        var code = e instanceof UiError ? e.code : 'unknown';
        var name = e.field || FIELD_OF[code];
        var field = name && form.elements[name];
        if (!field && code === 'file_required') { field = form.querySelector('input[type=file]'); }
        if (field && field.setAttribute) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
        show(form, 'error', message(code, e.detail || e.message),
          code === 'stale_sequence' || code === 'duplicate_action');
        button.disabled = false;
      }
    });
  });

  // Countdowns to deadlines: layout.js (every page).
  root.chainarbActions = api;
})(typeof window !== 'undefined' ? window : globalThis);
