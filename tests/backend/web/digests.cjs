// Reads {typed: [typedData], amounts: [[text, decimals]], format, canonical, mismatch} on
// stdin; prints the EIP-712 digest (@metamask/eth-sig-util, what a wallet signs) of each
// typed data the service prepared, what the page's actions.js parseUnits makes of each
// amount (or the error code), and what its mismatch() check says of prepared steps.
'use strict';
const path = require('path');
const { TypedDataUtils, SignTypedDataVersion } = require('@metamask/eth-sig-util');
const ui = require(path.join(__dirname, '../../../backend/web/static/actions.js'));

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const digests = (req.typed || []).map((t) => '0x' + Buffer.from(TypedDataUtils.eip712Hash(
    t, SignTypedDataVersion.V4)).toString('hex'));
  const amounts = (req.amounts || []).map(([text, dec]) => {
    try { return ui.parseUnits(text, dec).toString(); } catch (e) { return 'error:' + e.code; }
  });
  const formatted = (req.format || []).map(([units, dec]) => ui.formatUnits(units, dec));
  const canonical = (req.canonical || []).map((o) => ui.canonicalJson(o));
  const mismatch = (req.mismatch || []).map((m) => ui.mismatch(m.prepared, m.action, m.fields,
    m.viewer, m.domain));
  process.stdout.write(JSON.stringify({ digests, amounts, formatted, canonical, mismatch }) + '\n');
});
