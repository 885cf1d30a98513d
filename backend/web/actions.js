/* chainarb case page: the steps a signed-in user may take now, signed by their wallet.
 *
 * Why in the page: the wallet (window.ethereum) holds the key; the server only ever sees
 * the signed record. Each step is EIP-712 typed data built here from the record types of
 * docs/evidence.md (the evidence upload signs the typed data the API returns), signed with
 * eth_signTypedData_v4 and posted through /ui/api/ (which adds the session cookie's token).
 * Amounts are decimal strings parsed into integer base units with BigInt, never floats.
 * Loadable in Node too (module.exports) so the tests can hold the digests to evidence.records.
 */
(function (root) {
  'use strict';

  var DOMAIN_TYPE = [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' },
    { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }];
  var FIELDS = {
    ProceduralStep: 'bytes32 caseId,uint64 sequence,bytes32 prevHash,address actor,' +
      'string action,bytes32 payloadHash,uint64 signedAt',
    SettlementOffer: 'bytes32 caseId,uint64 sequence,bytes32 prevHash,address offeror,' +
      'uint256 orderId,uint256 toBuyer,uint256 toSeller,uint256 compensation,' +
      'uint64 expiresAt,uint64 signedAt',
    Settlement: 'uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,' +
      'uint256 compensation',
    Objection: 'bytes32 caseId,uint64 sequence,bytes32 prevHash,address objector,' +
      'bytes32 awardRecordHash,bytes32 reasonsHash,uint64 signedAt',
  };

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

  /** The eth_signTypedData_v4 payload of a record (uints as decimal strings). */
  function typedData(type, domain, message) {
    var fields = FIELDS[type].split(',').map(function (f) {
      var p = f.split(' '); return { name: p[1], type: p[0] };
    });
    var types = { EIP712Domain: DOMAIN_TYPE };
    types[type] = fields;
    return { types: types, primaryType: type, domain: Object.assign({}, domain),
      message: Object.assign({}, message) };
  }

  /** The stored record JSON (docs/evidence.md 1.7) around one signature. */
  function recordJson(type, domain, message, signature) {
    return { format: 'chainarb.record', v: 1, type: type, domain: domain, message: message,
      signatures: [signature] };
  }

  /** Canonical JSON as evidence.records.canonical_json: sorted keys, no whitespace. */
  function canonicalJson(v) {
    if (Array.isArray(v)) { return '[' + v.map(canonicalJson).join(',') + ']'; }
    if (v && typeof v === 'object') {
      return '{' + Object.keys(v).sort().map(function (k) {
        return JSON.stringify(k) + ':' + canonicalJson(v[k]);
      }).join(',') + '}';
    }
    return JSON.stringify(v);
  }

  function hex(bytes) {
    return '0x' + Array.from(new Uint8Array(bytes)).map(function (b) {
      return b.toString(16).padStart(2, '0'); }).join('');
  }

  async function sha256(data) {
    var bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return hex(await root.crypto.subtle.digest('SHA-256', bytes));
  }

  function b64(buffer) {
    var s = ''; var a = new Uint8Array(buffer);
    for (var i = 0; i < a.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, a.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  var api = { parseUnits: parseUnits, formatUnits: formatUnits, typedData: typedData,
    recordJson: recordJson, canonicalJson: canonicalJson, UiError: UiError, FIELDS: FIELDS };
  if (typeof module !== 'undefined' && module.exports) { module.exports = api; return; }

  // ---------------------------------------------------------------- the page ----------
  var CASE = JSON.parse(document.getElementById('case-data').textContent);
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

  async function account() {
    if (!root.ethereum) { throw new UiError('no_wallet'); }
    var accounts = await root.ethereum.request({ method: 'eth_requestAccounts' });
    if (!accounts || !accounts.length) { throw new UiError('no_wallet'); }
    if (accounts[0].toLowerCase() !== CASE.viewer.toLowerCase()) {
      throw new UiError('other_account');
    }
    return accounts[0];
  }

  async function sign(type, msg) {
    var from = await account();
    try {
      return await root.ethereum.request({ method: 'eth_signTypedData_v4',
        params: [from, JSON.stringify(typedData(type, CASE.domain, msg))] });
    } catch (e) { throw new UiError('wallet_refused', e && e.message); }
  }

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

  function chain(extra) {
    return Object.assign({ caseId: CASE.caseId, sequence: String(CASE.nextSequence),
      prevHash: CASE.prevHash }, extra);
  }

  async function step(action, payload, endpoint, extra) {
    var msg = chain({ actor: CASE.viewer, action: action,
      payloadHash: await sha256(canonicalJson(payload)), signedAt: String(now()) });
    var sig = await sign('ProceduralStep', msg);
    return call('POST', 'cases/' + CASE.caseId + '/' + endpoint, Object.assign(
      { record: recordJson('ProceduralStep', CASE.domain, msg, sig), payload: payload }, extra));
  }

  async function settlement(alloc) {
    var msg = { orderId: CASE.orderId, caseId: CASE.caseId, toBuyer: alloc.toBuyer,
      toSeller: alloc.toSeller, compensation: alloc.compensation };
    return recordJson('Settlement', CASE.domain, msg, await sign('Settlement', msg));
  }

  async function readFile(input, required) {
    var f = input && input.files && input.files[0];
    if (!f) { if (required) { throw new UiError('file_required'); } return null; }
    return { file: f, bytes: await f.arrayBuffer() };
  }

  function parseField(form, name, value) {
    try { return parseUnits(value, CASE.decimals); } catch (e) { e.field = name; throw e; }
  }

  var HANDLERS = {
    offer: async function (form) {
      var amount = BigInt(CASE.amount);
      var toBuyer = parseField(form, 'toBuyer', form.elements.toBuyer.value);
      var comp = parseField(form, 'compensation', form.elements.compensation.value || '0');
      if (toBuyer > amount) { throw new UiError('amount_too_large'); }
      if (comp > BigInt(CASE.guarantee)) { throw new UiError('compensation_too_large'); }
      var days = Number(form.elements.days.value);
      if (!Number.isInteger(days) || days < 1 || days > 30) { throw new UiError('days_range'); }
      var alloc = { toBuyer: toBuyer.toString(), toSeller: (amount - toBuyer).toString(),
        compensation: comp.toString() };
      var t = now();
      var msg = chain({ offeror: CASE.viewer, orderId: CASE.orderId, toBuyer: alloc.toBuyer,
        toSeller: alloc.toSeller, compensation: alloc.compensation,
        expiresAt: String(t + days * 86400), signedAt: String(t) });
      var sig = await sign('SettlementOffer', msg);
      var att = await settlement(alloc);
      return call('POST', 'cases/' + CASE.caseId + '/offers',
        { record: recordJson('SettlementOffer', CASE.domain, msg, sig), attachments: [att] });
    },
    accept: async function (form) {
      var offer = CASE.offers[form.elements.offerId.value];
      var att = await settlement(offer.allocation);
      return step('offer.accepted', { offerId: offer.offerId,
        settlementHash: offer.settlementHash }, 'offers/accept', { attachments: [att] });
    },
    withdraw: async function (form) {
      return step('offer.withdrawn', { offerId: form.elements.offerId.value },
        'offers/withdraw');
    },
    agree: function () { return step('arbitration.agreed', {}, 'arbitration-agreement'); },
    close: function () { return step('record.closed', {}, 'close-record'); },
    answer: async function (form) {
      var f = await readFile(form.elements.document, true);
      var doc = { filename: f.file.name, media_type: f.file.type || 'application/octet-stream',
        content_base64: b64(f.bytes) };
      return step('answer.submitted', { answerHash: await sha256(f.bytes) }, 'answer',
        { document: doc });
    },
    objection: async function (form) {
      var reasons = form.elements.reasons.value.trim();
      if (!reasons) { throw new UiError('reasons_required'); }
      var msg = chain({ objector: CASE.viewer, awardRecordHash: CASE.awardRecordHash,
        reasonsHash: await sha256(reasons), signedAt: String(now()) });
      var sig = await sign('Objection', msg);
      return call('POST', 'cases/' + CASE.caseId + '/objection', {
        record: recordJson('Objection', CASE.domain, msg, sig),
        document: { filename: 'objection.txt', media_type: 'text/plain',
          content_base64: b64(new TextEncoder().encode(reasons)) } });
    },
    evidence: async function (form) {
      var f = await readFile(form.elements.file, true);
      var kind = form.elements.kind.value;
      var salt = new Uint8Array(32); root.crypto.getRandomValues(salt);
      var fileSha = await sha256(f.bytes);
      var fd = new FormData();
      fd.append('sha256', fileSha); fd.append('salt', hex(salt));
      fd.append('file', f.file, f.file.name);
      var staged = await call('POST', 'cases/' + CASE.caseId + '/evidence?kind=' +
        encodeURIComponent(kind), fd, true);
      // The commitment we sign must be of our own file: SHA-256(tag ‖ salt ‖ sha256(file)).
      var tag = new TextEncoder().encode('chainarb.commitment.v1');
      var buf = new Uint8Array(tag.length + 64);
      buf.set(tag); buf.set(salt, tag.length);
      buf.set(fromHex(fileSha), tag.length + 32);
      var expected = await sha256(buf);
      if (staged.sha256 !== fileSha || staged.typedData.message.commitment !== expected) {
        throw new UiError('commitment_mismatch');
      }
      var from = await account();
      var sig;
      try {
        sig = await root.ethereum.request({ method: 'eth_signTypedData_v4',
          params: [from, JSON.stringify(staged.typedData)] });
      } catch (e) { throw new UiError('wallet_refused', e && e.message); }
      var record = Object.assign({}, staged.unsignedRecord, { signatures: [sig] });
      return call('POST', 'cases/' + CASE.caseId + '/evidence/' + staged.id + '/submit',
        { record: record });
    },
  };

  function fromHex(h) {
    var out = new Uint8Array((h.length - 2) / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(h.substr(2 + 2 * i, 2), 16); }
    return out;
  }

  var FIELD_OF = { amount_required: 'toBuyer', amount_format: 'toBuyer',
    amount_decimals: 'toBuyer', amount_too_large: 'toBuyer', compensation_too_large:
    'compensation', days_range: 'days', file_required: 'file', reasons_required: 'reasons' };

  document.querySelectorAll('form[data-step]').forEach(function (form) {
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
        if (field) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
        show(form, 'error', message(code, e.detail || e.message),
          code === 'stale_sequence' || code === 'duplicate_action');
        button.disabled = false;
      }
    });
  });

  // Countdowns to deadlines (the <time> text is the local time; this adds what is left).
  function tick() {
    document.querySelectorAll('[data-countdown]').forEach(function (el) {
      var left = Math.floor(Date.parse(el.dataset.countdown) / 1000) - now();
      if (left <= 0) { el.textContent = MSG.passed; el.className = 'countdown passed'; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = MSG.left.replace('{d}', d).replace('{h}', String(h).padStart(2, '0'))
        .replace('{m}', String(m).padStart(2, '0')).replace('{s}', String(s).padStart(2, '0'));
    });
  }
  tick(); setInterval(tick, 1000);
  root.chainarbActions = api;
})(typeof window !== 'undefined' ? window : globalThis);
