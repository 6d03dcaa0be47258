#!/usr/bin/env bash
# Runs the whole test suite: the Swift tests (release build with testing enabled, so the numeric
# tests run at full speed) including CLI tests that run the built binary against the ffmpeg and
# ffprobe CLIs. Needs scripts/setup.sh to have run once.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing "$@"
