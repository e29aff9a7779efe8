#!/usr/bin/env bash
# Minimizes the fuzz corpora in fuzz/corpus/<target>/ after a run that grew them, so the
# repository keeps a corpus well under 1 MB: every seed (`seed-*`, written by
# scripts/fuzz-seeds.py) stays; of the rest, inputs of at most FUZZ_CMIN_MAX_BYTES (1024)
# are kept only when they reach code the seeds and the smaller inputs do not (libFuzzer's
# set-cover merge over covered edges, without hit counts).
#
# Usage: scripts/fuzz-cmin.sh [TARGET...]   (default: every target; builds them first)
# `cargo fuzz cmin` alone keeps every input with a distinct hit count: 11,000 files, 7 MB.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

toolchain="${FUZZ_TOOLCHAIN:-nightly}"
max_bytes="${FUZZ_CMIN_MAX_BYTES:-1024}"
cargo "+$toolchain" fuzz build
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo "+$toolchain" fuzz list); fi
bin_dir="target/$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')/release"
# The SQLite inside the event target is linked twice (with and without the sanitizer's
# instrumentation); cargo fuzz run says the same.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    corpus="corpus/$target"
    [ -x "$bin_dir/$target" ] || { echo "error: no fuzz target \`$target\` in $bin_dir" >&2; exit 1; }
    [ -d "$corpus" ] || { echo "error: $corpus does not exist" >&2; exit 1; }
    rm -rf "$scratch/kept" "$scratch/candidates"
    mkdir -p "$scratch/kept" "$scratch/candidates"
    find "$corpus" -maxdepth 1 -type f -name 'seed-*' -exec cp {} "$scratch/kept/" \;
    find "$corpus" -maxdepth 1 -type f ! -name 'seed-*' -size -"$((max_bytes + 1))"c -exec cp {} "$scratch/candidates/" \;
    before=$(find "$corpus" -type f | wc -l)
    "$bin_dir/$target" -set_cover_merge=1 -use_counters=0 "$scratch/kept" "$scratch/candidates" \
        >"$scratch/merge.log" 2>&1 || { cat "$scratch/merge.log" >&2; echo "error: merging $target failed" >&2; exit 1; }
    rm -rf "$corpus"
    cp -r "$scratch/kept" "$corpus"
    echo "$target: $before -> $(find "$corpus" -type f | wc -l) files, $(cat "$corpus"/* | wc -c) bytes"
done
echo "fuzz/corpus: $(find corpus -type f | wc -l) files, $(find corpus -type f -exec cat {} + | wc -c) bytes"
