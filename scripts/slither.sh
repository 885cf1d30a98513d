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
LOCK="$ROOT/.venv-slither.lock"
HAVE_LOCK=0
cleanup() {
  rm -rf "$OUT_DIR"
  if [[ $HAVE_LOCK == 1 ]]; then rmdir "$LOCK" 2>/dev/null || true; fi
}
trap cleanup EXIT

want="$(sha256sum "$CONSTRAINTS" | cut -d' ' -f1)"
venv_ok() { [[ -x "$VENV/bin/slither" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; }
if ! venv_ok; then
  # mkdir as a lock: two test sessions starting at once must not build the venv twice.
  for _ in $(seq 1 600); do
    if mkdir "$LOCK" 2>/dev/null; then HAVE_LOCK=1; break; fi
    sleep 1
  done
  if [[ $HAVE_LOCK != 1 ]]; then
    echo "slither.sh: $LOCK held for 10 minutes; remove it if no other run is building" >&2
    exit 3
  fi
  if ! venv_ok; then
    echo "slither.sh: building $VENV (pinned by $CONSTRAINTS)" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c "$CONSTRAINTS" slither-analyzer
    echo "$want" > "$STAMP"
  fi
  rmdir "$LOCK"
  HAVE_LOCK=0
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
