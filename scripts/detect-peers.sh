#!/usr/bin/env bash
# Sets up the peers that `evident bench detect` compares with: Microsoft Presidio's analyzer
# and Yelp's detect-secrets, from PyPI, in a virtual environment under target/.
# Prints the Python to pass as --peers-python (or EVIDENT_PEERS_PYTHON).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/peers-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
"$venv/bin/pip" install -q presidio-analyzer==2.2.366 detect-secrets==1.5.0 >&2
echo "$PWD/$venv/bin/python"
