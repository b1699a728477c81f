#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the dependencies, then
#   1. the static release build: unit, integration, and end-to-end tests that pipe requests
#      through the static binary (including a bare-chroot portability test);
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. each libFuzzer target for a bounded time (QCP_FUZZ_SECONDS, default 60);
#   4. the development build against the system libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --workflow --preset static
cmake --workflow --preset asan
scripts/fuzz.sh "${QCP_FUZZ_SECONDS:-60}"
cmake --workflow --preset dev
