/* chainarb assessor pool page: the pool's steps, signed by the viewer's wallet.
 *
 * As on the case page (actions.js), the page never builds a record itself: it asks the
 * service to prepare the step (POST pool/prepare with the action and the payload entered),
 * checks that what came back is what was entered (action, signer, domain, the payload and
 * its SHA-256), has the wallet sign the typed data and posts {record, payload} to the
 * step's route through /ui/api/ (which adds the session cookie's token).
 * Loadable in Node too (module.exports) so the tests can hold its checks to the service.
 */
(function (root) {
  'use strict';

  // canonical JSON and SHA-256: signer.js, shared with the other signing page
  var digest = typeof module !== 'undefined' && module.exports
    ? require('./signer.js').digest : root.chainarbDigest;
  var canonicalJson = digest.canonicalJson, sha256 = digest.sha256;

  function PoolError(code, detail) {
    this.code = code; this.detail = detail || ''; this.message = code + (detail ? ': ' + detail : '');
  }
  PoolError.prototype = Object.create(Error.prototype);

  /** Does the prepared step say what was entered? A reason, or '' when it does. */
  function mismatch(prep, action, payload, viewer, domain) {
    if (!prep || prep.action !== action || prep.recordType !== 'ProceduralStep') { return 'action'; }
    var td = prep.typedData || {};
    var d = td.domain || {};
    if (String(d.chainId) !== String(domain.chainId) || d.name !== domain.name ||
        d.version !== domain.version || String(d.verifyingContract).toLowerCase() !==
        String(domain.verifyingContract).toLowerCase()) { return 'domain'; }
    var msg = td.message || {};
    if (msg.action !== action) { return 'action'; }
    if (!msg.actor || msg.actor.toLowerCase() !== viewer.toLowerCase()) { return 'signer'; }
    if (canonicalJson(prep.payload) !== canonicalJson(payload)) { return 'payload'; }
    return '';
  }

  /** A whole number 0..high typed in a field, or a PoolError naming the field. */
  function wholeNumber(text, high, field) {
    var s = String(text == null ? '' : text).trim();
    if (!/^\d{1,6}$/.test(s) || Number(s) > high) {
      var e = new PoolError('pool_number'); e.field = field; throw e;
    }
    return Number(s);
  }

  var api = { canonicalJson: canonicalJson, mismatch: mismatch, wholeNumber: wholeNumber };
  if (typeof module !== 'undefined' && module.exports) { module.exports = api; return; }

  // ---------------------------------------------------------------- the page ----------
  var DATA = JSON.parse(document.getElementById('pool-data').textContent);
  var MSG = DATA.messages;

  function message(code) { return MSG['err_' + code] || MSG.err_unknown; }

  async function call(method, path, body) {
    var r = await fetch('/ui/api/' + path, { method: method, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Chainarb-UI': '1' },
      body: body === undefined ? undefined : JSON.stringify(body) });
    var data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) { throw new PoolError((data && data.code) || ('http_' + r.status), data && data.detail); }
    return data;
  }

  // The wallet's account check and signature: signer.js (shared with actions.js).
  var signer = root.chainarbSigner(DATA.viewer, PoolError);
  var account = signer.account;
  var signTyped = signer.signTyped;

  function value(form, name, code) {
    var v = String(form.elements[name].value || '').trim();
    if (!v) { var e = new PoolError(code); e.field = name; throw e; }
    return v;
  }

  // The payload of each step, from its form (the assessor is the form's).
  var PAYLOADS = {
    'pool.applied': function (form) { return { assessor: form.dataset.assessor }; },
    'pool.admitted': function (form) {
      return { assessor: form.dataset.assessor, criteriaHash: DATA.criteriaHash,
        accountAgeDays: wholeNumber(form.elements.accountAgeDays.value, 100000, 'accountAgeDays'),
        identityVerified: form.elements.identityVerified.checked,
        standing: wholeNumber(form.elements.standing.value, 100, 'standing'),
        testScore: wholeNumber(form.elements.testScore.value, 100, 'testScore') };
    },
    'pool.suspended': async function (form) {
      return { assessor: form.dataset.assessor,
        reasonHash: await sha256(value(form, 'reason', 'pool_reason')) };
    },
    'pool.reinstated': function (form) { return { assessor: form.dataset.assessor }; },
    'pool.relationship_declared': function (form) {
      var party = value(form, 'party', 'address_format');
      if (!/^0x[0-9a-fA-F]{40}$/.test(party)) {
        var e = new PoolError('address_format'); e.field = 'party'; throw e;
      }
      return { assessor: form.dataset.assessor, party: party,
        nature: value(form, 'nature', 'pool_nature') };
    }
  };

  async function step(form) {
    var action = form.dataset.action;
    var payload = await PAYLOADS[action](form);
    await account();
    var prep = await call('POST', 'pool/prepare', { action: action, payload: payload });
    var bad = mismatch(prep, action, payload, DATA.viewer, DATA.domain);
    if (!bad && await sha256(canonicalJson(prep.payload)) !== prep.typedData.message.payloadHash) {
      bad = 'payloadHash';
    }
    if (bad) { throw new PoolError('prepared_mismatch', bad); }
    var record = Object.assign({}, prep.unsignedRecord,
      { signatures: [await signTyped(prep.typedData)] });
    return call('POST', prep.endpoint.replace(/^\//, ''), { record: record, payload: prep.payload });
  }

  function show(form, kind, text) {
    var out = form.querySelector('.result');
    out.className = 'result ' + kind;
    out.textContent = text;
  }

  document.querySelectorAll('form.pool-step').forEach(function (form) {
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var button = form.querySelector('button[type=submit]');
      form.querySelectorAll('[aria-invalid]').forEach(function (el) {
        el.removeAttribute('aria-invalid'); });
      button.disabled = true;
      show(form, 'pending', MSG.pool_signing);
      try {
        await step(form);
        show(form, 'ok', MSG.pool_done);
        setTimeout(function () { location.reload(); }, 600);
      } catch (e) {
        var code = (e && e.code) || 'unknown';
        show(form, 'error', message(code));
        if (e && e.field && form.elements[e.field]) {
          form.elements[e.field].setAttribute('aria-invalid', 'true');
          form.elements[e.field].focus();
        }
        button.disabled = false;
      }
    });
  });
}(typeof window !== 'undefined' ? window : globalThis));
