#!/usr/bin/env bash
# Audits the pinned dependency set (constraints.txt: every package the product
# installs, exactly pinned) for known vulnerabilities with pip-audit.
#
# - pip-audit runs from its own small venv, build/pip-audit, made once with the
#   machine's python3 (NOT .venv: pip-audit's dependencies would break Rasa 3.6's
#   pins). Rebuilt only when security/pip-audit-requirements.txt changes.
# - Known, reviewed vulnerabilities are listed in security/pip-audit-known.txt
#   (ID | package | review by YYYY-MM-DD | why it does not apply / why we cannot
#   upgrade). Any other vulnerability fails the audit (exit 1); so does a known
#   entry whose review date has passed, and a package the service could not check.
# - Only when the vulnerability service cannot be reached at all does the audit
#   pass (exit 0), with a loud warning: nothing was checked then.
#
# Usage: scripts/audit_dependencies.sh [REQUIREMENTS_FILE]   (default constraints.txt)
# Environment: PIP_AUDIT_SERVICE=pypi|osv (default pypi), PYTHON3 (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS="${1:-constraints.txt}"
SERVICE="${PIP_AUDIT_SERVICE:-pypi}"
PYTHON3="${PYTHON3:-python3}"
TOOL_PINS=security/pip-audit-requirements.txt
KNOWN=security/pip-audit-known.txt
VENV=build/pip-audit
STAMP="$VENV/.installed-$(sha256sum "$TOOL_PINS" | cut -c1-16)"
REPORT="$VENV/report.json"
started=$SECONDS

trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

banner() {
  printf '\n%s\n' "################################################################################"
  printf '%s\n' "$@"
  printf '%s\n\n' "################################################################################"
}

# 1. The tool's venv (cached).
if [ ! -f "$STAMP" ]; then
  echo "audit: creating $VENV with $("$PYTHON3" --version 2>&1) and the pinned pip-audit..."
  rm -rf "$VENV"
  "$PYTHON3" -m venv "$VENV"
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$TOOL_PINS" \
      > "$VENV/install.log" 2>&1; then
    cat "$VENV/install.log" >&2
    echo "audit: could not install pip-audit (see above)" >&2
    exit 1
  fi
  "$VENV/bin/python" -m pip check >/dev/null
  touch "$STAMP"
fi

# 2. The known list: IDs to ignore; overdue reviews fail.
mapfile -t known_lines < <(grep -v -E '^\s*(#|$)' "$KNOWN" || true)
ignore_args=()
overdue=()
today=$(date -u +%Y-%m-%d)
for line in "${known_lines[@]}"; do
  IFS='|' read -r id package review reason <<<"$line"
  id=$(trim "$id"); package=$(trim "$package"); review=$(trim "$review"); reason=$(trim "${reason:-}")
  if [[ ! "$id" =~ ^[A-Za-z]+-[A-Za-z0-9-]+$ ]] || [[ ! "$review" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || [ -z "$reason" ]; then
    echo "audit: malformed line in $KNOWN (want: ID | package | YYYY-MM-DD | reason):" >&2
    echo "  $line" >&2
    exit 1
  fi
  ignore_args+=(--ignore-vuln "$id")
  if [[ "$review" < "$today" ]]; then
    overdue+=("$id ($package): review was due $review")
  fi
done

# 3. Is the vulnerability service reachable? (the exact kind of request pip-audit makes)
probe_status=$("$VENV/bin/python" - "$SERVICE" <<'PY'
import json, sys, urllib.error, urllib.request
service = sys.argv[1]
if service == "osv":
    request = urllib.request.Request(
        "https://api.osv.dev/v1/query",
        json.dumps({"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "24.2"}).encode(),
        {"Content-Type": "application/json"},
    )
else:
    request = urllib.request.Request("https://pypi.org/pypi/pip/24.2/json")
try:
    with urllib.request.urlopen(request, timeout=20) as response:
        body = json.loads(response.read())
        ok = "vulnerabilities" in body if service == "pypi" else isinstance(body, dict)
        print("ok" if ok else "unexpected answer (no vulnerability data)")
except urllib.error.HTTPError as error:
    print(f"HTTP {error.code} from {request.full_url}")
except Exception as error:  # DNS, connection refused, timeout, TLS
    print(f"{type(error).__name__}: {error}")
PY
)
if [ "$probe_status" != "ok" ]; then
  banner "WARNING: DEPENDENCY AUDIT NOT DONE — the vulnerability service ($SERVICE) cannot be reached:" \
    "  $probe_status" \
    "None of the pinned packages in $REQUIREMENTS was checked for known vulnerabilities." \
    "Run 'make audit' on a machine that reaches pypi.org (or PIP_AUDIT_SERVICE=osv with api.osv.dev)."
  exit 0
fi

# 4. The audit.
echo "audit: checking $(grep -c -v -E '^\s*(#|$)' "$REQUIREMENTS") pinned packages in $REQUIREMENTS against $SERVICE..."
set +e
"$VENV/bin/pip-audit" -r "$REQUIREMENTS" --no-deps --disable-pip --vulnerability-service "$SERVICE" \
  --cache-dir "$VENV/cache" --progress-spinner off --format json --output "$REPORT" \
  "${ignore_args[@]}" 2> "$VENV/stderr.txt"
status=$?
set -e

set +e
"$VENV/bin/python" - "$REPORT" "$status" "$VENV/stderr.txt" <<'PY'
import json, pathlib, sys
report, status, stderr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    deps = json.loads(pathlib.Path(report).read_text())["dependencies"]
except (OSError, ValueError, KeyError):
    print(f"audit: pip-audit failed (exit {status}) without a report:", file=sys.stderr)
    print(pathlib.Path(stderr).read_text()[-3000:], file=sys.stderr)
    sys.exit(1)
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if "skip_reason" in d]
checked = len(deps) - len(skipped)
if skipped and not checked:
    # every single lookup failed although the probe worked: treat like an unreachable service
    print("\n" + "#" * 80 + "\nWARNING: DEPENDENCY AUDIT NOT DONE — the service answered no package:\n  "
          + skipped[0]["skip_reason"] + "\n" + "#" * 80 + "\n")
    sys.exit(3)
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        aliases = ", ".join(vuln.get("aliases") or [])
        print(f"VULNERABLE {dep['name']}=={dep['version']}: {vuln['id']} ({aliases}) fixed in: {fixes}")
        print("    " + (vuln.get("description") or "").strip().replace("\n", " ")[:300])
for dep in skipped:
    print(f"NOT CHECKED {dep['name']}: {dep['skip_reason']}")
print(f"audit: {checked} packages checked, {sum(len(d['vulns']) for d in vulnerable)} unknown vulnerabilities, "
      f"{len(skipped)} not checked")
sys.exit(1 if vulnerable or skipped or status not in (0, 1) else 0)
PY
verdict=$?
set -e
if [ "$verdict" = 3 ]; then
  exit 0
fi
if [ "${#overdue[@]}" -gt 0 ]; then
  echo "audit: reviews overdue in $KNOWN (check again, then move the date):" >&2
  printf '  %s\n' "${overdue[@]}" >&2
  verdict=1
fi
echo "audit: done in $((SECONDS - started)) s"
if [ "$verdict" != 0 ]; then
  echo "audit: FAILED. Upgrade the package, or (only when it cannot be upgraded and does not apply) add a reviewed line to $KNOWN." >&2
fi
exit "$verdict"
