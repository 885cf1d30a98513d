#!/usr/bin/env node
// A `solc` look-alike over the npm solc (WebAssembly) package.
//
// Why: no native solc can be installed offline here, and solcjs's own CLI is not a
// drop-in (it prints a `>>>` banner, truncates piped stdout, and mishandles
// non-blocking stdin). py-solc-x, slither and forge accept this script as `solc`.
// Supported: --version, --standard-json (input on stdin), --base-path DIR,
// --include-path DIR (repeatable), --allow-paths (accepted, ignored).
"use strict";
const fs = require("fs");
const path = require("path");
// Liftoff (V8's baseline WebAssembly compiler) alone: a compile here is seconds long, too short
// for TurboFan's optimised tier to repay its own compile (whose threads cost ~1.8 s of CPU of
// a ~7.6 s compile of contracts/); the output does not depend on the tier.
require("v8").setFlagsFromString("--liftoff-only");
const solc = require("solc");

function writeAll(fd, text) {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== "EAGAIN") throw err;
    }
  }
}

function readStdin() {
  const chunks = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if (err.code === "EAGAIN") continue;
      if (err.code === "EOF") break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

const args = process.argv.slice(2);
let basePath = process.cwd();
const includePaths = [];
let standardJson = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--version" || a === "-v") {
    writeAll(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    process.exit(0);
  } else if (a === "--standard-json") {
    standardJson = true;
  } else if (a === "--base-path") {
    basePath = path.resolve(args[++i]);
  } else if (a === "--include-path") {
    includePaths.push(path.resolve(args[++i]));
  } else if (a === "--allow-paths") {
    i++;
  } else if (a.startsWith("--base-path=")) {
    basePath = path.resolve(a.slice("--base-path=".length));
  } else if (a.startsWith("--include-path=")) {
    includePaths.push(path.resolve(a.slice("--include-path=".length)));
  } else if (a.startsWith("--allow-paths=")) {
    // accepted for compatibility
  } else if (a === "-" ) {
    // stdin marker
  } else {
    writeAll(2, `solc.js: unsupported argument ${a}; only --version and --standard-json work\n`);
    process.exit(2);
  }
}
if (!standardJson) {
  writeAll(2, "solc.js: use --standard-json (input on stdin) or --version\n");
  process.exit(2);
}

function findImport(importPath) {
  const roots = [basePath, ...includePaths];
  for (const root of roots) {
    const candidate = path.isAbsolute(importPath) ? importPath : path.join(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
}

const output = solc.compile(readStdin(), { import: findImport });
writeAll(1, output);
process.exit(0);
