#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the dependencies, then
#   1. the static release build: unit, integration, and end-to-end tests that pipe requests
#      through the static binary (including a bare-chroot portability test);
#   1b. the same for linux/arm64, cross-compiled: unit and integration tests under
#      qemu-aarch64-static, end-to-end tests from step 1's native drivers against the arm64
#      binary under qemu; then scripts/release.sh's dist/ (both binaries, SBOMs, the OCI image,
#      SHA256SUMS, verified), whose binaries must equal the tested ones byte for byte;
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. each libFuzzer target for a bounded time (QCP_FUZZ_SECONDS, default 60);
#   4. the development build against the system libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --workflow --preset static
cmake --workflow --preset static-arm64
# The release artifacts (dist/), verified; built apart from build/static{,-arm64}, they must be
# the same bytes as the binaries just tested: a reproducibility check at the cost of one more
# build per architecture.
scripts/release.sh
declare -A tested=([amd64]=build/static [arm64]=build/static-arm64)
for arch in amd64 arm64; do
  cmp "${tested[$arch]}/quay-credential-provider" "dist/quay-credential-provider-linux-$arch" \
    || { echo "test: the $arch release binary differs from ${tested[$arch]}'s: not reproducible" >&2; exit 1; }
done
# The image, built again from the same binaries, is the same bytes too.
again=$(mktemp -d)
cp dist/quay-credential-provider-linux-* "$again"
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
  QCP_IMAGE_VERSION=$(dist/quay-credential-provider-linux-amd64 --version | awk 'NR == 1 { print $2 }') \
  scripts/build-image.sh "$again"
cmp dist/quay-credential-provider-image.oci.tar "$again/quay-credential-provider-image.oci.tar" \
  || { echo "test: a second build of the OCI image differs: not reproducible" >&2; exit 1; }
rm -rf -- "$again"
cmake --workflow --preset asan
scripts/fuzz.sh "${QCP_FUZZ_SECONDS:-60}"
cmake --workflow --preset dev
