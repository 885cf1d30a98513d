/* chainarb evidence page: fetch the item the viewer may read, check that it opens the
 * signed commitment (SHA-256 of "chainarb.commitment.v1" ‖ salt ‖ SHA-256(file)); a step's
 * document, that its SHA-256 is the one its step signed; then show
 * it in the page: an image as a data: URL, text as text (never as markup), a PDF in a frame
 * of a blob: URL typed application/pdf (the only frame this page's CSP allows). A file that
 * does not open its commitment is not shown.
 */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('evidence-data').textContent);
  var out = document.getElementById('evidence-check');
  var view = document.getElementById('evidence-view');

  function hex(buf) {
    return '0x' + Array.from(new Uint8Array(buf)).map(function (b) {
      return b.toString(16).padStart(2, '0'); }).join('');
  }
  function fromHex(h) {
    var s = h.replace(/^0x/, ''); var a = new Uint8Array(s.length / 2);
    for (var i = 0; i < a.length; i++) { a[i] = parseInt(s.substr(2 * i, 2), 16); }
    return a;
  }
  async function sha256(bytes) { return hex(await crypto.subtle.digest('SHA-256', bytes)); }

  function note(text) {
    var p = document.createElement('p'); p.className = 'muted'; p.textContent = text;
    view.appendChild(p);
  }

  async function show(bytes) {
    if (D.show === 'image') {
      var url = await new Promise(function (resolve) {
        var r = new FileReader();
        r.onload = function () { resolve(r.result); };
        r.readAsDataURL(new Blob([bytes], { type: D.mediaType }));
      });
      var img = document.createElement('img');
      img.src = url; img.alt = D.title + ' — ' + D.filename; img.id = 'evidence-image';
      view.appendChild(img);
    } else if (D.show === 'text') {
      var pre = document.createElement('pre');
      pre.id = 'evidence-text'; pre.tabIndex = 0;
      pre.textContent = new TextDecoder('utf-8').decode(bytes);
      view.appendChild(pre);
    } else if (D.show === 'pdf') {
      var frame = document.createElement('iframe');
      frame.id = 'evidence-pdf'; frame.title = D.title + ' — ' + D.filename;
      frame.src = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
      view.appendChild(frame);
      note(D.messages.evidence_pdf_note);
    } else {
      note(D.messages.evidence_no_preview);
    }
  }

  (async function () {
    try {
      var r = await fetch(D.content, { credentials: 'same-origin' });
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      var bytes = new Uint8Array(await r.arrayBuffer());
      var fileSha = await sha256(bytes);
      var ok = fileSha === D.sha256.toLowerCase();
      if (ok && D.salt) {  // evidence: the file opens its salted commitment too
        var tag = new TextEncoder().encode('chainarb.commitment.v1');
        var buf = new Uint8Array(tag.length + 64);
        buf.set(tag); buf.set(fromHex(D.salt), tag.length);
        buf.set(fromHex(fileSha), tag.length + 32);
        ok = (await sha256(buf)) === D.commitment.toLowerCase();
      }
      out.className = 'result ' + (ok ? 'ok' : 'error');
      out.textContent = ok ? D.messages.evidence_checked : D.messages.evidence_mismatch;
      out.dataset.checked = ok ? 'yes' : 'no';
      if (ok) { await show(bytes); }
    } catch (e) {
      out.className = 'result error'; out.dataset.checked = 'failed';
      out.textContent = D.messages.evidence_failed;
    }
  })();
})();
