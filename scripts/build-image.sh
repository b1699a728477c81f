#!/usr/bin/env bash
# build-image.sh: the OCI image of a release, from the binaries in DIST (scripts/release.sh).
#
#   scripts/build-image.sh DIST
#
# Writes DIST/quay-credential-provider-image.oci.tar: an OCI image layout, as a tar archive,
# whose index lists one image per platform (linux/amd64, linux/arm64). Each image is built FROM
# scratch with buildah and holds three files and nothing else:
#   /quay-credential-provider                       the static binary (the entrypoint)
#   /usr/share/doc/quay-credential-provider/LICENSE
#   /usr/share/doc/quay-credential-provider/quay-credential-provider.spdx.json   its SBOM
# Files are owned by 0:0; the image runs as 65532:65532 unless told otherwise (the node
# installer's DaemonSet copies the binary out and needs no privilege to run it).
#
# Reproducible: buildah commits with SOURCE_DATE_EPOCH (required) as every timestamp and no
# history, and the layout directory is archived in name order with fixed owners and times, so
# one commit's binaries always give the same archive. buildah's storage is private to this run
# (a temporary directory; the machine's container storage is not touched).
#
# Environment: SOURCE_DATE_EPOCH (seconds), QCP_IMAGE_VERSION (the image's version label).
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  printf 'build-image: error: %s\n' "$*" >&2
  exit 1
}

dist=${1:?usage: build-image.sh DIST}
[[ -n ${SOURCE_DATE_EPOCH:-} ]] || die "SOURCE_DATE_EPOCH is not set (scripts/release.sh sets it)"
command -v buildah >/dev/null || die "buildah is not installed; run scripts/install-deps.sh"
platforms=(amd64 arm64)
for arch in "${platforms[@]}"; do
  [[ -f $dist/quay-credential-provider-linux-$arch ]] \
    || die "no $dist/quay-credential-provider-linux-$arch"
done
version=${QCP_IMAGE_VERSION:-unknown}
archive="quay-credential-provider-image.oci.tar"

work=$(mktemp -d)
trap 'buildah "${store[@]}" rm --all >/dev/null 2>&1 || true; rm -rf -- "$work"' EXIT
store=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot
doc=/usr/share/doc/quay-credential-provider

images=()
for arch in "${platforms[@]}"; do
  binary="$dist/quay-credential-provider-linux-$arch"
  ctr=$(buildah "${store[@]}" from --quiet --platform "linux/$arch" scratch)
  buildah "${store[@]}" copy --quiet --chown 0:0 --chmod 0755 "$ctr" "$binary" /quay-credential-provider
  buildah "${store[@]}" copy --quiet --chown 0:0 --chmod 0644 "$ctr" LICENSE "$doc/LICENSE"
  buildah "${store[@]}" copy --quiet --chown 0:0 --chmod 0644 "$ctr" "$binary.spdx.json" \
    "$doc/quay-credential-provider.spdx.json" >/dev/null
  buildah "${store[@]}" config --os linux --arch "$arch" \
    --entrypoint '["/quay-credential-provider"]' --cmd '' --user 65532:65532 \
    --label org.opencontainers.image.title=quay-credential-provider \
    --label "org.opencontainers.image.version=$version" \
    --label org.opencontainers.image.licenses=Apache-2.0 \
    "$ctr"
  buildah "${store[@]}" commit --quiet --rm --format oci --omit-history \
    --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "localhost/quay-credential-provider:$arch" >/dev/null
  images+=("localhost/quay-credential-provider:$arch")
done

buildah "${store[@]}" manifest create localhost/quay-credential-provider:index >/dev/null
for image in "${images[@]}"; do
  buildah "${store[@]}" manifest add localhost/quay-credential-provider:index "$image" >/dev/null
done
buildah "${store[@]}" manifest push --quiet --all --format oci \
  localhost/quay-credential-provider:index "oci:$work/layout:$version" >/dev/null

# The layout as an archive that depends on its content only.
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  --mode=u+rw,go+r,go-w --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$work/layout" -cf "$dist/$archive" .
echo "build-image: $dist/$archive (linux/amd64, linux/arm64)" >&2
