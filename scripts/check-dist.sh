#!/usr/bin/env bash
# check-dist.sh DIST: verifies a release directory as a node operator would, and more.
#   - SHA256SUMS lists every other file in DIST, and `sha256sum -c` passes;
#   - each binary is a static ELF that runs here (or under qemu-user for another
#     architecture, when installed) and names its version and commit;
#   - each binary's SBOM describes it by its SHA-256.
# Prints one line per check; exits non-zero at the first failure.
set -euo pipefail
dist=${1:?usage: check-dist.sh DIST}
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

for binary in quay-credential-provider-linux-*; do
  [[ $binary == *.* ]] && continue
  description=$(file -b "$binary")
  [[ $description == *"statically linked"* ]] || fail "$binary is not static: $description"
  version=$("./$binary" --version) || fail "$binary --version failed"
  [[ $version =~ \(commit\ [0-9a-f]{12}\; ]] || fail "$binary names no commit: $version"
  sbom="$binary.spdx.json"
  [[ -f $sbom ]] || fail "no $sbom"
  grep -q "\"checksumValue\" : \"$(sha256sum "$binary" | cut -d' ' -f1)\"" "$sbom" \
    || fail "$sbom does not carry $binary's SHA-256"
  echo "check-dist: $binary: static, $version, SBOM matches"
done
