#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs every pinned requirement in ONE
# resolver run against the full lock (constraints.txt), then checks consistency.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$(scripts/find_python310.sh)"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info[:2]==(3,10) else 1)'; then
  rm -rf .venv
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check "pip==24.2"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
.venv/bin/python -m pip check
touch .venv/.installed
