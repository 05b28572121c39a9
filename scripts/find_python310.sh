#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 supports 3.8-3.10).
# Order: python3.10 on PATH, then any pyenv 3.10.x. Fails with a clear message.
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
if command -v python3.10 >/dev/null 2>&1 && ok python3.10; then
  command -v python3.10; exit 0
fi
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for candidate in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
  if ok "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "ERROR: Python 3.10 not found. Rasa 3.6 needs Python 3.8-3.10; install it (e.g. 'pyenv install 3.10') and retry." >&2
exit 1
