// The pages' wallet: window.chainarbWallet (docs/portal/wallet.md).
//
// Two kinds behind one API, so page code never asks which one it has:
// * 'builtin': a key made in this browser, kept in localStorage only as a keystore v3 JSON
//   (scrypt) under the person's passphrase; unlocked per tab (sessionStorage), signing after
//   a prompt that says in words what is signed. The server never sees the key.
// * 'extension': an EIP-1193 provider, chosen among those announced by EIP-6963 (a chooser
//   when several) or plain window.ethereum; the extension shows its own prompts.
// EIP-712 signatures are computed as eth_signTypedData_v4 does (the EIP712Domain type as
// given, the types reachable from primaryType), so both kinds sign the same digest.
// Built by scripts/build_web_assets.mjs into backend/web/static/wallet.js (committed).
import {
  Transaction, TypedDataEncoder, Wallet, concat, formatEther, getAddress, hexlify, keccak256,
  randomBytes,
} from 'ethers';

const KEYSTORE = 'chainarb.wallet.keystore';  // localStorage: the keystore v3 JSON
const KIND = 'chainarb.wallet.kind';          // localStorage: 'builtin' | 'extension'
const EXTENSION = 'chainarb.wallet.extension';  // localStorage: the chosen provider's rdns
const PASSKEY = 'chainarb.wallet.passkey';    // localStorage: passkey-wrapped keystore
const UNLOCKED = 'chainarb.wallet.unlocked';  // sessionStorage: this tab's unlocked key
const RELAY = '/ui/chain/rpc';
export const MIN_PASSPHRASE = 10;

// --- words (embedded by page() as JSON, the page's language) ------------------------------

let wordsCache = null;
function words() {
  if (wordsCache) { return wordsCache; }
  const el = document.getElementById('chainarb-wallet-words');
  wordsCache = el ? JSON.parse(el.textContent) : { ui: {}, fields: {}, types: {}, steps: {} };
  return wordsCache;
}
function w(key) { return words().ui[key] || key; }

// --- the page's context (embedded by page() as JSON): the service's chain, the case's
// token (decimals, currency) and the names of the people the page knows, by address -------

let contextCache = null;
function context() {
  if (contextCache) { return contextCache; }
  const el = document.getElementById('chainarb-wallet-context');
  contextCache = el ? JSON.parse(el.textContent) : {};
  contextCache.names = contextCache.names || {};
  return contextCache;
}

/** The name the page gives an address (a person and their role), or null. */
export function nameOf(address) {
  try { return context().names[getAddress(String(address)).toLowerCase()] || null; } catch (e) {
    return null;
  }
}

export class WalletError extends Error {
  constructor(code, detail) {
    super(detail || w('wallet_err_' + code));
    this.code = code;
  }
}

// --- storage ------------------------------------------------------------------------------

function keystore() {
  const raw = localStorage.getItem(KEYSTORE);
  if (!raw) { return null; }
  try { return JSON.parse(raw); } catch (e) { return null; }
}

function keystoreAddress(ks) { return getAddress('0x' + String(ks.address).replace(/^0x/i, '')); }

/** The passkey-sealed keystore ({address, credentialId, salt, iv, ciphertext}), or null. */
function sealed() {
  const raw = localStorage.getItem(PASSKEY);
  if (!raw) { return null; }
  try { return JSON.parse(raw); } catch (e) { return null; }
}

function storedAddress() {
  const ks = keystore();
  if (ks) { return keystoreAddress(ks); }
  const s = sealed();
  return s ? getAddress(s.address) : null;
}

// --- passkey protection (WebAuthn PRF) ----------------------------------------------------
// Optional: the keystore is sealed (AES-GCM) under a secret only the person's passkey gives
// (the PRF extension, evaluated on a salt kept here), so unlocking needs the passkey and the
// passphrase. The passkey never authenticates to the service: its challenge is local.

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function passkeyError(e) {
  if (e instanceof WalletError) { return e; }
  return new WalletError(e && e.name === 'NotAllowedError' ? 'passkey_refused' : 'passkey_failed',
    undefined);
}

async function prfSecret(credentialId, salt) {
  let cred;
  try {
    cred = await navigator.credentials.get({ publicKey: {
      challenge: randomBytes(32), rpId: location.hostname, userVerification: 'required',
      timeout: 120000, allowCredentials: [{ type: 'public-key', id: unb64(credentialId) }],
      extensions: { prf: { eval: { first: unb64(salt) } } } } });
  } catch (e) { throw passkeyError(e); }
  const prf = cred.getClientExtensionResults().prf;
  if (!prf || !prf.results || !prf.results.first) { throw new WalletError('passkey_no_prf'); }
  return new Uint8Array(prf.results.first);
}

async function aesKey(secret) {
  return crypto.subtle.importKey('raw', secret, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

async function seal(ks) {
  const address = keystoreAddress(ks);
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey: {
      rp: { name: 'chainarb', id: location.hostname },
      user: { id: randomBytes(16), name: address, displayName: 'chainarb ' + address },
      challenge: randomBytes(32), timeout: 120000,
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -257 }],
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      extensions: { prf: {} } } });
  } catch (e) { throw passkeyError(e); }
  const ext = cred.getClientExtensionResults();
  if (!ext.prf || ext.prf.enabled === false) { throw new WalletError('passkey_no_prf'); }
  const credentialId = b64(cred.rawId);
  const salt = b64(randomBytes(32));
  const iv = randomBytes(12);
  const key = await aesKey(await prfSecret(credentialId, salt));
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData:
    new TextEncoder().encode(address) }, key, new TextEncoder().encode(JSON.stringify(ks)));
  return { address, credentialId, salt, iv: b64(iv), ciphertext: b64(ct) };
}

/** The keystore v3 object: as stored, or unsealed with the passkey when protected. */
async function openKeystore() {
  const ks = keystore();
  if (ks) { return ks; }
  const s = sealed();
  if (!s) { throw new WalletError('none'); }
  const key = await aesKey(await prfSecret(s.credentialId, s.salt));
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(s.iv),
      additionalData: new TextEncoder().encode(getAddress(s.address)) }, key, unb64(s.ciphertext));
    return JSON.parse(new TextDecoder().decode(plain));
  } catch (e) { throw new WalletError('passkey_failed'); }
}

/** The keystore as geth writes it: ethers spells the section "Crypto", the v3 spec "crypto". */
function standardKeystore(json) {
  const ks = JSON.parse(json);
  if (ks.Crypto && !ks.crypto) { ks.crypto = ks.Crypto; delete ks.Crypto; }
  return JSON.stringify(ks);
}

function unlockedWallet() {
  const address = storedAddress();
  const key = sessionStorage.getItem(UNLOCKED);
  if (!address || !key) { return null; }
  const wallet = new Wallet(key);
  if (wallet.address !== address) {  // another keystore since: forget it
    sessionStorage.removeItem(UNLOCKED);
    return null;
  }
  return wallet;
}

function remember(wallet) { sessionStorage.setItem(UNLOCKED, wallet.privateKey); }

function checkPassphrase(passphrase) {
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE) {
    throw new WalletError('short_passphrase');
  }
}

async function decrypt(json, passphrase) {
  try {
    return await Wallet.fromEncryptedJson(typeof json === 'string' ? json : JSON.stringify(json),
      passphrase);
  } catch (e) {
    if (/password|invalid/i.test(String(e.message))) { throw new WalletError('wrong_passphrase'); }
    throw new WalletError('bad_file');
  }
}

// --- the built-in wallet ------------------------------------------------------------------

const builtin = {
  /** True when this browser keeps a built-in wallet. */
  exists() { return storedAddress() !== null; },
  /** Its address (no passphrase needed), or null. */
  address() { return storedAddress(); },
  /** True when unlocking needs the passkey as well as the passphrase. */
  passkeyProtected() { return keystore() === null && sealed() !== null; },
  /** True when this browser offers passkeys (WebAuthn). */
  passkeySupported() { return !!(window.PublicKeyCredential && navigator.credentials); },
  /** Seal the keystore under a new passkey (the passphrase proves it is the owner). */
  async protectWithPasskey(passphrase) {
    const ks = keystore();
    if (!ks) { throw new WalletError(sealed() ? 'passkey_already' : 'none'); }
    await decrypt(ks, passphrase);
    const record = await seal(ks);
    localStorage.setItem(PASSKEY, JSON.stringify(record));
    localStorage.removeItem(KEYSTORE);
    return record.address;
  },
  /** Keep the keystore under the passphrase alone again (passkey and passphrase needed). */
  async removePasskey(passphrase) {
    if (keystore()) { return storedAddress(); }
    const ks = await openKeystore();
    await decrypt(ks, passphrase);
    localStorage.setItem(KEYSTORE, JSON.stringify(ks));
    localStorage.removeItem(PASSKEY);
    return keystoreAddress(ks);
  },
  /** True when this tab holds the unlocked key. */
  unlocked() { return unlockedWallet() !== null; },
  /** Make a key here, keep it encrypted under passphrase; returns the address. */
  async create(passphrase, { replace = false } = {}) {
    checkPassphrase(passphrase);
    if (builtin.exists() && !replace) { throw new WalletError('exists'); }
    const wallet = new Wallet(hexlify(randomBytes(32)));
    const json = standardKeystore(await wallet.encrypt(passphrase));
    localStorage.setItem(KEYSTORE, json);
    localStorage.removeItem(PASSKEY);
    localStorage.setItem(KIND, 'builtin');
    remember(wallet);
    return wallet.address;
  },
  /** Decrypt the keystore with passphrase and keep the key for this tab. */
  async unlock(passphrase) {
    const wallet = await decrypt(await openKeystore(), passphrase);
    remember(wallet);
    localStorage.setItem(KIND, 'builtin');
    return wallet.address;
  },
  /** Forget the key in this tab (the keystore stays). */
  lock() { sessionStorage.removeItem(UNLOCKED); },
  /** Take a recovery file (keystore v3 JSON) and its passphrase; returns the address. */
  async restore(fileText, passphrase) {
    let parsed;
    try { parsed = JSON.parse(fileText); } catch (e) { throw new WalletError('bad_file'); }
    if (!parsed || typeof parsed !== 'object' || !(parsed.crypto || parsed.Crypto) ||
        Number(parsed.version) !== 3) {
      throw new WalletError('bad_file');
    }
    const wallet = await decrypt(parsed, passphrase);
    localStorage.setItem(KEYSTORE, JSON.stringify(parsed));
    localStorage.removeItem(PASSKEY);
    localStorage.setItem(KIND, 'builtin');
    remember(wallet);
    return wallet.address;
  },
  /** The recovery file: {name, text} of the keystore v3 JSON (still encrypted under the
   * passphrase; never sealed by the passkey, so losing the passkey loses nothing). */
  async recoveryFile() {
    const ks = await openKeystore();
    const addr = keystoreAddress(ks);
    return { name: `chainarb-wallet-${addr.toLowerCase()}.json`,
      text: JSON.stringify(ks, null, 2) + '\n' };
  },
  /** Offer the recovery file as a download. */
  async downloadRecoveryFile() {
    const { name, text } = await builtin.recoveryFile();
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url; a.download = name; a.hidden = true;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    return name;
  },
  /** Remove the built-in wallet from this browser (after the person kept the file). */
  forget() {
    localStorage.removeItem(KEYSTORE); localStorage.removeItem(PASSKEY);
    sessionStorage.removeItem(UNLOCKED);
    if (localStorage.getItem(KIND) === 'builtin') { localStorage.removeItem(KIND); }
  },
};

// --- extension wallets (EIP-6963, else window.ethereum) -----------------------------------

const announced = new Map();  // uuid -> {info, provider}
window.addEventListener('eip6963:announceProvider', (event) => {
  const d = event.detail;
  if (d && d.info && d.info.uuid && d.provider && typeof d.provider.request === 'function') {
    announced.set(d.info.uuid, { info: { uuid: String(d.info.uuid), name: String(d.info.name || ''),
      icon: String(d.info.icon || ''), rdns: String(d.info.rdns || '') }, provider: d.provider });
  }
});
window.dispatchEvent(new Event('eip6963:requestProvider'));

const extension = {
  /** The wallets announced by EIP-6963 (info only), plus plain window.ethereum when none. */
  list() {
    const out = [...announced.values()].map((d) => d.info);
    if (!out.length && window.ethereum) {
      out.push({ uuid: 'window.ethereum', name: 'window.ethereum', icon: '', rdns: '' });
    }
    return out;
  },
  /** The provider to use: the chosen one, the only one, else window.ethereum. */
  provider() {
    const chosen = localStorage.getItem(EXTENSION);
    const all = [...announced.values()];
    const hit = all.find((d) => chosen && d.info.rdns === chosen);
    if (hit) { return hit.provider; }
    if (all.length === 1) { return all[0].provider; }
    if (all.length > 1 && !chosen) { return null; }  // several: the person chooses
    return window.ethereum || (all[0] && all[0].provider) || null;
  },
  /** True when several wallets are announced and none was chosen yet. */
  needsChoice() { return announced.size > 1 && !extension.chosen(); },
  chosen() {
    const rdns = localStorage.getItem(EXTENSION);
    return [...announced.values()].some((d) => d.info.rdns === rdns) ? rdns : null;
  },
  /** Use the announced wallet with this rdns (or uuid) from now on. */
  choose(id) {
    const hit = [...announced.values()].find((d) => d.info.rdns === id || d.info.uuid === id);
    if (hit) { localStorage.setItem(EXTENSION, hit.info.rdns || hit.info.uuid); }
    else if (id !== 'window.ethereum') { throw new WalletError('no_extension'); }
    localStorage.setItem(KIND, 'extension');
  },
};

function provider() {
  const p = extension.provider();
  if (!p) {
    throw new WalletError(announced.size > 1 ? 'choose_extension' : 'no_extension');
  }
  return p;
}

async function extensionAccount() {
  const accounts = await provider().request({ method: 'eth_requestAccounts' });
  if (!accounts || !accounts.length) { throw new WalletError('no_account'); }
  return getAddress(accounts[0]);
}

function hexUtf8(text) { return hexlify(new TextEncoder().encode(text)); }

// --- EIP-712 as eth_signTypedData_v4 -------------------------------------------------------

function reachable(types, primary) {
  const out = {};
  const todo = [primary];
  while (todo.length) {
    const name = todo.pop();
    if (out[name] || !types[name]) { continue; }
    out[name] = types[name];
    for (const f of types[name]) { todo.push(String(f.type).replace(/(\[\d*\])+$/, '')); }
  }
  return out;
}

/** The EIP-712 digest eth_signTypedData_v4 signs for typedData (object or JSON). */
export function typedDataDigest(typedData) {
  const td = typeof typedData === 'string' ? JSON.parse(typedData) : typedData;
  if (!td || !td.types || !td.primaryType || !td.domain) { throw new WalletError('bad_request'); }
  const domainType = td.types.EIP712Domain || [];
  const domainHash = TypedDataEncoder.from({ EIP712Domain: domainType })
    .hashStruct('EIP712Domain', td.domain);
  const parts = ['0x1901', domainHash];
  if (td.primaryType !== 'EIP712Domain') {
    const types = reachable(td.types, td.primaryType);
    delete types.EIP712Domain;
    parts.push(TypedDataEncoder.from(types).hashStruct(td.primaryType, td.message));
  }
  return keccak256(concat(parts));
}

// --- the signing prompt -------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) { continue; }
    if (k === 'text') { node.textContent = v; } else { node.setAttribute(k, v === true ? '' : v); }
  }
  for (const c of children) { if (c) { node.append(c); } }
  return node;
}

function amountWords(units) {
  const c = context();  // the case's token when the page has one
  const d = Number((c.decimals ?? words().decimals) || 0);
  const s = BigInt(units).toString().padStart(d + 1, '0');
  const whole = s.slice(0, s.length - d).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const currency = c.currency ?? words().currency;
  const cur = currency ? ' ' + currency : '';
  return (d ? `${whole}.${s.slice(s.length - d)}` : whole) + cur;
}

function valueWords(name, type, value) {
  const amounts = words().amountFields || [];
  const times = words().timeFields || [];
  if (amounts.includes(name)) { return amountWords(value); }
  if (times.includes(name) && /^\d+$/.test(String(value))) {
    if (String(value) === '0') { return '—'; }
    const d = new Date(Number(value) * 1000);
    return d.toLocaleString(document.documentElement.lang || undefined);
  }
  if (name === 'action' && words().steps[value]) { return words().steps[value]; }
  if (type === 'bool') { return w(value ? 'wallet_yes' : 'wallet_no'); }
  if (type === 'bytes32' && /^0x0{64}$/.test(String(value))) { return '—'; }
  if (type === 'address' && nameOf(value)) { return nameOf(value); }
  return String(value);
}

/** A row of the prompt: [label, shown, raw, address]; the address when a name stands for it
 * (the prompt shows the name and the address one click away). */
function row(label, shown, raw, address) {
  return [label, shown, raw, address && nameOf(address) ? getAddress(address) : null];
}

/** What the prompt shows for a request: a title and rows of [label, value, raw]. */
export function describe(request) {
  const W = words();
  if (request.kind === 'typed') {
    const td = typeof request.data === 'string' ? JSON.parse(request.data) : request.data;
    const fields = (td.types && td.types[td.primaryType]) || [];
    const rows = fields.map((f) => row(W.fields[f.name] || f.name,
      valueWords(f.name, f.type, td.message[f.name]), String(td.message[f.name]),
      f.type === 'address' ? td.message[f.name] : null));
    const what = (td.message && td.message.action && W.steps[td.message.action]) ||
      W.types[td.primaryType] || td.primaryType;
    const domain = td.domain || {};
    rows.push(row(w('wallet_domain'), `${domain.name || ''} ${domain.version || ''}`.trim() +
      ` · ${w('wallet_chain')} ${domain.chainId}`, JSON.stringify(domain)));
    return { title: what, rows };
  }
  if (request.kind === 'message') {  // the service's sign-in (EIP-4361) says so
    const signIn = /wants you to sign in with your Ethereum account:/.test(request.data);
    return { title: w(signIn ? 'wallet_sign_in_message' : 'wallet_message'), rows: [],
      text: request.data };
  }
  const tx = request.data;  // the page may say what it is for (tx.description, its words)
  const value = BigInt(tx.value || 0);
  const data = tx.data || '0x';
  return { title: tx.description || w('wallet_transaction'), rows: [
    row(w('wallet_to'), nameOf(tx.to) || getAddress(tx.to), tx.to, tx.to),
    row(w('wallet_value'), `${formatEther(value)} ETH`, value.toString()),
    row(w('wallet_data'), data === '0x' ? '—' : `${data.slice(0, 10)}… (${(data.length - 2) / 2} B)`,
      data),
  ] };
}

let promptOpen = null;

/** A name with its address one click away (a disclosure: keyboard and screen readers too). */
function named(name, address) {
  return el('details', { class: 'wallet-address' },
    el('summary', { text: name, title: w('wallet_show_address') }),
    el('code', { text: getAddress(address) }));
}

/** Show what is asked to be signed; resolve with the unlocked wallet when the person agrees. */
function prompt(request) {
  if (promptOpen) { return Promise.reject(new WalletError('busy')); }
  return new Promise((resolve, reject) => {
    const locked = !unlockedWallet();
    const d = describe(request);
    const table = el('table', { class: 'wallet-fields' });
    for (const [label, value, raw, address] of d.rows) {
      table.append(el('tr', {}, el('th', { scope: 'row', text: label }),
        address ? el('td', {}, named(value, address)) : el('td', { title: raw, text: value })));
    }
    const pass = locked ? el('input', { id: 'wallet-prompt-passphrase', type: 'password',
      autocomplete: 'current-password', required: true }) : null;
    const status = el('p', { id: 'wallet-prompt-status', class: 'error', role: 'alert' });
    const sign = el('button', { id: 'wallet-prompt-sign', type: 'submit', text: w('wallet_sign') });
    const cancel = el('button', { id: 'wallet-prompt-cancel', type: 'button', class: 'secondary',
      text: w('wallet_cancel') });
    const form = el('form', { method: 'dialog' },
      el('h2', { id: 'wallet-prompt-title', text: w('wallet_prompt_title') }),
      el('p', { class: 'wallet-what' }, el('strong', { text: w('wallet_what') + ' ' }),
        el('span', { id: 'wallet-prompt-what', text: d.title })),
      d.text !== undefined ? el('pre', { id: 'wallet-prompt-text', class: 'wallet-text',
        text: d.text }) : null,
      d.rows.length ? table : null,
      el('p', { class: 'muted wallet-signer', id: 'wallet-prompt-signer' },
        w('wallet_signer') + ' ', nameOf(builtin.address())
          ? named(nameOf(builtin.address()), builtin.address()) : builtin.address()),
      locked ? el('div', { class: 'field' },
        el('label', { for: 'wallet-prompt-passphrase', text: w('wallet_passphrase') }), pass)
        : null,
      locked && builtin.passkeyProtected() ? el('p', { id: 'wallet-prompt-passkey',
        class: 'muted', text: w('wallet_passkey_too') }) : null,
      status,
      el('div', { class: 'wallet-buttons' }, sign, cancel));
    const dialog = el('dialog', { id: 'wallet-prompt', 'aria-labelledby': 'wallet-prompt-title',
      'data-testid': 'wallet-prompt' }, form);
    document.body.append(dialog);
    promptOpen = dialog;
    const close = () => { dialog.close(); dialog.remove(); promptOpen = null; };
    cancel.addEventListener('click', () => { close(); reject(new WalletError('rejected')); });
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); close();
      reject(new WalletError('rejected')); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      sign.disabled = true; status.textContent = '';
      try {
        let wallet = unlockedWallet();
        if (!wallet) {
          status.className = 'muted'; status.textContent = w('wallet_unlocking');
          wallet = await decrypt(await openKeystore(), pass.value);
          remember(wallet);
        }
        close();
        resolve(wallet);
      } catch (err) {
        status.className = 'error';
        status.textContent = err.message;
        sign.disabled = false;
        if (pass) { pass.value = ''; pass.focus(); }
      }
    });
    dialog.showModal();
    (pass || sign).focus();
  });
}

// --- the chain relay (POST /ui/chain/rpc) -------------------------------------------------

let rpcId = 0;
export async function rpc(method, params) {
  const r = await fetch(RELAY, { method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Chainarb-UI': '1' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params: params || [] }) });
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok && !(body && body.error)) {
    throw new WalletError('relay', (body && body.detail) || `${w('wallet_err_relay')} (${r.status})`);
  }
  if (body.error) {
    const err = new WalletError('chain', body.error.message || JSON.stringify(body.error));
    err.rpc = body.error;
    throw err;
  }
  return body.result;
}

async function builtinSend(wallet, tx) {
  const from = wallet.address;
  const [chainId, nonce, block, tip] = await Promise.all([
    rpc('eth_chainId'), rpc('eth_getTransactionCount', [from, 'pending']),
    rpc('eth_getBlockByNumber', ['latest', false]),
    rpc('eth_maxPriorityFeePerGas').catch(() => '0x3b9aca00')]);
  const value = BigInt(tx.value || 0);
  const call = { from, to: tx.to, data: tx.data || '0x', value: '0x' + value.toString(16) };
  const gas = BigInt(await rpc('eth_estimateGas', [call]));
  const base = BigInt(block.baseFeePerGas || 0);
  const priority = BigInt(tip);
  const t = Transaction.from({ type: 2, chainId: BigInt(chainId), nonce: Number(BigInt(nonce)),
    to: getAddress(tx.to), data: tx.data || '0x', value, gasLimit: gas + gas / 5n,
    maxPriorityFeePerGas: priority, maxFeePerGas: base * 2n + priority });
  const raw = await wallet.signTransaction(t);
  return rpc('eth_sendRawTransaction', [raw]);
}

/** The chain the service's escrow is on: the one the page names (the service's own domain),
 * else the relay's. */
async function serviceChain(asked) {
  if (asked !== undefined && asked !== null && asked !== '') { return BigInt(asked); }
  if (context().chainId !== undefined && context().chainId !== null) {
    return BigInt(context().chainId);
  }
  return BigInt(await rpc('eth_chainId'));
}

/** An extension must send on the service's chain: it is asked which chain it is on
 * (eth_chainId) and, when elsewhere, to switch (wallet_switchEthereumChain); if it is still
 * elsewhere the send is refused ('wrong_chain') and nothing reaches the wallet. */
async function sameChain(asked) {
  let want;
  try { want = await serviceChain(asked); } catch (e) {
    throw new WalletError('wrong_chain');  // no chain to compare with: never send blind
  }
  const p = provider();
  if (BigInt(await p.request({ method: 'eth_chainId' })) === want) { return; }
  try {
    await p.request({ method: 'wallet_switchEthereumChain',
      params: [{ chainId: '0x' + want.toString(16) }] });
  } catch (e) { /* refused or unknown chain: checked below */ }
  if (BigInt(await p.request({ method: 'eth_chainId' })) !== want) {
    throw new WalletError('wrong_chain');
  }
}

// --- the API every page uses --------------------------------------------------------------

function kind() {
  const chosen = localStorage.getItem(KIND);
  const hasBuiltin = builtin.exists();
  const hasExtension = announced.size > 0 || !!window.ethereum;
  if (chosen === 'builtin' && hasBuiltin) { return 'builtin'; }
  if (chosen === 'extension' && hasExtension) { return 'extension'; }
  if (hasBuiltin) { return 'builtin'; }
  return hasExtension ? 'extension' : null;
}

function need(k) {
  if (k === null) { throw new WalletError('none'); }
  return k;
}

const api = {
  kind,
  builtin,
  extension,
  typedDataDigest,
  describe,
  rpc,
  MIN_PASSPHRASE,
  /** Use the built-in wallet from now on (it must exist). */
  useBuiltin() {
    if (!builtin.exists()) { throw new WalletError('none'); }
    localStorage.setItem(KIND, 'builtin');
  },
  async address() {
    if (need(kind()) === 'builtin') { return builtin.address(); }
    return extensionAccount();
  },
  async signTypedData(typedData) {
    const td = typeof typedData === 'string' ? JSON.parse(typedData) : typedData;
    if (need(kind()) === 'builtin') {
      const digest = typedDataDigest(td);
      const wallet = await prompt({ kind: 'typed', data: td });
      return wallet.signingKey.sign(digest).serialized;
    }
    const account = await extensionAccount();
    return provider().request({ method: 'eth_signTypedData_v4',
      params: [account, JSON.stringify(td)] });
  },
  async personalSign(text) {
    if (need(kind()) === 'builtin') {
      const wallet = await prompt({ kind: 'message', data: text });
      return wallet.signMessage(text);
    }
    const account = await extensionAccount();
    return provider().request({ method: 'personal_sign', params: [hexUtf8(text), account] });
  },
  async sendTransaction(tx) {
    if (!tx || !tx.to) { throw new WalletError('bad_request'); }
    if (need(kind()) === 'builtin') {
      if (tx.chainId !== undefined && tx.chainId !== null &&
          BigInt(tx.chainId) !== BigInt(await rpc('eth_chainId'))) {
        throw new WalletError('wrong_chain');  // the relay's chain is not the one asked for
      }
      const wallet = await prompt({ kind: 'transaction', data: tx });
      return builtinSend(wallet, tx);
    }
    const from = await extensionAccount();
    await sameChain(tx.chainId);
    const value = '0x' + BigInt(tx.value || 0).toString(16);
    return provider().request({ method: 'eth_sendTransaction',
      params: [{ from, to: tx.to, data: tx.data || '0x', value }] });
  },
  /** The receipt of txHash once mined (polled through the relay), or a timeout error. */
  async waitForTransaction(txHash, { timeoutMs = 120000, everyMs = 1000 } = {}) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const receipt = await rpc('eth_getTransactionReceipt', [txHash]);
      if (receipt) { return receipt; }
      if (Date.now() > until) { throw new WalletError('timeout'); }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  },
  /** Sign the service's EIP-4361 message and open a page session; resolves to the address. */
  async signIn() {
    const address = await api.address();
    const ch = await (await fetch('/auth/nonce?address=' + encodeURIComponent(address))).json();
    const signature = await api.personalSign(ch.message);
    const r = await fetch('/auth/sign-in', { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: ch.message, signature }) });
    const body = await r.json();
    if (!r.ok) { throw new WalletError('sign_in', body.detail || String(r.status)); }
    const s = await fetch('/ui/session', { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: body.token }) });
    if (!s.ok) { throw new WalletError('sign_in', 'session ' + s.status); }
    return address;
  },
};

// Signing out of the pages locks the built-in wallet in this tab too.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && /\/ui\/sign-out/.test(form.getAttribute('action') || '')) {
    builtin.lock();
  }
}, true);

window.chainarbWallet = api;
window.chainarbSignTypedData = (typedData) => api.signTypedData(typedData);
