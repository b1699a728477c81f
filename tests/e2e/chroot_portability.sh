#!/usr/bin/env bash
# The static binary on a "foreign" node: a bare chroot holding only the binary, /etc/hosts with a
# test host name, /etc/resolv.conf, an nsswitch.conf naming NSS modules that do not exist, and the
# test CA at the RHEL bundle path. The lookup must resolve the name (c-ares reads /etc/hosts, no
# NSS module is loaded), find the CA by probing, and succeed. Needs root (chroot); exits 77 (skip)
# otherwise.
# With EMULATOR (a static qemu-user, for a binary of another architecture), the emulator is the
# one other file in the chroot and runs the binary there; the fake Quay stays native.
# usage: chroot_portability.sh PROVIDER_BINARY FAKE_QUAY_BINARY [EMULATOR]
set -euo pipefail
provider=${1:?provider}
fake_quay=${2:?fake-quay}
emulator=${3:-}

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: chroot needs root"
  exit 77
fi

work=$(mktemp -d)
root="$work/root"
source "$(dirname "$0")/../../scripts/fake-quay.bash"
start_fake_quay "$fake_quay" "$work" --robot team+puller --namespace app --service-account puller
port=$(cut -d: -f2 <"$work/host")

mkdir -p "$root/etc/pki/tls/certs"
cp "$provider" "$root/quay-credential-provider"
run_in_root=(/quay-credential-provider)
if [[ -n $emulator ]]; then
  cp "$emulator" "$root/emulator"
  run_in_root=(/emulator /quay-credential-provider)
fi
cp "$work/ca.pem" "$root/etc/pki/tls/certs/ca-bundle.crt"
echo "127.0.0.1 quay.test" >"$root/etc/hosts"
echo "nameserver 127.0.0.1" >"$root/etc/resolv.conf"
printf 'hosts: files mymachines resolve [!UNAVAIL=return] myhostname dns\npasswd: files systemd\n' \
  >"$root/etc/nsswitch.conf"
if [[ -n $(find "$root" -name '*.so*') ]]; then
  echo "FAIL: the chroot must hold no shared objects" >&2
  exit 1
fi

token=$(cat "$work/sa-token")
request='{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"quay.test:'"$port"'/team/app","serviceAccountToken":"'"$token"'","serviceAccountAnnotations":{"quay.io/federated-robot-account":"team+puller"}}'

set +e
printf "%s" "$request" | env -i "$(command -v chroot)" "$root" "${run_in_root[@]}" --log-level=debug \
  >"$work/out" 2>"$work/err"
code=$?
set -e
cat "$work/err"
if [[ $code -ne 0 ]]; then
  echo "FAIL: exit code $code in the chroot" >&2
  exit 1
fi
grep -q "\"quay.test:$port\":{\"username\":\"team+puller\"" "$work/out" ||
  { echo "FAIL: unexpected response: $(cut -c1-200 "$work/out")" >&2; exit 1; }
grep -q "CAs from /etc/pki/tls/certs/ca-bundle.crt" "$work/err" ||
  { echo "FAIL: the RHEL bundle path was not probed" >&2; exit 1; }
if grep -q "${token: -20}" "$work/err"; then
  echo "FAIL: token in stderr" >&2
  exit 1
fi
echo "PASS: static binary resolved quay.test via /etc/hosts and trusted the RHEL-path CA in a bare chroot"
