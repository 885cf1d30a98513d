// Reads [receipt, ...] on stdin; prints [{name, text}]: the file receipts.js downloads for
// each (the name and bytes the page gives it). One JSON array.
'use strict';
const path = require('path');
const rc = require(path.join(__dirname, '../../../backend/web/static/receipts.js'));

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const out = [];
  for (const r of JSON.parse(input)) { out.push(await rc.fileOf(r)); }
  process.stdout.write(JSON.stringify(out) + '\n');
});
