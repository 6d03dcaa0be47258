#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (AddressSanitizer + libFuzzer, debug configuration so
# Swift's own bounds and overflow checks stay on) and runs each for SECONDS seconds, starting from
# the committed seeds in Fuzz/Corpus/<target>/. Prints executions, corpus size and crashes per
# target; crash inputs land in .build-fuzz/artifacts/<target>/. Not part of `swift test` or CI.
#   scripts/fuzz.sh 60                 # every target, 60 s each
#   scripts/fuzz.sh 30 FuzzDataset     # one target
# Environment: FUZZ_JOBS (parallel libFuzzer workers per target, default 1), T2V_FUZZ_VOCAB.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(FuzzSafeTensors FuzzDataset FuzzTokenizer FuzzVideoReader)
SCRATCH=$ROOT/.build-fuzz

declare -A SEEDS=([FuzzSafeTensors]=safetensors [FuzzDataset]=dataset [FuzzTokenizer]=tokenizer [FuzzVideoReader]=videoreader)

echo "building fuzz targets (swift build --package-path Fuzz -sanitize=fuzzer,address) ..." >&2
swift build --package-path Fuzz --scratch-path "$SCRATCH" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2 || { echo "fuzz build failed" >&2; exit 1; }
BIN=$(swift build --package-path Fuzz --scratch-path "$SCRATCH" --show-bin-path)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
total_crashes=0
printf '%-16s %8s %12s %10s %8s\n' target seconds executions corpus crashes
for t in "${TARGETS[@]}"; do
    seeds=$ROOT/Fuzz/Corpus/${SEEDS[$t]}
    work=$SCRATCH/corpus/$t
    art=$SCRATCH/artifacts/$t
    mkdir -p "$work" "$art"
    log=$SCRATCH/$t.log
    "$BIN/$t" "$work" "$seeds" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
        ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} >"$log" 2>&1
    status=$?
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
    corpus=$(find "$work" -type f | wc -l)
    crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    total_crashes=$((total_crashes + crashes))
    printf '%-16s %8s %12s %10s %8s\n' "$t" "$SECONDS_PER_TARGET" "$execs" "$corpus" "$crashes"
    if [ $status -ne 0 ]; then
        echo "  $t exited $status; see $log and $art/" >&2
        grep -m3 -E 'ERROR|Fatal error|SUMMARY' "$log" | sed 's/^/  /' >&2
    fi
done
[ $total_crashes -eq 0 ]
