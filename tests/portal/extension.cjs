// An injected EIP-1193 wallet, as an extension would give a page: `window.ethereum` with
// `request({method, params})`, announced over EIP-6963 too. The key stays in Node (the page
// only ever sees addresses and signatures): @metamask/eth-sig-util signs personal_sign and
// eth_signTypedData_v4 as MetaMask does, and ethers signs and sends a transaction to the
// chain's own RPC (an extension talks to its own node, not to the service).
'use strict';
const sigUtil = require('@metamask/eth-sig-util');
const { ethers } = require('ethers');

/**
 * Give a person's browser context an extension wallet holding `keyHex`.
 * opts.rpcUrl: the chain's RPC for eth_sendTransaction and eth_chainId (loopback);
 * opts.name: the EIP-6963 name; opts.log: an array the wallet pushes what it signed to.
 */
async function injectExtension(context, keyHex, opts = {}) {
  const wallet = new ethers.Wallet(keyHex);
  const key = Buffer.from(keyHex.replace(/^0x/, ''), 'hex');
  const log = opts.log || [];
  const provider = opts.rpcUrl ? new ethers.JsonRpcProvider(opts.rpcUrl, undefined,
    { staticNetwork: true }) : null;
  const name = '__ext_' + (opts.id || 'w');
  await context.exposeFunction(name, async (method, params) => {
    switch (method) {
      case 'eth_requestAccounts': case 'eth_accounts':
        return [wallet.address.toLowerCase()];
      case 'eth_chainId':
        if (!provider) { return '0x7a69'; }
        return '0x' + (await provider.getNetwork()).chainId.toString(16);
      case 'personal_sign':
        log.push({ method, text: Buffer.from(params[0].replace(/^0x/, ''), 'hex').toString() });
        return sigUtil.personalSign({ privateKey: key, data: params[0] });
      case 'eth_signTypedData_v4': {
        const data = typeof params[1] === 'string' ? JSON.parse(params[1]) : params[1];
        log.push({ method, primaryType: data.primaryType, message: data.message });
        return sigUtil.signTypedData({ privateKey: key, data,
          version: sigUtil.SignTypedDataVersion.V4 });
      }
      case 'eth_sendTransaction': {
        if (!provider) { throw new Error('no chain for eth_sendTransaction'); }
        const tx = params[0];
        const sent = await wallet.connect(provider).sendTransaction({ to: tx.to,
          data: tx.data || '0x', value: tx.value ? BigInt(tx.value) : 0n });
        log.push({ method, to: tx.to, data: (tx.data || '').slice(0, 10), hash: sent.hash });
        await sent.wait();
        return sent.hash;
      }
      default:
        throw Object.assign(new Error('unsupported method ' + method), { code: 4200 });
    }
  });
  const info = { uuid: 'e2e-' + (opts.id || 'w') + '-0000-4000-8000-000000000000',
    name: opts.name || 'Test Wallet', icon: 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E',
    rdns: 'org.chainarb.test.' + (opts.id || 'w') };
  await context.addInitScript(({ fn, info, plain }) => {
    const provider = { isMetaMask: false,
      request: ({ method, params }) => window[fn](method, params || []),
      on: () => {}, removeListener: () => {} };
    if (plain) { window.ethereum = provider; }
    const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider',
      { detail: Object.freeze({ info, provider }) }));
    window.addEventListener('eip6963:requestProvider', announce);
    announce();
  }, { fn: name, info, plain: opts.plain !== false });
  return { address: wallet.address, log };
}

module.exports = { injectExtension };
