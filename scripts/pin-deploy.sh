#!/usr/bin/env bash
# pin-deploy.sh DIGEST OUT: this commit's deploy/, with every image it runs pinned to DIGEST
# (the release's image index digest), as a reproducible tar.gz. deploy/ itself names a tag: a
# commit cannot hold the digest of an image built from it (the binary names its commit). Unpacked,
# the overlays and uninstall Jobs run registry.example.com/quay-credential-provider@DIGEST; an
# overlay of yours sets newName to the registry you copied the image to (`skopeo copy --all`
# keeps the index, so the digest holds there too).
set -euo pipefail

die() {
  printf 'pin-deploy: error: %s\n' "$*" >&2
  exit 1
}

digest=${1:-}
out=${2:-}
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "usage: pin-deploy.sh sha256:<64 hex digits> OUT.tar.gz"
[[ -n $out ]] || die "usage: pin-deploy.sh sha256:<64 hex digits> OUT.tar.gz"
source_dir=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m -- "$out")

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
# Tracked files only, as committed (release.sh refuses changes to them): nothing stray ships.
git -C "$source_dir" ls-files -z -- deploy | tar -C "$source_dir" --null -T - -cf - | tar -C "$work" -xf -
pinned=0
while IFS= read -r -d '' file; do
  if grep -q '^    newTag: ' "$file"; then
    sed -i "s|^    newTag: .*|    digest: $digest|" "$file"
    pinned=$((pinned + 1))
  fi
done < <(find "$work/deploy" -name kustomization.yaml -print0 | sort -z)
# The DaemonSet's base, the uninstall Job's and the controller's: each runs the image, each
# must be pinned.
[[ $pinned -eq 3 ]] || die "pinned $pinned kustomizations, expected 3 (deploy/base, deploy/uninstall/job, deploy/controller/base)"
if grep -rn 'newTag' "$work/deploy" >&2; then
  die "a tag is left in deploy/ (above)"
fi
tar --sort=name --mtime="@${SOURCE_DATE_EPOCH:-0}" --owner=0 --group=0 --numeric-owner \
  --mode=u+rwX,go+rX,go-w -C "$work" -cf - deploy | gzip -9n >"$out"
