/* chainarb party pages: open an order's case ("File a claim" on /ui/orders) and send the
 * escrow calls a case waits for from the person's own wallet (the case page's "Waiting for
 * your wallet"). The service prepared each call (GET /cases/{id}/wallet-transactions: to,
 * data, value); the wallet signs and sends it: the built-in wallet
 * (window.chainarbWallet.sendTransaction) when there is one, else the extension's
 * eth_sendTransaction. The server never holds the key and never sends these itself.
 */
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('party-data').textContent);

  async function sendTransaction(tx) {
    var w = window.chainarbWallet;
    var kind = w && typeof w.kind === 'function' ? w.kind() : null;
    var value = '0x' + BigInt(tx.value || '0').toString(16);
    if (kind) {
      // The built-in wallet signs here and sends through the service's own chain; an
      // extension (EIP-6963's chosen one, or window.ethereum) is first asked its chain
      // (eth_chainId) and to switch to the escrow's (wallet_switchEthereumChain): on another
      // chain the call is refused with code 'wrong_chain' and nothing is sent.
      return w.sendTransaction({ to: tx.to, data: tx.data, value: value, chainId: tx.chainId,
        description: tx.description });
    }
    if (!window.ethereum) { throw new Error('no wallet'); }
    // No wallet script (a bare EIP-1193 provider): the same check, here.
    var want = '0x' + BigInt(tx.chainId).toString(16);
    var chain = await window.ethereum.request({ method: 'eth_chainId' });
    if (BigInt(chain) !== BigInt(want)) {
      try {
        await window.ethereum.request({ method: 'wallet_switchEthereumChain',
          params: [{ chainId: want }] });
      } catch (e) { /* refused or unknown: checked below */ }
      chain = await window.ethereum.request({ method: 'eth_chainId' });
      if (BigInt(chain) !== BigInt(want)) {
        var err = new Error('wrong chain'); err.code = 'wrong_chain'; throw err;
      }
    }
    var accounts = await window.ethereum.request({ method: 'eth_requestAccounts' });
    return window.ethereum.request({ method: 'eth_sendTransaction',
      params: [{ from: accounts[0], to: tx.to, data: tx.data, value: value }] });
  }

  document.querySelectorAll('button.send-tx').forEach(function (button) {
    button.addEventListener('click', async function () {
      var out = button.parentElement.querySelector('.result');
      button.disabled = true;
      out.className = 'result pending'; out.textContent = DATA.wallet_sending;
      try {
        var hash = await sendTransaction(JSON.parse(button.dataset.call));
        out.className = 'result ok';
        out.textContent = DATA.wallet_sent.replace('{tx}', String(hash));
        out.dataset.tx = String(hash);
      } catch (e) {
        out.className = 'result error';
        out.textContent = e && e.code === 'wrong_chain'
          ? DATA.wallet_wrong_chain.replace('{chain}', JSON.parse(button.dataset.call).chainId)
          : DATA.wallet_refused;
        button.disabled = false;
      }
    });
  });

  document.querySelectorAll('button.claim').forEach(function (button) {
    button.addEventListener('click', async function () {
      var out = document.getElementById('orders-status');
      button.disabled = true;
      out.className = 'result pending'; out.textContent = DATA.opening_case;
      try {
        var r = await fetch('/ui/api/cases', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-Chainarb-UI': '1' },
          body: JSON.stringify({ orderId: button.dataset.order }) });
        var body = await r.json();
        if (!r.ok) { throw new Error(body.detail || String(r.status)); }
        location.href = '/ui/cases/' + body.caseId + '?lang=' + DATA.lang + '#step-file';
      } catch (e) {
        out.className = 'result error'; out.textContent = String(e.message || e);
        button.disabled = false;
      }
    });
  });
})();
