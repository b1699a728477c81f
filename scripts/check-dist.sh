#!/usr/bin/env bash
# check-dist.sh DIST: verifies a release directory as a node operator would, and more.
#   - SHA256SUMS lists every other file in DIST, and `sha256sum -c` passes;
#   - each binary is a static ELF of the architecture its name says, that runs here (under
#     qemu-user for arm64 on another machine) and names its version and commit;
#   - each binary's SBOM describes it by its SHA-256;
#   - the OCI image archive's index lists linux/amd64 and linux/arm64, and each platform's image
#     holds exactly that binary (byte for byte), the LICENSE and the SBOM, with the binary as its
#     entrypoint.
# Prints one line per check; exits non-zero at the first failure.
set -euo pipefail
dist=$(cd "${1:?usage: check-dist.sh DIST}" && pwd)
license=$(cd "$(dirname "$0")/.." && pwd)/LICENSE
cd "$dist"

fail() {
  printf 'check-dist: FAIL: %s\n' "$*" >&2
  exit 1
}

[[ -f SHA256SUMS ]] || fail "no SHA256SUMS"
listed=$(awk '{ print $2 }' SHA256SUMS | sed 's/^\*//' | sort)
present=$(find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | sort)
[[ $listed == "$present" ]] || fail "SHA256SUMS lists [$listed] but dist holds [$present]"
sha256sum --quiet -c SHA256SUMS || fail "sha256sum -c SHA256SUMS"
echo "check-dist: SHA256SUMS covers $(wc -l <SHA256SUMS) files and verifies"

declare -A machine=([amd64]="x86-64" [arm64]="ARM aarch64")
declare -A emulator=([amd64]="" [arm64]="qemu-aarch64-static")
for binary in quay-credential-provider-linux-*; do
  [[ $binary == *.* ]] && continue
  arch=${binary##*-}
  [[ -n ${machine[$arch]:-} ]] || fail "$binary: unknown architecture $arch"
  description=$(file -b "$binary")
  [[ $description == *"statically linked"* ]] || fail "$binary is not static: $description"
  [[ $description == *", ${machine[$arch]},"* ]] || fail "$binary is not ${machine[$arch]}: $description"
  run=("./$binary")
  if [[ $arch != "$(dpkg --print-architecture)" ]]; then
    run=("${emulator[$arch]}" "./$binary")
  fi
  version=$("${run[@]}" --version) || fail "$binary --version failed"
  [[ $version =~ \(commit\ [0-9a-f]{12}\; ]] || fail "$binary names no commit: $version"
  sbom="$binary.spdx.json"
  [[ -f $sbom ]] || fail "no $sbom"
  grep -q "\"checksumValue\" : \"$(sha256sum "$binary" | cut -d' ' -f1)\"" "$sbom" \
    || fail "$sbom does not carry $binary's SHA-256"
  echo "check-dist: $binary: static ${machine[$arch]}, $version, SBOM matches"
done

image=quay-credential-provider-image.oci.tar
[[ -f $image ]] || fail "no $image"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
skopeo inspect --raw "oci-archive:$image" >"$work/index.json" || fail "skopeo cannot read $image"
platforms=$(jq -r '.manifests[].platform | "\(.os)/\(.architecture)"' "$work/index.json" | sort | xargs)
[[ $platforms == "linux/amd64 linux/arm64" ]] || fail "$image: index platforms are [$platforms]"
for arch in amd64 arm64; do
  skopeo --override-arch "$arch" copy --quiet "oci-archive:$image" "dir:$work/$arch" \
    || fail "$image: no linux/$arch image"
  config=$(jq -r '.config.digest | sub("sha256:"; "")' "$work/$arch/manifest.json")
  jq -e --arg arch "$arch" '.os == "linux" and .architecture == $arch
      and .config.Entrypoint == ["/quay-credential-provider"]' "$work/$arch/$config" >/dev/null \
    || fail "$image: linux/$arch config: $(jq -c '{os, architecture, config}' "$work/$arch/$config")"
  mapfile -t layers < <(jq -r '.layers[].digest | sub("sha256:"; "")' "$work/$arch/manifest.json")
  [[ ${#layers[@]} -eq 1 ]] || fail "$image: linux/$arch has ${#layers[@]} layers, not 1"
  mkdir "$work/$arch/root"
  tar -C "$work/$arch/root" -xzf "$work/$arch/${layers[0]}"
  files=$(cd "$work/$arch/root" && find . -type f | sort | xargs)
  doc=./usr/share/doc/quay-credential-provider
  [[ $files == "./quay-credential-provider $doc/LICENSE $doc/quay-credential-provider.spdx.json" ]] \
    || fail "$image: linux/$arch holds [$files]"
  cmp -s "$work/$arch/root/quay-credential-provider" "quay-credential-provider-linux-$arch" \
    || fail "$image: linux/$arch's binary is not quay-credential-provider-linux-$arch"
  cmp -s "$work/$arch/root/$doc/quay-credential-provider.spdx.json" \
    "quay-credential-provider-linux-$arch.spdx.json" || fail "$image: linux/$arch's SBOM differs"
  cmp -s "$work/$arch/root/$doc/LICENSE" "$license" || fail "$image: linux/$arch's LICENSE differs"
  echo "check-dist: $image: linux/$arch, FROM scratch: the binary (entrypoint), LICENSE, SBOM"
done

# deploy/ as released: every image it runs is this image index, by digest, and no tag is left.
deploy=quay-credential-provider-deploy.tar.gz
[[ -f $deploy ]] || fail "no $deploy"
index_digest=sha256:$(sha256sum <"$work/index.json" | cut -d' ' -f1)
mkdir "$work/released"
tar -C "$work/released" -xzf "$deploy" || fail "$deploy does not unpack"
! grep -rq 'newTag' "$work/released" || fail "$deploy still names a tag"
pins=$(grep -rh '^    digest: ' "$work/released/deploy" | sort | uniq -c | xargs)
# The node installer's DaemonSet, its uninstall Job and the controller's Deployment.
[[ $pins == "3 digest: $index_digest" ]] || fail "$deploy pins [$pins], not the image's $index_digest three times"
if command -v kubectl >/dev/null; then
  for dir in overlays/kubeadm overlays/kind overlays/k3s uninstall/kubeadm uninstall/kind uninstall/k3s \
    controller/cluster controller/namespaced; do
    images=$(kubectl kustomize "$work/released/deploy/$dir" | awk '$1 == "image:" || $2 == "image:" { print $NF }' | sort -u | xargs)
    [[ $images == "registry.example.com/quay-credential-provider@$index_digest" ]] \
      || fail "$deploy: $dir runs [$images]"
  done
  echo "check-dist: $deploy: every overlay, uninstall Job and controller variant runs the image by its index digest (rendered with kubectl)"
else
  echo "check-dist: $deploy: pinned to the index digest (kubectl is not here: overlays not rendered)"
fi
