// Reads {previews: [[toBuyer, compensation, held, guarantee, decimals]], documents: [...]}
// on stdin; prints what the page's actions.js allocationPreview makes of each allocation
// (its values as decimal strings, or the refusal's code and field) and the award documents
// its awardDocument writes. Prints one JSON object.
'use strict';
const path = require('path');
const ui = require(path.join(__dirname, '../../../backend/web/static/actions.js'));

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const previews = (req.previews || []).map((args) => {
    const r = ui.allocationPreview(...args);
    if (r.code) { return { code: r.code, field: r.field }; }
    const values = {};
    for (const [k, v] of Object.entries(r.values)) { values[k] = v.toString(); }
    return { values };
  });
  const documents = (req.documents || []).map((d) => ui.awardDocument(d.words, d.meta, d.alloc,
    d.reasons, d.decimals, d.currency));
  process.stdout.write(JSON.stringify({ previews, documents }) + '\n');
});
