#!/usr/bin/env bash
# `evident anonymity check` against pyCANON (the IFCA-CSIC library, pinned) on the same
# tables: k, distinct l, entropy l and t must agree (scripts/check-anonymity.py says how
# each is compared). The tables include Evident's own --target-k output.
#
# Usage: scripts/ci-anonymity.sh [path/to/evident]   (default: target/debug/evident)
set -euo pipefail
cd "$(dirname "$0")/.."

evident=$(realpath "${1:-target/debug/evident}")
[ -x "$evident" ] || { echo "error: $evident is not an executable; build it first (cargo build)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "error: python3 is needed for pycanon" >&2; exit 1; }

# pycanon 1.3.6 pins its own dependencies (pandas 2.3.3, numpy 2.0.2, …); its own venv.
venv=target/anonymity-venv-$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if ! "$venv/bin/python" -c 'import pycanon, pandas' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'pycanon==1.3.6'
fi
"$venv/bin/python" -c 'import pycanon, pandas' || { echo "error: pycanon could not be installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" scripts/check-anonymity.py "$evident" "$work"
