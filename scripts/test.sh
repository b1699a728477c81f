#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the dependencies, checks that includes follow the
# layer order (scripts/check-layers.sh), then
#   1. the static release build: unit, integration, and end-to-end tests that pipe requests
#      through the static binary (including a bare-chroot portability test);
#   2. the same for linux/arm64, cross-compiled: unit and integration tests under
#      qemu-aarch64-static, end-to-end tests from step 1's native drivers against the arm64
#      binary under qemu (not the test fake's own tests: the fake runs natively there; nor the
#      controller's loop suites, whose cost under qemu is waiting, not arm64 code);
#   3. scripts/release.sh's dist/ (both binaries, SBOMs, the OCI image, SHA256SUMS, verified):
#      its amd64 binary, built again apart, must equal the tested one byte for byte; its arm64
#      binary is step 2's (a second arm64 build would cost two minutes to prove what amd64
#      proves); the image is built twice;
#   4. the same tests as step 1 under AddressSanitizer + UndefinedBehaviorSanitizer, in the
#      development configuration (debug, the system libraries: preset "asan" is preset "dev"
#      with the sanitizers, so a separate "dev" run would test nothing more);
#   5. each libFuzzer target for a bounded time (QCP_FUZZ_SECONDS, default 15), one per core.
# Each stage's wall time is printed as it ends, and all of them at the end (CI's budget: 30 min
# on a fresh 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a stage_times=()
started_all=$SECONDS
stage() {
  local name=$1 started=$SECONDS
  shift
  echo "==== test: stage '$name' started at $(date -u +%H:%M:%S)" >&2
  "$@"
  local took=$((SECONDS - started))
  stage_times+=("$(printf '%-14s %4d s' "$name" "$took")")
  echo "==== test: stage '$name' took ${took} s" >&2
}

reproducible_release() {
  # Built apart from build/static, the amd64 release binary must be the same bytes as the one
  # just tested: a reproducibility check at the cost of one more build. arm64's is the tested one.
  QCP_RELEASE_PREBUILT_ARM64=build/static-arm64 scripts/release.sh
  cmp build/static/quay-credential-provider dist/quay-credential-provider-linux-amd64 \
    || { echo "test: the amd64 release binary differs from build/static's: not reproducible" >&2; return 1; }
  cmp build/static-arm64/quay-credential-provider dist/quay-credential-provider-linux-arm64 \
    || { echo "test: the arm64 release binary is not the one tested" >&2; return 1; }
  # The image, built again from the same binaries, is the same bytes too.
  local again
  again=$(mktemp -d)
  cp dist/quay-credential-provider-linux-* "$again"
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
    QCP_IMAGE_VERSION=$(dist/quay-credential-provider-linux-amd64 --version | awk 'NR == 1 { print $2 }') \
    scripts/build-image.sh "$again"
  cmp dist/quay-credential-provider-image.oci.tar "$again/quay-credential-provider-image.oci.tar" \
    || { echo "test: a second build of the OCI image differs: not reproducible" >&2; return 1; }
  rm -rf -- "$again"
}

stage deps scripts/install-deps.sh
stage layers scripts/check-layers.sh
stage static cmake --workflow --preset static
stage static-arm64 cmake --workflow --preset static-arm64
stage release reproducible_release
stage asan cmake --workflow --preset asan
stage fuzz scripts/fuzz.sh "${QCP_FUZZ_SECONDS:-15}"

echo "==== test: all stages passed in $((SECONDS - started_all)) s" >&2
printf '  %s\n' "${stage_times[@]}" >&2
