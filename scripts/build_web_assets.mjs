// Build the pages' static files from the pinned npm packages (docs/portal/wallet.md).
//
// Why a build whose output is committed: the wheel and `make demo` have no npm dev
// packages, and the pages must load with all network but loopback blocked, so every script
// is served from backend/web/static/. This script is the one way those files are made:
// bundles from backend/web/src/ (esbuild, deterministic: no timestamps, no absolute paths)
// and verbatim copies of vendor files. `--check` builds into memory and fails when a
// committed file differs (the test suite runs it).
//
// usage: node scripts/build_web_assets.mjs [--check] [--static DIR]
//   (--static: compare with or write to DIR instead of backend/web/static; tests use it)
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--static');
const STATIC = at > 0 ? process.argv[at + 1] : join(ROOT, 'backend', 'web', 'static');
const require = createRequire(join(ROOT, 'package.json'));

// What is built, as data: bundles (source -> static name) and vendor copies.
const BUNDLES = [
  { src: 'backend/web/src/wallet.js', out: 'wallet.js' },
];
const COPIES = [
  { pkg: 'swagger-ui-dist', file: 'swagger-ui-bundle.js', out: 'swagger-ui-bundle.js' },
  { pkg: 'swagger-ui-dist', file: 'swagger-ui.css', out: 'swagger-ui.css' },
  // ReDoc's side menu shows a logo from cdn.redoc.ly: an empty data URL instead (the image
  // fails to load and ReDoc hides it), so the page asks nothing of any other host.
  { pkg: 'redoc', file: 'bundles/redoc.standalone.js', out: 'redoc.standalone.js',
    replace: [['https://cdn.redoc.ly/redoc/logo-mini.svg', 'data:,']] },
];

function packageFile(pkg, file) {
  return join(dirname(require.resolve(`${pkg}/package.json`)), file);
}

async function bundle({ src }) {
  const result = await build({
    entryPoints: [join(ROOT, src)], bundle: true, format: 'iife', platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16'], minify: true, legalComments: 'eof',
    write: false, absWorkingDir: ROOT, charset: 'utf8', logLevel: 'silent',
  });
  return Buffer.from(result.outputFiles[0].contents);
}

async function outputs() {
  const out = [];
  for (const b of BUNDLES) { out.push([b.out, await bundle(b)]); }
  for (const c of COPIES) {
    let bytes = readFileSync(packageFile(c.pkg, c.file));
    for (const [from, to] of c.replace || []) {
      const text = bytes.toString('utf8');
      if (!text.includes(from)) { throw new Error(`${c.pkg}/${c.file} no longer has ${from}`); }
      bytes = Buffer.from(text.split(from).join(to), 'utf8');
    }
    out.push([c.out, bytes]);
  }
  return out;
}

async function main() {
  const check = process.argv.includes('--check');
  const stale = [];
  for (const [name, bytes] of await outputs()) {
    const path = join(STATIC, name);
    const same = existsSync(path) && Buffer.compare(readFileSync(path), bytes) === 0;
    if (check) {
      if (!same) { stale.push(name); }
    } else if (!same) {
      writeFileSync(path, bytes);
      process.stdout.write(`wrote ${relative(ROOT, path)} (${bytes.length} bytes)\n`);
    }
  }
  if (stale.length) {
    process.stderr.write(`out of date in ${STATIC} (run node scripts/build_web_assets.mjs): `
      + `${stale.join(', ')}\n`);
    process.exit(1);
  }
}

main().catch((e) => { process.stderr.write(String(e.stack || e) + '\n'); process.exit(2); });
