#!/bin/sh
# The Debian packages the test suite runs besides Python and Node (ENVIRONMENT facts: no
# download from elsewhere works, so these come from Debian): chromium (the pages' browser
# tests, through playwright-core), fonts-wqy-zenhei (the CJK font certificate.pdf embeds and
# the Chinese screenshots show), poppler-utils (pdffonts, pdftotext: the tests read the
# certificate) and libfaketime (a test TSA whose world runs its chain days ahead reads that
# world's time, tests/support/tsa.py). Installs what is missing when it can (root with
# apt-get), else names what to install and fails: a missing tool must not look like a bug.
set -eu
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v pdffonts >/dev/null 2>&1 || missing="$missing poppler-utils"
for pkg in fonts-wqy-zenhei libfaketime; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the Debian packages the tests use:$missing"
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
  echo "the tests need these Debian packages:$missing" >&2
  echo "install them (sudo apt-get install$missing) and run make test again" >&2
  exit 1
fi
