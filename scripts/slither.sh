#!/usr/bin/env bash
# Run slither on chainarb's contracts and write its JSON report.
#
# Usage: scripts/slither.sh [OUT_JSON]     (default: .chainarb/slither.json)
#        CHAINARB_SLITHER_TARGET=DIR scripts/slither.sh OUT_JSON
#          analyses another Hardhat project (the test plants a vulnerable contract in one to
#          prove that the gate catches it).
#
# Why a separate venv: slither-analyzer 0.11.6 needs web3<8 and the project runs web3 8, so
# slither lives in .venv-slither with the versions pinned in scripts/slither-constraints.txt.
# The venv is (re)built only when missing or when the constraints change (a stamp holds their
# hash), so repeated runs cost only the analysis (~5 s).
#
# Compilation goes through Hardhat (hardhat.config.js compiles offline with the npm solc)
# into a private output directory, so a concurrent `npx hardhat compile` in the same tree
# never shares a cache with us. Dependencies (node_modules) and the deliberately hostile
# test contracts (contracts/test: attacker, fee-on-transfer and false-returning tokens) are
# filtered out; everything else is reported. Judging the findings is the caller's job
# (tests/contracts/test_slither.py against docs/contracts-slither.md): slither itself is told
# not to fail on findings (--fail-none) so that a non-zero exit means it did not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-slither"
CONSTRAINTS="$ROOT/scripts/slither-constraints.txt"
STAMP="$VENV/.chainarb-constraints.sha256"
OUT_JSON="${1:-$ROOT/.chainarb/slither.json}"
PYTHON="${PYTHON:-python3}"

OUT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chainarb-slither.XXXXXX")"
trap 'rm -rf "$OUT_DIR"' EXIT

want="$(sha256sum "$CONSTRAINTS" | cut -d' ' -f1)"
venv_ok() { [[ -x "$VENV/bin/slither" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; }
if ! venv_ok; then
  # Two test sessions starting at once must not build the venv twice; flock is released
  # by the kernel when this process ends, so a killed run leaves no stale lock behind.
  mkdir -p "$ROOT/.chainarb"
  exec 9>"$ROOT/.chainarb/slither-venv.lock"
  flock -w 900 9 || { echo "slither.sh: another run has held the venv lock for 15 minutes" >&2; exit 3; }
  if ! venv_ok; then
    echo "slither.sh: building $VENV (pinned by $CONSTRAINTS)" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c "$CONSTRAINTS" slither-analyzer
    echo "$want" > "$STAMP"
  fi
  flock -u 9
fi

mkdir -p "$(dirname "$OUT_JSON")"
rm -f "$OUT_JSON"
cd "${CHAINARB_SLITHER_TARGET:-$ROOT}"
export CHAINARB_HARDHAT_OUT="$OUT_DIR"
export HARDHAT_DISABLE_TELEMETRY_PROMPT=true
export PATH="$ROOT/node_modules/.bin:$PATH"
# --npx-disable: call node_modules/.bin/hardhat directly (npx adds ~1 s and npm warnings).
"$VENV/bin/slither" . \
  --compile-force-framework hardhat \
  --npx-disable \
  --hardhat-artifacts-directory "$OUT_DIR/artifacts" \
  --hardhat-cache-directory "$OUT_DIR/cache" \
  --filter-paths 'node_modules|contracts/test/' \
  --fail-none \
  --json "$OUT_JSON" >&2
