#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the dependencies, then
#   1. the static release build: unit, integration, and end-to-end tests that pipe requests
#      through the static binary (including a bare-chroot portability test), then
#      scripts/release.sh's dist/, whose binary must equal the tested one byte for byte;
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. each libFuzzer target for a bounded time (QCP_FUZZ_SECONDS, default 60);
#   4. the development build against the system libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --workflow --preset static
# The release artifacts (dist/), verified; built apart from build/static, they must be the same
# bytes as the binary just tested: a reproducibility check at the cost of one more build.
scripts/release.sh
cmp build/static/quay-credential-provider dist/quay-credential-provider-linux-amd64 \
  || { echo "test: the release binary differs from build/static's: not reproducible" >&2; exit 1; }
cmake --workflow --preset asan
scripts/fuzz.sh "${QCP_FUZZ_SECONDS:-60}"
cmake --workflow --preset dev
