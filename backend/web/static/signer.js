/* chainarb pages' wallet signer: the account check and the EIP-712 signature that the case
 * page (actions.js) and the assessor pool's page (pool.js) both make, in one place, with the
 * digests both check a prepared step by (canonical JSON, SHA-256 as 0x-hex); receipts.js
 * names the receipt files it downloads with the same digests.
 *
 * Why shared: both pages must refuse the same way when there is no wallet or it holds
 * another account than the signed-in viewer's, and sign through the same wallet (the
 * built-in or extension one wallet.js exposes as window.chainarbWallet, else a bare
 * EIP-1193 window.ethereum). Each page passes its own error constructor, so its errors
 * keep their class and codes (no_wallet, other_account, wallet_refused).
 * Loaded before the page's script (both `defer`, document order); in Node (the tests)
 * the pages' scripts require it.
 */
(function (root) {
  'use strict';

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

  /** SHA-256 of a string (as UTF-8) or of bytes, as 0x-hex. */
  async function sha256(data) {
    var bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return hex(await root.crypto.subtle.digest('SHA-256', bytes));
  }

  /** {account, signTyped} for the signed-in ``viewer``; failures are ``new Err(code, detail)``. */
  function chainarbSigner(viewer, Err) {
    async function account() {
      var addr;
      if (root.chainarbWallet && root.chainarbWallet.kind()) {
        addr = await root.chainarbWallet.address();
      } else {
        if (!root.ethereum) { throw new Err('no_wallet'); }
        var accounts = await root.ethereum.request({ method: 'eth_requestAccounts' });
        addr = accounts && accounts[0];
      }
      if (!addr) { throw new Err('no_wallet'); }
      if (addr.toLowerCase() !== String(viewer).toLowerCase()) { throw new Err('other_account'); }
      return addr;
    }

    async function signTyped(typed) {
      var from = await account();
      try {
        if (root.chainarbWallet && root.chainarbWallet.kind()) {
          return await root.chainarbWallet.signTypedData(typed);
        }
        return await root.ethereum.request({ method: 'eth_signTypedData_v4',
          params: [from, JSON.stringify(typed)] });
      } catch (e) { throw new Err('wallet_refused', e && e.message); }
    }

    return { account: account, signTyped: signTyped };
  }

  var digest = { canonicalJson: canonicalJson, hex: hex, sha256: sha256 };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = { chainarbSigner: chainarbSigner, digest: digest };
  } else {
    root.chainarbSigner = chainarbSigner;
    root.chainarbDigest = digest;
  }
}(typeof window !== 'undefined' ? window : globalThis));
