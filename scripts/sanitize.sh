#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and/or ThreadSanitizer, each in its own build folder
# (.build-asan, .build-tsan; gitignored) so the normal .build is untouched. Debug configuration:
# Swift's bounds and overflow checks stay on beside the sanitizer's. Not run by `swift test`/CI.
#   scripts/sanitize.sh                       # address then thread, whole suite
#   scripts/sanitize.sh address               # one sanitizer
#   scripts/sanitize.sh thread --filter 'FrameIOTests|CLITests'   # a subset (swift test --filter)
#   SANITIZE_CONFIG=release scripts/sanitize.sh address   # optimised (-enable-testing), for the
#       whole suite: the training and rendering tests take hours in a debug build. The sanitizer
#       still instruments every load and store, and Swift's own bounds checks stay on.
# Exit status is non-zero when any test fails or a sanitizer reports (reports abort the test
# process: halt_on_error=1).
set -uo pipefail
cd "$(dirname "$0")/.."
modes=(address thread)
case "${1:-}" in
    address|thread) modes=("$1"); shift ;;
esac
# Leak checking is off: the Swift runtime and FFmpeg keep process-lifetime caches that LSan reports.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
config=${SANITIZE_CONFIG:-debug}
flags=(-c "$config")
[ "$config" = release ] && flags+=(-Xswiftc -enable-testing)
status=0
for mode in "${modes[@]}"; do
    [ "$mode" = address ] && scratch=.build-asan
    [ "$mode" = thread ] && scratch=.build-tsan
    echo "== $mode sanitizer: $config build in $scratch" >&2
    start=$(date +%s)
    if ! swift build "${flags[@]}" --build-tests --sanitize="$mode" --scratch-path "$scratch" >&2; then
        echo "== $mode: build failed" >&2; status=1; continue
    fi
    echo "== $mode sanitizer: testing $*" >&2
    # T2V_SANITIZER tells the peak-memory test to skip (RSS would measure the sanitizer).
    T2V_SANITIZER=$mode swift test "${flags[@]}" --skip-build --sanitize="$mode" --scratch-path "$scratch" "$@"
    rc=$?
    echo "== $mode sanitizer: exit $rc after $(( $(date +%s) - start )) s" >&2
    [ $rc -ne 0 ] && status=1
done
exit $status
