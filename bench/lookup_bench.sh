#!/usr/bin/env bash
# One whole lookup (process start -> response on stdout) against the loopback fake Quay, next to
# a bare `curl` of the same exchange. Prints figures; asserts nothing (targets live in the README):
#   wall and CPU per lookup <= curl's, peak RSS <= 8 MiB, stripped binary <= 6 MiB.
# usage: lookup_bench.sh PROVIDER_BINARY FAKE_QUAY_BINARY [RUNS]
set -euo pipefail

provider=${1:?provider binary}
fake_quay=${2:?fake-quay binary}
runs=${3:-200}

work=$(mktemp -d)
source "$(dirname "$0")/../scripts/fake-quay.bash"
start_fake_quay "$fake_quay" "$work" --robot team+puller --namespace demo --service-account puller

host=$(cat "$work/host")
token=$(cat "$work/sa-token")
request='{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"'"$host"'/team/app","serviceAccountToken":"'"$token"'","serviceAccountAnnotations":{"quay.io/federated-robot-account":"team+puller"}}'
printf '%s' "$request" >"$work/request.json"
printf 'user = "team+puller:%s"\n' "$token" >"$work/curl.cfg"  # keeps the token out of argv

provider_once() { "$provider" --ca-file "$work/ca.pem" <"$work/request.json" >/dev/null 2>&1; }
curl_once() {
  curl -sS --fail --cacert "$work/ca.pem" -K "$work/curl.cfg" -H 'Accept: application/json' \
    "https://$host/oauth2/federation/robot/token" >/dev/null 2>&1
}

# Both must work before they are timed.
provider_once || { echo "provider lookup failed" >&2; exit 1; }
curl_once || { echo "curl exchange failed" >&2; exit 1; }

# Aggregate wall and CPU (user+sys of the children) over many runs: one run is ~ms, below the
# resolution of per-process timers.
measure() {  # name, function
  local name=$1 fn=$2 start end usage
  start=$(date +%s%N)
  usage=$( { TIMEFORMAT='%U %S'; time (for ((i = 0; i < runs; i++)); do "$fn"; done); } 2>&1)
  end=$(date +%s%N)
  local user=${usage% *} sys=${usage#* }
  awk -v n="$runs" -v name="$name" -v wall="$(( (end - start) / 1000 ))" -v u="$user" -v s="$sys" \
    'BEGIN { printf "%-26s wall %7.2f ms/lookup   cpu %7.2f ms/lookup (user %.2f + sys %.2f)\n",
             name, wall / n / 1000, (u + s) * 1000 / n, u * 1000 / n, s * 1000 / n }'
}

peak_rss_kib() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }

echo "lookup benchmark: $runs runs each against fake Quay at https://$host"
measure "quay-credential-provider" provider_once
measure "curl (same exchange)" curl_once
printf '%-26s %s KiB\n' "peak RSS provider" \
  "$(peak_rss_kib "$provider" --ca-file "$work/ca.pem" <"$work/request.json")"
printf '%-26s %s KiB\n' "peak RSS curl" \
  "$(peak_rss_kib curl -sS --cacert "$work/ca.pem" -K "$work/curl.cfg" "https://$host/oauth2/federation/robot/token")"
stripped=$(mktemp)
cp "$provider" "$stripped" && strip "$stripped"
printf '%-26s %s bytes (%.2f MiB), %s\n' "stripped binary" "$(stat -c %s "$stripped")" \
  "$(awk -v b="$(stat -c %s "$stripped")" 'BEGIN { print b / 1048576 }')" \
  "$(file -b "$provider" | cut -d, -f1-2,4 | tr -s ' ')"
rm -f "$stripped"
