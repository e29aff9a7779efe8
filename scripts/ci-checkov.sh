#!/bin/sh
# Installs Checkov (the IaC scanner whose SARIF `evident evidence ingest` reads) into a
# virtual environment and puts it on PATH for the rest of the CI run, so that
# crates/cli/tests/checkov.rs runs for real (with CI set, it fails when checkov is missing).
set -eu
venv="${CHECKOV_VENV:-${TMPDIR:-/tmp}/checkov-venv}"
if [ ! -x "$venv/bin/checkov" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'checkov==3.3.30'
fi
"$venv/bin/checkov" --version
echo "$venv/bin"
