/* chainarb court workspace: download the judicial package, have the service check a
 * package file, and keep the decision form naming a package the court received.
 *
 * Why in the page: the package is built for the signed-in court (the session cookie goes
 * through /ui/api/); the file is saved by the browser with the digest the service states
 * beside it; the check is an upload with a progress bar (XMLHttpRequest: fetch has no upload
 * progress). Every word comes from the page (#court-data), in the page's language; check
 * labels and reasons come from the service in both languages. No imports, no eval.
 */
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('court-data').textContent);
  var W = DATA.words;
  var ZH = DATA.zh;
  var COLON = ZH ? '：' : ': ';

  function say(key, values) {
    var s = W[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split('{' + k + '}').join(values[k]); });
    return s;
  }

  function errorText(code) {
    return W['court_err_' + code] || W['err_' + code] || W.err_unknown + ' (' + code + ')';
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }

  function localTime(iso) {
    var t = el('time', { datetime: iso, text: iso });
    var d = new Date(iso);
    if (!isNaN(d)) { t.title = iso; t.textContent = d.toLocaleString(document.documentElement.lang); }
    return t;
  }

  function status(node, kind, text) { node.className = 'result ' + kind; node.textContent = text; }

  // -- 1. download ---------------------------------------------------------------------------
  var dl = document.getElementById('package-download');
  var dlStatus = document.getElementById('package-status');

  function filenameOf(disposition) {
    var m = /filename\*=UTF-8''([^;]+)/i.exec(disposition || '') ||
      /filename="?([^";]+)"?/i.exec(disposition || '');
    return m ? decodeURIComponent(m[1]) : 'judicial-package.zip';
  }

  function rememberPackage(digest, manifest) {
    var table = document.getElementById('package-exports');
    var none = document.getElementById('package-none');
    if (none) { none.remove(); }
    table.hidden = false;
    var now = new Date().toISOString();
    var row = el('tr', {}, [el('td', {}, [localTime(now)]),
      el('td', {}, [el('a', { href: '/verify/' + digest + '?lang=' + DATA.lang, class: 'digest' },
        [el('code', { text: digest })])]), el('td', {}, [el('code', { text: manifest })])]);
    table.tBodies[0].insertBefore(row, table.tBodies[0].firstChild);
    // The decision forms name this package now (a select when packages were listed at load;
    // a text field when this is the first one: fill it).
    document.querySelectorAll('[name=packageHash]').forEach(function (field) {
      if (field.tagName === 'SELECT') {
        var exists = Array.prototype.some.call(field.options, function (o) { return o.value === manifest; });
        if (!exists) {
          field.insertBefore(el('option', { value: manifest, text: say('court_package_option',
            { at: now.slice(0, 16).replace('T', ' ') + ' UTC', digest: digest.slice(0, 8) }) }),
          field.firstChild);
        }
        field.value = manifest;
      } else { field.value = manifest; }
    });
    var first = document.getElementById('package-first');
    if (first) { first.remove(); }
  }

  dl.addEventListener('click', async function () {
    if (dl.disabled) { return; }
    dl.disabled = true;
    status(dlStatus, 'pending', say('court_downloading'));
    try {
      var r = await fetch('/ui/api/cases/' + DATA.caseId + '/judicial-package',
        { credentials: 'same-origin' });
      if (!r.ok) {
        var body = null;
        try { body = await r.json(); } catch (e) { body = null; }
        status(dlStatus, 'error', errorText((body && body.code) || ('http_' + r.status)));
        return;
      }
      var blob = await r.blob();
      var name = filenameOf(r.headers.get('content-disposition'));
      var digest = r.headers.get('x-package-digest') || '';
      var manifest = r.headers.get('x-package-manifest-sha256') || '';
      var url = URL.createObjectURL(blob);
      var a = el('a', { href: url, download: name });
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      status(dlStatus, 'ok', say('court_saved', { name: name }) + ' ' + say('court_digest') +
        COLON + digest);
      dlStatus.dataset.digest = digest;
      dlStatus.dataset.manifest = manifest;
      rememberPackage(digest, manifest);
    } catch (e) {
      status(dlStatus, 'error', say('court_err_network'));
    } finally { dl.disabled = false; }
  });

  // -- 2. the service's checks ------------------------------------------------------------------
  var form = document.getElementById('check-form');
  var fileInput = document.getElementById('check-file');
  var progress = document.getElementById('check-progress');
  var checkStatus = document.getElementById('check-status');
  var result = document.getElementById('check-result');
  var RESULT_WORD = { passed: 'court_passed', failed: 'court_failed', not_run: 'court_not_run' };

  function label(pair) { return ZH ? pair.zh : pair.en; }

  function render(v) {
    result.textContent = '';
    var outcome = v.outcome;
    var names = v.checks.filter(function (c) { return c.status !== 'passed'; })
      .map(function (c) { return label(c.label); }).join(ZH ? '、' : ', ');
    var verdict = outcome === 'verified' ? say('court_outcome_verified')
      : outcome === 'failed' ? say('court_outcome_failed', { names: v.checks.filter(
        function (c) { return c.status === 'failed'; }).map(function (c) {
        return label(c.label); }).join(ZH ? '、' : ', ') })
        : outcome === 'unreadable' ? say('court_outcome_unreadable')
          : say('court_outcome_not_run', { names: names });
    result.appendChild(el('p', { id: 'check-verdict', 'data-outcome': outcome,
      class: outcome === 'failed' || outcome === 'unreadable' ? 'error' : (outcome === 'verified'
        ? 'ok' : 'pending'), text: verdict }));
    result.appendChild(el('p', { id: 'check-run-by', class: 'muted', 'data-run-by': v.runBy,
      text: say('court_run_by') + COLON + label(v.statement) }));
    if (v.packageDigest) {
      result.appendChild(el('p', {}, [el('span', { text: say('court_digest') + COLON }),
        el('code', { id: 'check-digest', text: v.packageDigest })]));
    }
    if (outcome !== 'unreadable') {
      var rows = v.checks.map(function (c) {
        var reason = el('td', {}, [el('span', { text: label(c.reason) })]);
        if (c.status === 'failed' && c.details.length > 1) {
          reason.appendChild(el('ul', {}, c.details.slice(1, 6).map(function (d) {
            return el('li', { text: d }); })));
        }
        return el('tr', { 'data-check': c.name, 'data-status': c.status }, [
          el('td', { text: label(c.label) }),
          el('td', { class: 'check-' + c.status, text: say(RESULT_WORD[c.status]) }), reason]);
      });
      result.appendChild(el('table', { id: 'check-table' }, [
        el('thead', {}, [el('tr', {}, ['court_col_check', 'court_col_result', 'court_col_reason']
          .map(function (k) { return el('th', { text: say(k) }); }))]),
        el('tbody', {}, rows)]));
    }
    if (v.blocks.length && outcome !== 'failed') {  // a package that fails: nothing to confirm
      result.appendChild(el('h3', { text: say('court_blocks') }));
      result.appendChild(el('p', { id: 'check-confirm-how', text: label(v.confirmHow) }));
      result.appendChild(el('table', { id: 'check-blocks' }, [
        el('thead', {}, [el('tr', {}, ['court_block_chain', 'court_block_number',
          'court_block_hash', 'court_block_time'].map(function (k) {
          return el('th', { text: say(k) }); }))]),
        el('tbody', {}, v.blocks.map(function (b) {
          return el('tr', {}, [el('td', { text: b.chainId }), el('td', { text: b.number }),
            el('td', {}, [el('code', { text: b.hash })]),
            el('td', {}, [localTime(new Date(Number(b.timestamp) * 1000).toISOString())])]);
        }))]));
    }
    v.notes.forEach(function (n) {
      result.appendChild(el('p', { class: 'muted note', text: ZH ? n.zh : n.en }));
    });
    if (v.manifestSha256 && outcome !== 'failed') {
      var mine = v.yourPackages.filter(function (x) { return x.caseId === DATA.caseId; });
      if (mine.length) {
        var at = new Date(mine[mine.length - 1].at);
        result.appendChild(el('p', { id: 'check-yours', class: 'ok',
          text: say('court_yours', { at: at.toLocaleString(document.documentElement.lang) }) }));
        document.querySelectorAll('select[name=packageHash]').forEach(function (s) {
          s.value = v.manifestSha256; });
      } else {
        result.appendChild(el('p', { id: 'check-not-yours', class: 'error',
          text: say('court_not_yours') }));
      }
    }
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = fileInput.files && fileInput.files[0];
    fileInput.removeAttribute('aria-invalid');
    if (!file) {
      fileInput.setAttribute('aria-invalid', 'true'); fileInput.focus();
      status(checkStatus, 'error', say('court_pick_file')); return;
    }
    var button = document.getElementById('check-run');
    button.disabled = true;
    result.textContent = '';
    progress.hidden = false; progress.value = 0;
    status(checkStatus, 'pending', say('court_uploading') + ' 0%');
    var fd = new FormData();
    fd.append('file', file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/ui/api/verify');
    xhr.setRequestHeader('X-Chainarb-UI', '1');
    xhr.responseType = 'json';
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) { return; }
      var pct = Math.floor(100 * e.loaded / e.total);
      progress.value = pct;
      status(checkStatus, 'pending', say('court_uploading') + ' ' + pct + '%');
    };
    xhr.upload.onload = function () {
      progress.value = 100; status(checkStatus, 'pending', say('court_checking'));
    };
    xhr.onload = function () {
      button.disabled = false;
      var body = xhr.response;
      if (xhr.status !== 200 || !body || !body.checks) {
        status(checkStatus, 'error', errorText((body && body.code) || ('http_' + xhr.status)));
        return;
      }
      status(checkStatus, 'ok', '');
      checkStatus.className = 'result';
      render(body);
    };
    xhr.onerror = function () { button.disabled = false; status(checkStatus, 'error', say('court_err_network')); };
    xhr.send(fd);
  });
})();
