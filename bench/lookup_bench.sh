#!/usr/bin/env bash
# One whole lookup (process start -> response on stdout) against the loopback fake Quay, on a
# real node's trust store and with one CA, next to a bare `curl` of the same exchange. Prints
# figures; asserts nothing (the targets live in the README):
#   instructions per lookup (valgrind --tool=callgrind, the whole process: stable on shared
#   machines, unlike time) with no CA flag on a Debian and on a RHEL node <= 1.15x the one-CA
#   lookup, which is <= 12 M; CPU per lookup <= curl's; peak RSS <= 8 MiB; binary <= 6 MiB.
# The node layouts need root (bench/node_layout.sh: a private mount namespace); without it
# their rows say so.
# usage: lookup_bench.sh PROVIDER_BINARY FAKE_QUAY_BINARY [RUNS]
set -euo pipefail

provider=${1:?provider binary}
fake_quay=${2:?fake-quay binary}
runs=${3:-200}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d)
source "$here/../scripts/fake-quay.bash"
start_fake_quay "$fake_quay" "$work" --robot team+puller --namespace demo --service-account puller

host=$(cat "$work/host")
token=$(cat "$work/sa-token")
request='{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"'"$host"'/team/app","serviceAccountToken":"'"$token"'","serviceAccountAnnotations":{"quay.io/federated-robot-account":"team+puller"}}'
printf '%s' "$request" >"$work/request.json"
printf 'user = "team+puller:%s"\n' "$token" >"$work/curl.cfg"  # keeps the token out of argv

# name|prefix command (node layout or none)|provider arguments
cases=(
  "Debian node, no CA flag|$here/node_layout.sh debian $work/ca.pem|"
  "RHEL node, no CA flag|$here/node_layout.sh rhel $work/ca.pem|"
  "--ca-file, one CA||--ca-file $work/ca.pem"
)
curl_cmd=(curl -sS --fail --cacert "$work/ca.pem" -K "$work/curl.cfg" -H 'Accept: application/json'
  "https://$host/oauth2/federation/robot/token")

# The provider must find the node's CAs itself: no variable of this shell may point it anywhere.
unset SSL_CERT_FILE SSL_CERT_DIR

field() { local IFS='|'; read -r -a parts <<<"$1"; printf '%s' "${parts[$2]:-}"; }
can_run() {  # prefix: a layout needs root; the check also proves the lookup works there
  # shellcheck disable=SC2086
  $1 "$provider" $2 <"$work/request.json" >"$work/out.json" 2>"$work/err.txt" \
    && grep -q CredentialProviderResponse "$work/out.json"
}
millions() { awk -v n="$1" 'BEGIN { printf "%.2f M", n / 1e6 }'; }
instructions() {  # prefix, command...: callgrind's instruction count for the whole process
  local prefix=$1
  shift
  # shellcheck disable=SC2086
  $prefix valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$work/vg.log" "$@" \
    <"$work/request.json" >/dev/null 2>&1
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/vg.log"
}
cpu_per_lookup() {  # prefix, command...: wall and user+sys CPU per run, timed inside the prefix
  local prefix=$1
  shift
  # shellcheck disable=SC2086,SC2016
  $prefix bash -c '
    runs=$1 input=$2
    shift 2
    start=$(date +%s%N)
    usage=$( { TIMEFORMAT="%U %S"; time (for ((i = 0; i < runs; i++)); do "$@" <"$input" >/dev/null 2>&1; done); } 2>&1)
    end=$(date +%s%N)
    awk -v n="$runs" -v wall="$(( (end - start) / 1000 ))" -v u="${usage% *}" -v s="${usage#* }" \
      "BEGIN { printf \"wall %6.2f ms   cpu %6.2f ms\", wall / n / 1000, (u + s) * 1000 / n }"
  ' timing "$runs" "$work/request.json" "$@"
}
peak_rss_kib() {  # prefix, command...
  local prefix=$1
  shift
  # shellcheck disable=SC2086
  $prefix /usr/bin/time -f '%M' "$@" <"$work/request.json" 2>&1 >/dev/null | tail -n 1
}

"${curl_cmd[@]}" >/dev/null || { echo "curl exchange failed" >&2; exit 1; }
can_run "" "--ca-file $work/ca.pem" || { echo "provider lookup failed:" >&2; cat "$work/err.txt" >&2; exit 1; }

echo "lookup benchmark against fake Quay at https://$host ($(nproc) cores)"
one_ca=$(instructions "" "$provider" --ca-file "$work/ca.pem")
printf '\n%-28s %14s %9s   %-36s %s\n' "" "instructions" "vs 1 CA" "per lookup ($runs runs)" "peak RSS"
for entry in "${cases[@]}"; do
  name=$(field "$entry" 0) prefix=$(field "$entry" 1) args=$(field "$entry" 2)
  if ! can_run "$prefix" "$args"; then
    printf '%-28s %s\n' "$name" "not measured: $(tail -n 1 "$work/err.txt")"
    continue
  fi
  # shellcheck disable=SC2086
  count=$(instructions "$prefix" "$provider" $args)
  # shellcheck disable=SC2086
  printf '%-28s %14s %8.2fx   %-36s %s KiB\n' "$name" "$(millions "$count")" \
    "$(awk -v a="$count" -v b="$one_ca" 'BEGIN { print a / b }')" \
    "$(cpu_per_lookup "$prefix" "$provider" $args)" "$(peak_rss_kib "$prefix" "$provider" $args)"
done
count=$(instructions "" "${curl_cmd[@]}")
printf '%-28s %14s %8.2fx   %-36s %s KiB\n' "curl, same exchange, 1 CA" "$(millions "$count")" \
  "$(awk -v a="$count" -v b="$one_ca" 'BEGIN { print a / b }')" \
  "$(cpu_per_lookup "" "${curl_cmd[@]}")" "$(peak_rss_kib "" "${curl_cmd[@]}")"

stripped=$(mktemp)
cp "$provider" "$stripped" && strip "$stripped"
printf '\n%-28s %s bytes (%.2f MiB), %s\n' "stripped binary" "$(stat -c %s "$stripped")" \
  "$(awk -v b="$(stat -c %s "$stripped")" 'BEGIN { print b / 1048576 }')" \
  "$(file -b "$provider" | cut -d, -f1-2,4 | tr -s ' ')"
rm -f "$stripped"
