#!/usr/bin/env bash
# CI: every cargo-fuzz target in fuzz/ built once and run for a bounded time from its corpus in
# the repository (fuzz/corpus/<target>/). A crash, a failed assertion, a leak, a timeout or an
# out-of-memory in any target fails the run, naming the target and the input that did it.
#
# Size: FUZZ_SECONDS per target (default 20; .ci/run uses 10; a full-size run: FUZZ_SECONDS=600 or more), one target
# at a time, one job each. New inputs the run finds go to a scratch directory, not into the
# repository; to keep them, run `cargo fuzz cmin` as fuzz/README.md says.
#
# Needs a nightly toolchain (`rustup toolchain install nightly`): libFuzzer's instrumentation
# uses unstable compiler flags. Without one it stops with that message; the same properties
# still run on stable in `cargo test` (crates/ledger/tests/parsers.rs and the unit tests the
# targets name), which is all a stable-only machine can do cheaply.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
seconds="${FUZZ_SECONDS:-20}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "error: FUZZ_SECONDS must be a positive number of seconds, got \`$seconds\`" >&2; exit 2; }

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    echo "error: no \`$toolchain\` Rust toolchain: the fuzz targets need one (rustup toolchain install nightly)." >&2
    echo "       Their properties also run on stable in \`cargo test --workspace\`; this step cannot run without nightly." >&2
    exit 1
fi
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install --quiet --locked --force cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

cd fuzz
mapfile -t targets < <(cargo "+$toolchain" fuzz list)
[ "${#targets[@]}" -gt 0 ] || { echo "error: cargo fuzz list found no targets" >&2; exit 1; }
for target in "${targets[@]}"; do
    [ -d "corpus/$target" ] && [ -n "$(ls -A "corpus/$target")" ] || {
        echo "error: fuzz target \`$target\` has no seed corpus in fuzz/corpus/$target (scripts/fuzz-seeds.py writes one)" >&2
        exit 1
    }
done

echo "building ${#targets[@]} fuzz targets ($toolchain, cargo-fuzz $CARGO_FUZZ_VERSION)"
build_start=$SECONDS
# cargo fuzz has no --locked: check fuzz/Cargo.lock is current (and fetch) first.
cargo "+$toolchain" fetch --locked --quiet
cargo "+$toolchain" fuzz build
echo "built in $((SECONDS - build_start)) s"

# Targets that reach SQLite (the controls part's bundle verifier) link its C amalgamation
# built with AddressSanitizer, which then reports a one-definition-rule "violation" for
# SQLite's own static tables at start-up (`aiOff`) and aborts before any input runs. Rust's
# memory checks stay on; only that start-up check is off.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target/new" "$scratch/$target/artifacts"
    log="$scratch/$target/log"
    printf '%-16s %4s s ... ' "$target" "$seconds"
    # The repository's corpus is read; what the run adds goes to the scratch corpus (listed
    # first, where libFuzzer writes). -timeout: one input running 10 s is a hang; -rss_limit_mb:
    # the default 2 GB bound on memory, said aloud.
    if cargo "+$toolchain" fuzz run "$target" "$scratch/$target/new" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$scratch/$target/artifacts/" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        echo "ok (${runs:-?} runs)"
    else
        echo "FAILED"
        failed+=("$target")
        kept="target/ci-fuzz-artifacts/$target"
        mkdir -p "$kept"
        cp "$scratch/$target/artifacts/"* "$kept/" 2>/dev/null || true
        grep -E -A2 "panicked at" "$log" | head -n 6 | sed 's/^/    /' >&2
        grep -E "ERROR: libFuzzer|SUMMARY" "$log" | head -n 4 | sed 's/^/    /' >&2
        echo "    crashing input(s): $(ls "$kept"/* 2>/dev/null | sed "s|^|fuzz/|" | tr '\n' ' ')" >&2
        echo "    reproduce: cd fuzz && cargo +$toolchain fuzz run $target <input>" >&2
        tail -n 40 "$log" | sed 's/^/    | /' >&2
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "error: fuzz targets failed: ${failed[*]} (inputs kept in fuzz/target/ci-fuzz-artifacts/)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, $seconds s each, no findings"
