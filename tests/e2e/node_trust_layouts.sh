#!/usr/bin/env bash
# The static binary with no CA flag on the trust store of a real node, built by
# bench/node_layout.sh (a private mount namespace; the machine's /etc is never changed): the
# Mozilla CAs plus the test CA, added as update-ca-certificates (Debian/Ubuntu) and update-ca-trust
# (RHEL/Fedora: /etc/ssl/certs a symlink to /etc/pki/tls/certs, no hash links) add it. For each,
# the lookup must discover the distribution's bundle and succeed; with an unrelated CA added
# instead it must be refused, naming that bundle. Needs root; exits 77 (skip) otherwise.
# With EMULATOR (qemu-user, for a binary of another architecture) the provider runs under it.
# usage: node_trust_layouts.sh PROVIDER_BINARY FAKE_QUAY_BINARY [EMULATOR]
set -euo pipefail
provider=${1:?provider}
fake_quay=${2:?fake-quay}
emulator=${3:-}
layout="$(cd "$(dirname "$0")/../../bench" && pwd)/node_layout.sh"

if [[ $(id -u) -ne 0 ]] || ! unshare --mount true 2>/dev/null; then
  echo "SKIP: a private mount namespace needs root"
  exit 77
fi
if [[ ! -d /usr/share/ca-certificates/mozilla ]]; then
  echo "SKIP: no Mozilla CAs (package ca-certificates)"
  exit 77
fi

work=$(mktemp -d)
source "$(dirname "$0")/../../scripts/fake-quay.bash"
start_fake_quay "$fake_quay" "$work" --robot team+puller --namespace app --service-account puller
host=$(cat "$work/host")
token=$(cat "$work/sa-token")
printf '%s' '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"'"$host"'/team/app","serviceAccountToken":"'"$token"'","serviceAccountAnnotations":{"quay.io/federated-robot-account":"team+puller"}}' \
  >"$work/request.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
  -subj "/O=qcp tests/CN=an unrelated CA" -days 1 -out "$work/unrelated.pem" 2>/dev/null

lookup() {  # LAYOUT CA: exit code; stdout and stderr in $work/out, $work/err
  set +e
  env -u SSL_CERT_FILE -u SSL_CERT_DIR "$layout" "$1" "$2" ${emulator:+"$emulator"} "$provider" --log-level=debug \
    <"$work/request.json" >"$work/out" 2>"$work/err"
  local code=$?
  set -e
  return $code
}

fail() {
  echo "FAIL: $*" >&2
  cat "$work/err" >&2
  exit 1
}

for case in "debian /etc/ssl/certs/ca-certificates.crt" "rhel /etc/pki/tls/certs/ca-bundle.crt"; do
  read -r name bundle <<<"$case"
  lookup "$name" "$work/ca.pem" || fail "$name: exit code $? with the test CA added"
  grep -q '"kind":"CredentialProviderResponse"' "$work/out" || fail "$name: no response"
  grep -q "CAs from $bundle" "$work/err" || fail "$name: the bundle used is not $bundle"
  if lookup "$name" "$work/unrelated.pem"; then
    fail "$name: a lookup succeeded without the test CA"
  fi
  [[ ! -s $work/out ]] || fail "$name: output on stdout for a refused lookup"
  grep -q "TLS certificate problem with Quay at $host (trusted CAs from $bundle)" "$work/err" \
    || fail "$name: the refusal does not name $bundle"
  echo "ok: $name node, no CA flag: $bundle found and used; an unrelated CA refused"
done
