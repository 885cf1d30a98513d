// The sign-in page (backend/web/wallet.py): new wallet, unlock, restore, extension.
// Everything it does goes through window.chainarbWallet (wallet.js, loaded before it); it
// only shows the sections that apply and reports progress and refusals in words.
'use strict';
(function () {
  var W = window.chainarbWallet;
  var words = JSON.parse(document.getElementById('chainarb-wallet-words').textContent);
  var lang = words.lang;
  function t(key) { return words.ui[key] || key; }
  function $(id) { return document.getElementById(id); }
  var status = $('sign-in-status');

  function say(text, kind) { status.textContent = text; status.className = kind || ''; }
  function busy(button, on) { button.disabled = on; button.setAttribute('aria-busy', on ? 'true' : 'false'); }
  function fail(err, field) {
    say(err && err.message ? err.message : String(err), 'error');
    if (field) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
  }
  async function signIn() {
    say(t('signin_signing_in'), 'pending');
    await W.signIn();
    location.href = '/ui/cases?lang=' + encodeURIComponent(lang);
  }

  // Which sections apply: unlock when this browser keeps a wallet.
  function render() {
    var has = W.builtin.exists();
    $('unlock-section').hidden = !has;
    if (has) { $('builtin-address').textContent = W.builtin.address(); }
    var prot = has && W.builtin.passkeyProtected();
    $('passkey-controls').hidden = !has || !W.builtin.passkeySupported();
    $('passkey-state').textContent = t(prot ? 'signin_passkey_on' : 'signin_passkey_off');
    $('passkey-protect').hidden = prot;
    $('passkey-remove').hidden = !prot;
    var list = W.extension.list();
    var box = $('extension-list');
    box.textContent = '';
    $('extension-choice').hidden = list.length < 2;
    list.forEach(function (info, i) {
      var id = 'extension-' + i;
      var input = document.createElement('input');
      input.type = 'radio'; input.name = 'extension'; input.id = id;
      input.value = info.rdns || info.uuid;
      input.checked = W.extension.chosen() ? W.extension.chosen() === input.value : i === 0;
      var label = document.createElement('label');
      label.htmlFor = id;
      if (info.icon && /^data:image\//.test(info.icon)) {
        var img = document.createElement('img');
        img.src = info.icon; img.alt = ''; img.width = 20; img.height = 20;
        label.append(img);
      }
      label.append(info.name + (info.rdns ? ' (' + info.rdns + ')' : ''));
      var row = document.createElement('div');
      row.className = 'choice';
      row.append(input, label);
      box.append(row);
    });
  }

  $('unlock-form').addEventListener('submit', async function (e) {
    e.preventDefault();
    var button = $('unlock-button'), field = $('unlock-passphrase');
    field.removeAttribute('aria-invalid');
    busy(button, true); say(t('signin_unlocking'), 'pending');
    try { await W.builtin.unlock(field.value); W.useBuiltin(); await signIn(); }
    catch (err) { fail(err, err.code === 'wrong_passphrase' ? field : null); }
    finally { busy(button, false); }
  });

  $('create-form').addEventListener('submit', async function (e) {
    e.preventDefault();
    var button = $('create-button'), p1 = $('new-passphrase'), p2 = $('new-passphrase2');
    p1.removeAttribute('aria-invalid'); p2.removeAttribute('aria-invalid');
    if ([...p1.value].length < W.MIN_PASSPHRASE) { return fail({ message: t('wallet_err_short_passphrase') }, p1); }
    if (p1.value !== p2.value) { return fail({ message: t('wallet_err_mismatch') }, p2); }
    busy(button, true); say(t('signin_creating'), 'pending');
    try {
      await W.builtin.create(p1.value);
      p1.value = ''; p2.value = '';
      $('create-form').hidden = true;
      $('recovery-step').hidden = false;
      say('');
      $('download-recovery').focus();
      render();
    } catch (err) { fail(err); }
    finally { busy(button, false); }
  });

  $('download-recovery').addEventListener('click', async function () {
    try { await W.builtin.downloadRecoveryFile(); } catch (err) { return fail(err); }
    $('continue-button').disabled = false;
    $('continue-button').focus();
  });
  $('download-recovery-existing').addEventListener('click', async function () {
    try { await W.builtin.downloadRecoveryFile(); } catch (err) { fail(err); }
  });
  // Passkey protection: the passphrase typed in the unlock form proves the owner.
  async function passkey(button, action, done) {
    var field = $('unlock-passphrase');
    field.removeAttribute('aria-invalid');
    if (!field.value) { return fail({ message: t('wallet_err_passphrase_first') }, field); }
    busy(button, true); say(t('signin_passkey_wait'), 'pending');
    try { await action(field.value); say(t(done), 'ok'); render(); }
    catch (err) { fail(err, err.code === 'wrong_passphrase' ? field : null); }
    finally { busy(button, false); }
  }
  $('passkey-protect').addEventListener('click', function () {
    passkey(this, W.builtin.protectWithPasskey, 'signin_passkey_added');
  });
  $('passkey-remove').addEventListener('click', function () {
    passkey(this, W.builtin.removePasskey, 'signin_passkey_removed');
  });
  $('continue-button').addEventListener('click', async function () {
    var button = $('continue-button');
    busy(button, true);
    try { await signIn(); } catch (err) { fail(err); } finally { busy(button, false); }
  });
  $('forget-wallet').addEventListener('click', function () {
    if (window.confirm(this.getAttribute('data-confirm'))) { W.builtin.forget(); render(); }
  });

  $('restore-form').addEventListener('submit', async function (e) {
    e.preventDefault();
    var button = $('restore-button'), file = $('restore-file'), field = $('restore-passphrase');
    file.removeAttribute('aria-invalid'); field.removeAttribute('aria-invalid');
    if (!file.files.length) { return fail({ message: t('wallet_err_no_file') }, file); }
    busy(button, true); say(t('signin_unlocking'), 'pending');
    try {
      var text = await file.files[0].text();
      await W.builtin.restore(text, field.value);
      render();
      await signIn();
    } catch (err) {
      fail(err, err.code === 'wrong_passphrase' ? field : err.code === 'bad_file' ? file : null);
    } finally { busy(button, false); }
  });

  $('sign-in').addEventListener('click', async function () {
    var button = $('sign-in');
    var picked = document.querySelector('#extension-list input:checked');
    busy(button, true);
    try {
      if (!W.extension.list().length) { throw { message: t('wallet_err_no_extension') }; }
      W.extension.choose(picked ? picked.value : 'window.ethereum');
      await signIn();
    } catch (err) { fail(err); }
    finally { busy(button, false); }
  });

  render();
  // Wallets may announce themselves a moment after load (EIP-6963).
  window.addEventListener('eip6963:announceProvider', function () { setTimeout(render, 0); });
})();
