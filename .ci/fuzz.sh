#!/usr/bin/env bash
# Fuzzing: every cargo-fuzz target of fuzz/ for a bounded time each
# (FUZZ_SECONDS, default 60), on the nightly toolchain cargo-fuzz needs.
# A crash fails the run; its input is left in fuzz/artifacts/<target>/ (fix
# it, and keep it as a regression test in the ordinary suite).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
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
    echo "fuzz: $target for ${seconds}s"
    status=0
    cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|INFO: seed corpus|Done )' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz: $target failed (exit $status); inputs:" artifacts/"$target"/* 2>/dev/null || true
        exit 1
    fi
done
echo "fuzz: every target ran ${seconds}s without a crash"
