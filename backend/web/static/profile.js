/* chainarb profile page: fill in your Profile, sign it with your wallet, send it.
 *
 * Why in the page: the wallet holds the key; the service only receives the signed record
 * (PUT /profile through /ui/api/, which adds the session cookie's token) and checks it.
 * The typed data comes from the page (#profile-data: the record type's own template, so
 * the field list is declared once, in evidence/records.py); this script fills in the
 * message from the form and the time of signing.
 * Signing: window.chainarbWallet (the built-in or chosen wallet) when the page has it,
 * else the EIP-1193 provider (window.ethereum) with eth_signTypedData_v4.
 */
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('profile-data').textContent);
  var MSG = DATA.messages;
  var form = document.getElementById('profile-form');
  var out = document.getElementById('profile-result');

  function fail(code, field) {
    var e = new Error(code); e.code = code; e.field = field; return e;
  }

  function show(kind, text) { out.className = 'result ' + kind; out.textContent = text; }

  function words(e) {
    return MSG['err_' + e.code] || (MSG.err_unknown + (e.code ? ' (' + e.code + ')' : ''));
  }

  function value(id) { return document.getElementById(id).value.trim(); }

  /** The message the person signs, from the form; a coded error names a bad field. */
  function message() {
    var name = value('profile-name'); var nameZh = value('profile-name-zh');
    var country = value('profile-country').toUpperCase();
    var contact = value('profile-contact');
    if (!name && !nameZh) { throw fail('name_required', 'profile-name'); }
    if (country && !/^[A-Z]{2}$/.test(country)) { throw fail('country_format', 'profile-country'); }
    if (contact && !/^[^@\s]+@[^@\s]+$/.test(contact)) {
      throw fail('contact_format', 'profile-contact');
    }
    return { subject: DATA.viewer, issuer: DATA.viewer, name: name, nameZh: nameZh,
      country: country, language: value('profile-language'), contact: contact,
      signedAt: String(Math.floor(Date.now() / 1000)) };
  }

  async function sign(typed) {
    var w = window.chainarbWallet;
    try {
      if (w && w.kind && w.kind()) {
        var addr = await w.address();
        if (addr.toLowerCase() !== DATA.viewer.toLowerCase()) { throw fail('other_account'); }
        return await w.signTypedData(typed);
      }
      if (!window.ethereum) { throw fail('no_wallet'); }
      var accounts = await window.ethereum.request({ method: 'eth_requestAccounts' });
      if (!accounts || !accounts.length) { throw fail('no_wallet'); }
      if (accounts[0].toLowerCase() !== DATA.viewer.toLowerCase()) { throw fail('other_account'); }
      return await window.ethereum.request({ method: 'eth_signTypedData_v4',
        params: [accounts[0], JSON.stringify(typed)] });
    } catch (e) {
      if (e && e.code && MSG['err_' + e.code]) { throw e; }
      throw fail('wallet_refused');
    }
  }

  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    form.querySelectorAll('[aria-invalid]').forEach(function (el) {
      el.removeAttribute('aria-invalid'); });
    var button = document.getElementById('profile-sign');
    try {
      var msg = message();
      var typed = JSON.parse(JSON.stringify(DATA.typedData));
      typed.message = msg;
      button.disabled = true;
      show('pending', MSG.signing);
      var signature = await sign(typed);
      var record = { format: 'chainarb.record', v: 1, type: typed.primaryType,
        domain: typed.domain, message: msg, signatures: [signature] };
      var r = await fetch('/ui/api/profile', { method: 'PUT', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-Chainarb-UI': '1' },
        body: JSON.stringify({ record: record }) });
      var body = null;
      try { body = await r.json(); } catch (e) { body = null; }
      if (!r.ok) { throw fail((body && body.code) || ('http_' + r.status)); }
      show('ok', MSG.profile_saved);
      setTimeout(function () { location.reload(); }, 600);
    } catch (e) {
      if (e.field) {
        var el = document.getElementById(e.field);
        el.setAttribute('aria-invalid', 'true'); el.focus();
      }
      show('error', words(e));
    } finally { button.disabled = false; }
  });
}());
