#!/usr/bin/env bash
# The main job on an embedded default: build the static binary, start a fake Quay + OIDC issuer on
# loopback, pipe a real kubelet request through the binary, show the response, and prove the
# credential works at the registry. Installs its own dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset static >/dev/null
cmake --build --preset static --target quay-credential-provider fake-quay

provider=build/static/quay-credential-provider
fake_quay=build/static/tests/support/fake-quay
work=$(mktemp -d)
source "$(dirname "$0")/fake-quay.bash"
start_fake_quay "$fake_quay" "$work" --robot team+puller --namespace demo --service-account puller
host=$(cat "$work/host")
token=$(cat "$work/sa-token")
shorten() { sed -E 's/"(serviceAccountToken|password)":"([^".]{10})[^"]*"/"\1":"\2..."/g'; }
heading() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

request='{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"'"$host"'/team/app","serviceAccountToken":"'"$token"'","serviceAccountAnnotations":{"quay.io/federated-robot-account":"team+puller"}}'

heading "Fake Quay with an OIDC issuer at https://$host; robot team+puller is bound to system:serviceaccount:demo:puller"
heading "1. The kubelet writes this request to stdin (tokens shortened for display)"
printf '%s\n' "$request" | shorten

heading "2. $provider --ca-file $work/ca.pem answers on stdout"
response=$(printf '%s' "$request" | "$provider" --ca-file "$work/ca.pem")
printf '%s\n' "$response" | shorten

heading "3. The credential works: the registry's token endpoint accepts robot + Quay token"
password=$(printf '%s' "$response" | sed -E 's/.*"password":"([^"]*)".*/\1/')
printf 'user = "team+puller:%s"\n' "$password" >"$work/curl.cfg"
status=$(curl -sS --cacert "$work/ca.pem" -K "$work/curl.cfg" -o "$work/v2auth.json" -w '%{http_code}' \
  "https://$host/v2/auth?service=$host&scope=repository:team/app:pull")
echo "GET /v2/auth?scope=repository:team/app:pull -> HTTP $status"
[[ $status == 200 ]] || { echo "the credential was refused" >&2; exit 1; }

heading "4. A service account annotated with a robot Quay does not know: Quay's refusal, passed on"
bad_request=${request/team+puller/team+ghost}
set +e
printf '%s' "$bad_request" | "$provider" --ca-file "$work/ca.pem" >"$work/bad.out"
code=$?
set -e
echo "exit code $code, stdout $(wc -c <"$work/bad.out") bytes"

heading "5. Diagnostics: check the kubelet config, and which federation binding Quay needs"
# examples/credential-provider-config-1.34.yaml, with the fake Quay's host in matchImages
sed "s/quay\.example\.com:8443/$host/" examples/credential-provider-config-1.34.yaml >"$work/config.yaml"
echo "\$ $provider check-config --image $host/team/app $work/config.yaml"
"$provider" check-config --image "$host/team/app" "$work/config.yaml"
echo "\$ ... | $provider inspect --robot team+puller -"
set +e
# Exit 1 here: the fake issuer lives on loopback, which a real Quay could not reach.
printf '%s\n' "$token" | "$provider" inspect --robot team+puller -
set -e
heading "Done: one static binary ($(du -h "$provider" | cut -f1), $(file -b "$provider" | cut -d, -f1,4 | tr -s ' '))"
