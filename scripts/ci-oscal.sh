#!/usr/bin/env bash
# OSCAL conformance of what `evident controls oscal` writes: a fresh data directory with the
# demo policy pack applied, the controls checked twice, then the component-definition and the
# assessment-results for today, each read by compliance-trestle (its OSCAL 1.1.2 models),
# validated against NIST's published JSON schema (scripts/oscal-schema/) and NIST's metaschema
# (the `oscal` package), and round-tripped through
# trestle (scripts/check-oscal.py). Two damaged documents must be refused, so the checker
# itself is shown to fail.
#
# Usage: scripts/ci-oscal.sh [path/to/evident]   (default: target/debug/evident)
set -euo pipefail
cd "$(dirname "$0")/.."

evident=$(realpath "${1:-target/debug/evident}")
[ -x "$evident" ] || { echo "error: $evident is not an executable; build it first (cargo build)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "error: python3 is needed for compliance-trestle" >&2; exit 1; }

# The validators, pinned, in their own virtual environment.
venv=target/oscal-venv-$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
modules='import trestle, oscal, jsonschema, regex, rfc3339_validator, rfc3986_validator'
if ! "$venv/bin/python" -c "$modules" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'compliance-trestle==5.2.0' 'oscal==3.2.2' \
        'jsonschema==4.25.1' 'regex==2025.9.18' 'rfc3339-validator==0.1.4' 'rfc3986-validator==0.1.1'
fi
"$venv/bin/python" -c "$modules" || { echo "error: the OSCAL validators could not be installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$evident" init --quiet --data-dir "$work/data" >/dev/null
"$evident" policy apply policies/default --data-dir "$work/data" >/dev/null
# Checks fail or stay inconclusive on a bare directory; their runs are what is assessed.
"$evident" controls check --data-dir "$work/data" >/dev/null 2>&1 || true
"$evident" controls check --data-dir "$work/data" >/dev/null 2>&1 || true
today=$(date -u +%F)
"$evident" controls oscal component --data-dir "$work/data" -o "$work/component.json"
"$evident" controls oscal results --data-dir "$work/data" --from "$today" --to "$today" -o "$work/results.json"
"$evident" controls oscal results --data-dir "$work/data" --from "$today" --to "$today" --framework soc2 -o "$work/results-soc2.json"
# A period bundle carries the same document, its evidence links pointing at its own members.
"$evident" evidence bundle --data-dir "$work/data" --framework soc2 --from "$today" --to "$today" -o "$work/soc2.tar" >/dev/null
tar -xOf "$work/soc2.tar" oscal/assessment-results.json > "$work/results-bundle.json"
# The `oscal` package keeps a support database under the working directory: run it in $work.
checker=("$PWD/$venv/bin/python" "$PWD/scripts/check-oscal.py")
(cd "$work" && "${checker[@]}" component.json results.json results-soc2.json results-bundle.json)

# The checker refuses damaged documents (a finding without its target; a bad UUID).
"$venv/bin/python" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
doc = json.load(open(f"{work}/results.json"))
del doc["assessment-results"]["results"][0]["findings"][0]["target"]
json.dump(doc, open(f"{work}/bad-results.json", "w"))
doc = json.load(open(f"{work}/component.json"))
doc["component-definition"]["components"][0]["uuid"] = "not-a-uuid"
json.dump(doc, open(f"{work}/bad-component.json", "w"))
# Damage only a format or a Unicode-class pattern sees: a time that is not a date-time, a
# property name that does not start with a letter.
doc = json.load(open(f"{work}/results.json"))
doc["assessment-results"]["metadata"]["last-modified"] = "yesterday"
json.dump(doc, open(f"{work}/bad-time.json", "w"))
doc = json.load(open(f"{work}/component.json"))
doc["component-definition"]["components"][0].setdefault("props", []).append({"name": "1-not-a-token", "value": "x"})
json.dump(doc, open(f"{work}/bad-token.json", "w"))
PY
for bad in bad-results bad-component; do
    if (cd "$work" && "${checker[@]}" "$bad.json" 2>/dev/null); then
        echo "error: the OSCAL checker accepted a damaged document ($bad)" >&2
        exit 1
    fi
done
# NIST's JSON schema step on its own refuses every damaged document too.
for bad in bad-results bad-component bad-time bad-token; do
    if (cd "$work" && "${checker[@]}" --nist-schema-only "$bad.json" 2>/dev/null); then
        echo "error: NIST's JSON schema step accepted a damaged document ($bad)" >&2
        exit 1
    fi
done
echo "OSCAL: component-definition and assessment-results valid; damaged documents refused"
