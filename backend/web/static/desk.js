/* chainarb: the neutrals' and the institution's pages (neutral.py, institution.py).
 *
 * What it does, and why in the page:
 * - admin forms (form.admin[data-path]): register a neutral or a court, give a court a
 *   case, release an advance refund (the institution's key signs that step, server-side).
 *   Plain API calls through the pages' proxy (/ui/api/, the session cookie's token); no
 *   wallet is asked. An amount (input[data-decimals]) is typed in the order's token and
 *   sent as the integer in its smallest unit (actions.js's parseUnits, BigInt: exact).
 * - retry buttons (button[data-retry]): put a failed chain action back in the queue.
 * - the neutral's disclosure (form#disclosure): the page fills the Disclosure the service
 *   prepared (its typed data, in #desk-data) with what the neutral entered, the neutral's
 *   wallet signs it (eth_signTypedData_v4), and the signed record is posted. The server
 *   never holds the neutral's key.
 * - evidence shown inline (button[data-open]): images and text read through the proxy;
 *   anything else is downloaded (the download link works without this script).
 * - the mediator's pre-evaluation report for the tracking status the form selects.
 * Errors are shown in words (the API's code looked up in the page's messages).
 */
(function (root) {
  'use strict';
  var node = document.getElementById('desk-data');
  if (!node) { return; }
  var DATA = JSON.parse(node.textContent);
  var MSG = DATA.messages || {};
  var loadedAt = Date.now();
  var serverNow = DATA.serverNow || Math.floor(loadedAt / 1000);

  function DeskError(code, detail, field) {
    this.code = code; this.detail = detail || ''; this.field = field || null;
  }

  function words(code) {
    return MSG['err_' + code] || MSG.err_unknown || code;
  }

  function show(out, kind, textValue) {
    if (!out) { return; }
    out.className = 'result ' + kind;
    out.textContent = textValue;
  }

  async function call(method, path, body) {
    var headers = { 'X-Chainarb-UI': '1' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    var r = await fetch('/ui/api/' + path, { method: method, headers: headers,
      credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    var data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) { throw new DeskError((data && data.code) || ('http_' + r.status), data && data.detail); }
    return data;
  }

  function fieldsOf(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === 'submit') { return; }
      var v = String(el.value || '').trim();
      if (el.dataset && el.dataset.decimals !== undefined) { v = units(el, v); }
      if (v !== '' || el.required) { out[el.name] = v; }
    });
    return out;
  }

  /** A typed amount as the integer in the token's smallest unit; a DeskError naming the
   * field (amount_required, amount_format, amount_decimals) when it is not one. */
  function units(el, v) {
    try {
      return root.chainarbActions.parseUnits(v, Number(el.dataset.decimals)).toString();
    } catch (e) { throw new DeskError(e.code || 'amount_format', '', el); }
  }

  function markInvalid(form) {
    var bad = null;
    Array.prototype.forEach.call(form.elements, function (el) {
      el.removeAttribute && el.removeAttribute('aria-invalid');
      if (el.willValidate && !el.checkValidity()) {
        el.setAttribute('aria-invalid', 'true'); bad = bad || el;
      }
    });
    if (bad) { bad.focus(); }
    return bad;
  }

  document.querySelectorAll('form.admin[data-path]').forEach(function (form) {
    form.setAttribute('novalidate', '');
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var out = form.querySelector('.result');
      var button = form.querySelector('button[type=submit]');
      if (markInvalid(form)) { show(out, 'error', words('invalid_field')); return; }
      var body;
      try { body = fieldsOf(form); } catch (e) {
        e.field.setAttribute('aria-invalid', 'true'); e.field.focus();
        show(out, 'error', e.code === 'amount_decimals' && form.dataset.decimalsWords ?
          form.dataset.decimalsWords : words(e.code));
        return;
      }
      button.disabled = true;
      show(out, 'pending', MSG.inst_working || '…');
      try {
        await call('POST', form.dataset.path, body);
        show(out, 'ok', form.dataset.done);
        setTimeout(function () { location.reload(); }, 900);
      } catch (e) {
        show(out, 'error', words(e.code || 'unknown'));
        button.disabled = false;
      }
    });
  });

  document.querySelectorAll('button[data-retry]').forEach(function (button) {
    button.addEventListener('click', async function () {
      var out = button.parentNode.querySelector('.result');
      button.disabled = true;
      show(out, 'pending', MSG.inst_working || '…');
      try {
        var done = await call('POST', 'admin/chain-actions/' + button.dataset.retry + '/retry');
        show(out, 'ok', (MSG.inst_retried || '') + ' ' +
          (MSG['chain_status_' + done.status] || done.status));
        setTimeout(function () { location.reload(); }, 1500);
      } catch (e) {
        show(out, 'error', words(e.code || 'unknown'));
        button.disabled = false;
      }
    });
  });

  // ------------------------------------------------------------ signing (disclosure)
  // The wallet: window.chainarbWallet (wallet.js: built-in or extension), else a bare
  // EIP-1193 window.ethereum. Either way it must be the signed-in account.
  async function signTyped(typed) {
    var wallet = root.chainarbWallet && root.chainarbWallet.kind() ? root.chainarbWallet : null;
    var addr;
    if (wallet) { addr = await wallet.address(); } else {
      if (!root.ethereum) { throw new DeskError('no_wallet'); }
      var accounts = await root.ethereum.request({ method: 'eth_requestAccounts' });
      addr = accounts && accounts[0];
    }
    if (!addr) { throw new DeskError('no_wallet'); }
    if (addr.toLowerCase() !== String(DATA.viewer).toLowerCase()) {
      throw new DeskError('other_account');
    }
    try {
      if (wallet) { return await wallet.signTypedData(typed); }
      return await root.ethereum.request({ method: 'eth_signTypedData_v4',
        params: [addr, JSON.stringify(typed)] });
    } catch (e) { throw new DeskError('wallet_refused', e && e.message); }
  }

  function now() { return Math.floor(serverNow + (Date.now() - loadedAt) / 1000); }

  var disclosure = document.getElementById('disclosure');
  if (disclosure && DATA.disclosure) {
    disclosure.setAttribute('novalidate', '');
    disclosure.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var out = disclosure.querySelector('.result');
      var button = disclosure.querySelector('button[type=submit]');
      var independent = disclosure.elements.independent.value === 'yes';
      var conflicts = String(disclosure.elements.conflicts.value || '').trim();
      var statement = String(disclosure.elements.statement.value || '').trim();
      disclosure.querySelectorAll('[aria-invalid]').forEach(function (f) {
        f.removeAttribute('aria-invalid'); });
      var bad = !statement ? 'statement' : (!independent && !conflicts ? 'conflicts' : '');
      if (bad) {
        disclosure.elements[bad].setAttribute('aria-invalid', 'true');
        disclosure.elements[bad].focus();
        show(out, 'error', words(bad + '_required'));
        return;
      }
      button.disabled = true;
      show(out, 'pending', MSG.signing || '…');
      try {
        var typed = JSON.parse(JSON.stringify(DATA.disclosure.typedData));
        typed.message.independent = independent;
        typed.message.conflicts = conflicts;
        typed.message.statement = statement;
        typed.message.signedAt = String(now());
        var signature = await signTyped(typed);
        var record = { format: 'chainarb.record', v: 1, type: 'Disclosure',
          domain: DATA.disclosure.domain, message: typed.message, signatures: [signature] };
        await call('POST', 'cases/' + DATA.caseId + '/disclosures', { record: record });
        show(out, 'ok', MSG.disclosed || '');
        setTimeout(function () { location.reload(); }, 900);
      } catch (e) {
        show(out, 'error', words(e.code || 'unknown'));
        button.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------ evidence inline
  document.querySelectorAll('button[data-open]').forEach(function (button) {
    button.addEventListener('click', async function () {
      var box = document.getElementById(button.getAttribute('aria-controls'));
      if (!box) { return; }
      if (!box.hidden) { box.hidden = true; button.setAttribute('aria-expanded', 'false'); return; }
      button.disabled = true;
      try {
        var r = await fetch(button.dataset.open, { credentials: 'same-origin' });
        if (!r.ok) {
          var code = null;
          try { code = (await r.json()).code; } catch (e) { code = null; }
          throw new DeskError(code || ('http_' + r.status));
        }
        var type = (r.headers.get('content-type') || '').split(';')[0];
        box.textContent = '';
        if (type.indexOf('image/') === 0) {
          var blob = await r.blob();
          var url = await new Promise(function (ok, fail) {
            var fr = new FileReader(); fr.onload = function () { ok(fr.result); };
            fr.onerror = fail; fr.readAsDataURL(blob);
          });
          var img = document.createElement('img');
          img.src = url; img.alt = button.dataset.alt || ''; img.className = 'evidence-image';
          box.appendChild(img);
        } else {
          var pre = document.createElement('pre');
          pre.className = 'evidence-text'; pre.textContent = await r.text();
          box.appendChild(pre);
        }
        box.hidden = false;
        button.setAttribute('aria-expanded', 'true');
      } catch (e) {
        box.textContent = words(e.code || 'unknown'); box.hidden = false;
      }
      button.disabled = false;
    });
  });

  // ------------------------------------------------------------ the pre-evaluation shown
  var tracking = document.getElementById('step-preeval-tracking');
  function showReport() {
    document.querySelectorAll('.preeval-report').forEach(function (div) {
      div.hidden = div.dataset.tracking !== tracking.value;
    });
  }
  if (tracking) { tracking.addEventListener('change', showReport); showReport(); }

})(window);
