#!/usr/bin/env bash
# The fault harness at CI size (issue 19): crash soak, full disk, resource limits, each
# against a real `evident serve`. Takes the evident binary as $1 (default target/debug/evident).
# Fails on the first failing script; never exits 0 unless all three passed.
#
# CI size, about 2 minutes on the 2-core CI machine (1 min 45 s measured):
#   crash soak       15 kill -9 cycles, 8 writers                          (~40 s)
#   full disk        24 MiB tmpfs, 3 fill-and-free rounds (needs root)    (~3 s)
#   resource limits  1,500 idle and 300 slowloris connections, 24 clients
#                    sending 15 MiB bodies, server fd limit 1024,
#                    header timeout 5 s, body timeout 10 s                 (~1 min)
# Full size: run each script with its defaults (crash soak: 100 cycles, ~15 minutes;
# resource limits: 4,000 idle and 1,000 slowloris connections with the server's default
# timeouts, ~5 minutes). Figures: docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/evident}"
export PYTHONDONTWRITEBYTECODE=1

step() {
    echo "== $1"
    local started=$SECONDS
    shift
    "$@"
    echo "== done in $((SECONDS - started)) s"
}

step "crash soak (15 cycles)" python3 scripts/crash-soak.py --binary "$bin" --cycles 15
step "full disk" python3 scripts/full-disk.py --binary "$bin"
step "resource limits (CI size)" python3 scripts/resource-limits.py --binary "$bin" \
    --idle 1500 --slow 300 --body-clients 24 --header-timeout 5 --body-timeout 10 --grace 10
echo "fault harness: all passed"
