// Runs one portal scenario (tests/portal/scenarios/NAME.cjs) in the harness and prints one
// JSON line: {result, failures, checked, shots, moderate}. A scenario that throws still
// prints what the harness saw, with the error, and exits 1.
//
// usage: [CHAINARB_PORTAL_KEEP_DIR=DIR] node run.cjs NAME BASE_URL OUT_DIR CONFIG_JSON
'use strict';
const path = require('path');
const { Harness } = require('./harness.cjs');

async function main() {
  const [name, base, outDir, configJson] = process.argv.slice(2);
  const scenario = require(path.join(__dirname, 'scenarios', name + '.cjs'));
  const h = new Harness({ base, outDir, keepDir: process.env.CHAINARB_PORTAL_KEEP_DIR });
  let result = null;
  let error = null;
  try {
    await h.start();
    result = await scenario(h, JSON.parse(configJson || '{}'));
  } catch (e) {
    error = String(e && e.stack || e);
  } finally {
    try { await h.close(); } catch (e) { error = error || String(e); }
  }
  const out = h.summary(result);
  out.error = error;
  out.console = Object.fromEntries(h.people.map((p) => [p.name, p.console.slice(-30)]));
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(error ? 1 : 0);
}

main();
