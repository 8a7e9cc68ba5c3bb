#!/usr/bin/env bash
# Fuzzing: every cargo-fuzz target of fuzz/ for a bounded number of inputs
# each (FUZZ_RUNS, default 1,000,000; FUZZ_SECONDS, default 120, caps a slow
# machine), on the nightly toolchain cargo-fuzz needs.
# CI is deterministic: libFuzzer's seed is fixed (FUZZ_SEED, default 1) and a
# fresh clone starts from the committed seeds only, so a run fails when the
# code changed, not when chance found an old case. To explore, run with
# FUZZ_SEED=0 (libFuzzer picks one) and more runs or time.
# A crash fails the run; its input is left in fuzz/artifacts/<target>/ (fix
# it, and keep it in fuzz/regressions/<target>/: tests/fuzz_regressions.rs
# replays it in the ordinary suite).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${FUZZ_RUNS:-1000000}"
seconds="${FUZZ_SECONDS:-120}"
seed="${FUZZ_SEED:-1}"
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
cd fuzz
cargo +nightly fuzz build
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in $(cargo +nightly fuzz list); do
    mkdir -p "corpus/$target"
    echo "fuzz: $target, $runs inputs (seed $seed, at most ${seconds}s)"
    status=0
    cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -runs="$runs" -seed="$seed" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|INFO: seed corpus|Done )' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz: $target failed (exit $status); inputs:" artifacts/"$target"/* 2>/dev/null || true
        exit 1
    fi
done
echo "fuzz: every target ran $runs inputs (seed $seed) without a crash"
