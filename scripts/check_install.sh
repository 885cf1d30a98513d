#!/usr/bin/env bash
# chainarb as users install it: the wheel built from this checkout, installed NON-editable in
# throw-away venvs and run from a directory that is not the checkout, so nothing is found
# through the source tree.
#
#   service  : `pip install chainarb[service]`; `chainarb demo` (anvil found on PATH, the
#              contract artifacts, migrations and actions.js read as package data), then
#              `chainarb serve` on the demo's data dir, which keeps its chain running;
#   evidence : `pip install chainarb` (what a party or a court installs): none of the
#              service's or the renderer's packages; `chainarb verify` checks the demo's
#              package against that chain, `chainarb evidence` reads its files, and
#              `chainarb demo` says which extra to install (exit 3).
#
# Needs python3 (3.11+), the anvil of `make demo` (node_modules/.bin) and pip's index. Run by
# .ci/run after `make test`; alone: `make check-install`. Prints the seconds it took.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
START=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chainarb-install.XXXXXX")
SERVE_PID=
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" || true; fi
  if [ -n "${CHAINARB_KEEP_CHECK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
step() { printf '== %s (%ds)\n' "$*" $((SECONDS - START)); }
fail() { printf 'check_install: %s\n' "$*" >&2; exit 1; }
# --no-compile: modules compile when imported; byte-compiling all of web3 and pydantic up front
# is most of an install's time.
pip_install() { "$1/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
  -c "$ROOT/constraints.txt" "${@:2}"; }

step "wheel"
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$WORK/dist" "$ROOT"
WHEEL=$(ls "$WORK"/dist/chainarb-*.whl)

# anvil on PATH and nowhere else the program would look (no node_modules under $WORK).
ANVIL=$(cd "$ROOT" && ls node_modules/.bin/anvil 2>/dev/null) \
  || fail "no node_modules/.bin/anvil in $ROOT: run \`make demo\` (or npm ci --omit=dev) first"
mkdir -p "$WORK/bin" "$WORK/run"
ln -s "$ROOT/$ANVIL" "$WORK/bin/anvil"

step "evidence-only venv: pip install chainarb"
"$PYTHON" -m venv "$WORK/evidence"
pip_install "$WORK/evidence" "$WHEEL" > "$WORK/pip.log" 2>&1 \
  || { cat "$WORK/pip.log" >&2; fail "pip install chainarb failed"; }

# The service venv is layered on the evidence venv (a .pth names its site-packages): pip sees
# the base requirements satisfied there and installs the extras' packages alone, which halves
# the time; the service's own site-packages come first on sys.path.
step "service venv: pip install chainarb[service]"
"$PYTHON" -m venv "$WORK/service"
site() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
site "$WORK/evidence" > "$(site "$WORK/service")/chainarb-check-base.pth"
{ pip_install "$WORK/service" --no-deps --ignore-installed "$WHEEL" && pip_install "$WORK/service" "$WHEEL[service]"; } \
  > "$WORK/pip.log" 2>&1 \
  || { cat "$WORK/pip.log" >&2; fail "pip install chainarb[service] failed"; }

cd "$WORK/run"  # the data dir is ./.chainarb here; nothing of the checkout is on any path
export PATH="$WORK/bin:$WORK/service/bin:$PATH" CHAINARB_LANG=en
unset CHAINARB_DATA_DIR CHAINARB_ANVIL CHAINARB_CHAIN_RPC_URL PYTHONPATH

step "evidence-only: only what verifying needs"
"$WORK/evidence/bin/python" - <<'EOF'
import importlib.util
present = [m for m in ("reportlab", "qrcode", "eth_tester", "fastapi", "sqlmodel", "solcx")
           if importlib.util.find_spec(m) is not None]
assert not present, f"the evidence-only install brought {present}"
EOF
set +e
"$WORK/evidence/bin/chainarb" demo > "$WORK/no-extra.out" 2>&1
code=$?
set -e
[ "$code" = 3 ] && grep -q "pip install 'chainarb\[service\]'" "$WORK/no-extra.out" \
  || { cat "$WORK/no-extra.out" >&2; fail "chainarb demo without [service]: exit $code"; }

step "service: chainarb demo from $WORK/run"
"$WORK/service/bin/chainarb" demo > "$WORK/demo.out" 2> "$WORK/demo.err" \
  || { tail -n 30 "$WORK/demo.err" >&2; fail "chainarb demo failed"; }
PACKAGE=$(tail -n 1 "$WORK/demo.out" | "$PYTHON" -c '
import json, sys
summary = json.loads(sys.stdin.read())
assert summary["package_verified"] is True, summary
print(summary["package"])')
case "$PACKAGE" in "$WORK"/run/.chainarb/*) ;; *) fail "package outside the data dir: $PACKAGE";; esac

step "service: chainarb serve on the demo's data dir"
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CHAINARB_PORT=$PORT "$WORK/service/bin/chainarb" serve > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 300); do
  "$PYTHON" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/ui/static/actions.js', timeout=1)" \
    2>/dev/null && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; fail "chainarb serve exited"; }
  sleep 0.2
done
"$PYTHON" -c "import urllib.request as u; assert b'prepare' in u.urlopen('http://127.0.0.1:$PORT/ui/static/actions.js').read()" \
  || { cat "$WORK/serve.log" >&2; fail "chainarb serve does not serve /ui/static/actions.js"; }

step "evidence-only: chainarb verify of the demo's package; chainarb evidence"
"$WORK/evidence/bin/chainarb" verify "$PACKAGE" > "$WORK/verify.out" 2>&1 \
  || { cat "$WORK/verify.out" >&2; fail "chainarb verify (evidence-only) did not pass"; }

(
  cd "$WORK" && "$PYTHON" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall('pkg')" "$PACKAGE"
  "$WORK/evidence/bin/chainarb" evidence cid pkg/evidence/ev3/invoice.pdf > /dev/null
  "$WORK/evidence/bin/chainarb" evidence hash pkg/evidence/ev3/invoice.pdf > /dev/null
  "$WORK/evidence/bin/chainarb" evidence verify --help > /dev/null
) || fail "chainarb evidence cid/hash/verify (evidence-only) failed"

step "ok: $(basename "$WHEEL") installs and runs from another directory"
