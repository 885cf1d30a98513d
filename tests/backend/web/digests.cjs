// Reads {cases: [{type, domain, message}], amounts: [[text, decimals]]} on stdin; prints the
// EIP-712 digest (eth-sig-util) of the typed data the page's actions.js builds for each case,
// and what actions.js's parseUnits makes of each amount (or the error code).
'use strict';
const path = require('path');
const { TypedDataUtils, SignTypedDataVersion } = require('@metamask/eth-sig-util');
const ui = require(path.join(__dirname, '../../../backend/web/actions.js'));

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const digests = req.cases.map((c) => '0x' + Buffer.from(TypedDataUtils.eip712Hash(
    ui.typedData(c.type, c.domain, c.message), SignTypedDataVersion.V4)).toString('hex'));
  const amounts = req.amounts.map(([text, dec]) => {
    try { return ui.parseUnits(text, dec).toString(); } catch (e) { return 'error:' + e.code; }
  });
  const formatted = req.format.map(([units, dec]) => ui.formatUnits(units, dec));
  const canonical = req.canonical.map((o) => ui.canonicalJson(o));
  process.stdout.write(JSON.stringify({ digests, amounts, formatted, canonical }) + '\n');
});
