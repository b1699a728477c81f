#!/usr/bin/env bash
# release.sh: builds this commit's release artifacts into dist/ (see docs/release.md).
#
#   scripts/release.sh
#
# On a fresh Debian 12 machine it first installs what the build needs (scripts/install-deps.sh,
# as root). Then, for linux/amd64 (preset static) and linux/arm64 (preset static-arm64, Debian's
# cross compiler):
#   dist/quay-credential-provider-linux-<arch>             fully static, stripped
#   dist/quay-credential-provider-linux-<arch>.spdx.json   its SPDX 2.3 SBOM, written by the build
#   dist/quay-credential-provider-image.oci.tar            the OCI image, both platforms
#                                                          (scripts/build-image.sh)
#   dist/quay-credential-provider-deploy.tar.gz           deploy/, its images pinned to that
#                                                          image's index digest
#   dist/SHA256SUMS                                        every file in dist/
# and verifies them (scripts/check-dist.sh). SOURCE_DATE_EPOCH is the commit's time and each
# build runs in build/release-<arch>, so two runs of one commit give the same bytes.
#
# Environment: QCP_RELEASE_ALLOW_DIRTY=1 builds with uncommitted changes (not a release: the
# version names the commit, which would not be what was built). QCP_RELEASE_PREBUILT_ARM64=DIR
# takes linux/arm64's binary and SBOM from DIR, a static-arm64 build of this commit, instead of
# building them again: CI, which has just built and tested that tree, checks reproducibility on
# linux/amd64 and ships the arm64 bytes it tested.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  printf 'release: error: %s\n' "$*" >&2
  exit 1
}

if [[ -n $(git status --porcelain --untracked-files=no) && ${QCP_RELEASE_ALLOW_DIRTY:-} != 1 ]]; then
  die "uncommitted changes: commit them (or set QCP_RELEASE_ALLOW_DIRTY=1 for a trial build)"
fi
if [[ $EUID -eq 0 || -n $(command -v sudo) ]]; then
  scripts/install-deps.sh
fi

SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
export SOURCE_DATE_EPOCH
commit=$(git rev-parse --short=12 HEAD)

declare -A presets=([amd64]=static [arm64]=static-arm64)
mkdir -p build
rm -rf dist
mkdir dist
for arch in amd64 arm64; do
  build="build/release-$arch"
  if [[ $arch == arm64 && -n ${QCP_RELEASE_PREBUILT_ARM64:-} ]]; then
    build=$QCP_RELEASE_PREBUILT_ARM64
    grep -q "^CMAKE_TOOLCHAIN_FILE.*aarch64" "$build/CMakeCache.txt" 2>/dev/null \
      || die "QCP_RELEASE_PREBUILT_ARM64=$build is not a static-arm64 build tree"
    # Built from this commit: its --version text names it.
    grep -qaF "$commit" "$build/quay-credential-provider" \
      || die "$build/quay-credential-provider was not built from $commit: build it again"
    echo "release: linux/$arch from $build (built and tested there from $commit)" >&2
  else
    echo "release: building $commit for linux/$arch in $build" >&2
    cmake --preset "${presets[$arch]}" -B "$build" >"$build.configure.log" 2>&1 \
      || { tail -n 30 "$build.configure.log" >&2; die "configure failed (log: $build.configure.log)"; }
    cmake --build "$build" --target quay-credential-provider >"$build.build.log" 2>&1 \
      || { tail -n 30 "$build.build.log" >&2; die "build failed (log: $build.build.log)"; }
  fi
  name="quay-credential-provider-linux-$arch"
  cp "$build/quay-credential-provider" "dist/$name"
  cp "$build/quay-credential-provider.spdx.json" "dist/$name.spdx.json"
done

version=$(dist/quay-credential-provider-linux-amd64 --version | awk 'NR == 1 { print $2 }')
QCP_IMAGE_VERSION=$version scripts/build-image.sh dist
# What deploy/ overlays pin: the digest of the image index, which `skopeo copy --all` keeps.
digest=sha256:$(skopeo inspect --raw oci-archive:dist/quay-credential-provider-image.oci.tar | sha256sum | cut -d' ' -f1)
scripts/pin-deploy.sh "$digest" dist/quay-credential-provider-deploy.tar.gz
(cd dist && sha256sum -- * >SHA256SUMS)

scripts/check-dist.sh dist
ls -l dist >&2
echo "release: image index digest $digest: dist/quay-credential-provider-deploy.tar.gz holds deploy/ pinned to it (docs/install.md)" >&2
