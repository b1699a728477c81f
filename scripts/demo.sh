#!/usr/bin/env bash
# The main job on an embedded default: build the static binary, start a fake Quay + OIDC issuer on
# loopback, pipe a real kubelet request through the binary, show the response, and prove the
# credential works: a real registry (Debian's docker-registry, token auth at the fake Quay)
# takes a push and a pull by skopeo with it; then the controller, against a fake API server, writes
# a pull Secret that skopeo pulls with. Installs its own dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset static >/dev/null
cmake --build --preset static --target quay-credential-provider fake-quay

provider=build/static/quay-credential-provider
fake_quay=build/static/tests/support/fake-quay
work=$(mktemp -d)
source "$(dirname "$0")/fake-quay.bash"
start_fake_quay "$fake_quay" "$work" --robot team+puller --namespace demo --service-account puller \
  --allow-push --kube-api
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

heading "3. The credential works at a real registry: docker-registry with token auth at the fake Quay"
password=$(printf '%s' "$response" | sed -E 's/.*"password":"([^"]*)".*/\1/')
registry_port=$(( 20000 + RANDOM % 20000 ))
registry=127.0.0.1:$registry_port
mkdir -p "$work/registry/storage" "$work/certs"
cp "$work/ca.pem" "$work/certs/ca.crt"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry/storage}}
http:
  addr: $registry
  tls: {certificate: $work/server.pem, key: $work/server-key.pem}
auth:
  token:
    realm: https://$host/v2/auth
    service: $(cat "$work/registry-service")
    issuer: $(cat "$work/registry-token-issuer")
    rootcertbundle: $work/registry-token-signers.pem
EOF
docker-registry serve "$work/registry/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; _stop_fake_quay' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$registry_port") 2>/dev/null && break; sleep 0.1; done
# A one-file image as an OCI layout, pushed and pulled with the robot's Quay token.
mkdir -p "$work/rootfs" "$work/layout/blobs/sha256"
echo "hello from quay-credential-provider" >"$work/rootfs/hello.txt"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/layer.tar" -C "$work/rootfs" .
blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$work/layout/blobs/sha256/$d"; echo "$d"; }
layer=$(blob "$work/layer.tar")
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$layer" >"$work/config.json"
config=$(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
  "$config" "$(stat -c %s "$work/config.json")" "$layer" "$(stat -c %s "$work/layer.tar")" >"$work/manifest.json"
manifest=$(blob "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
  "$manifest" "$(stat -c %s "$work/manifest.json")" >"$work/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/policy.json"
creds="team+puller:$password"
skopeo_() { skopeo --policy "$work/policy.json" "$@"; }
echo "\$ skopeo copy --dest-creds team+puller:<Quay token> oci:layout:v1 docker://$registry/team/app:v1"
skopeo_ copy -q --dest-cert-dir "$work/certs" --dest-creds "$creds" "oci:$work/layout:v1" "docker://$registry/team/app:v1"
echo "\$ skopeo copy --src-creds team+puller:<Quay token> docker://$registry/team/app:v1 oci:pulled:v1"
skopeo_ copy -q --src-cert-dir "$work/certs" --src-creds "$creds" "docker://$registry/team/app:v1" "oci:$work/pulled:v1"
[[ -f $work/pulled/blobs/sha256/$config ]] || { echo "the pull did not bring the image" >&2; exit 1; }
echo "pulled: the image (config sha256:${config:0:12}...) is back"
set +e
skopeo_ copy -q --src-cert-dir "$work/certs" "docker://$registry/team/app:v1" "oci:$work/anonymous:v1" 2>/dev/null
echo "without the credential: exit code $? (the registry wants a token; Quay gives none)"
set -e

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
heading "6. No kubelet to configure? The controller keeps a pull Secret for the annotated ServiceAccount"
# The fake Kubernetes API server (in fake-quay) holds ServiceAccount demo/puller annotated
# team+puller; its TokenRequests are signed by the fake Quay's issuer.
api=$(cat "$work/api-url")
api_token=$(cat "$work/admin-token")  # a reader's, as kubectl get/describe would use
kube_get() { curl -fsS --cacert "$work/ca.pem" -H "Authorization: Bearer $api_token" "$api$1"; }
echo "\$ $provider controller --kubeconfig kubeconfig --quay-host $host --registry $registry --ca-file ca.pem"
"$provider" controller --kubeconfig "$work/kubeconfig" --quay-host "$host" --registry "$registry" \
  --ca-file "$work/ca.pem" --health-probe-bind-address 127.0.0.1:0 2>"$work/controller.log" &
controller_pid=$!
trap 'kill $controller_pid 2>/dev/null || true; kill $registry_pid 2>/dev/null; _stop_fake_quay' EXIT
for _ in $(seq 100); do
  kube_get /api/v1/namespaces/demo/secrets/puller-quay-pull >"$work/secret.json" 2>/dev/null && break
  sleep 0.1
done
jq -c '{name: .metadata.name, type, labels: .metadata.labels, annotations: .metadata.annotations,
        owner: .metadata.ownerReferences[0].name}' "$work/secret.json"
kube_get /api/v1/namespaces/demo/serviceaccounts/puller | jq -c '{imagePullSecrets}'
kube_get /api/v1/namespaces/demo/events | jq -r '.items[] | "Event: \(.type) \(.reason): \(.message)"'
jq -r '.data[".dockerconfigjson"]' "$work/secret.json" | base64 -d >"$work/secret-auth.json"
echo "\$ skopeo copy --src-authfile <the Secret's .dockerconfigjson> docker://$registry/team/app:v1 oci:from-secret:v1"
skopeo_ copy -q --src-cert-dir "$work/certs" --src-authfile "$work/secret-auth.json" \
  "docker://$registry/team/app:v1" "oci:$work/from-secret:v1"
[[ -f $work/from-secret/blobs/sha256/$config ]] || { echo "the pull did not bring the image" >&2; exit 1; }
echo "pulled with the Secret the controller wrote"
kill -TERM "$controller_pid"
wait "$controller_pid" && echo "controller: SIGTERM, exit code 0"

heading "Done: one static binary ($(du -h "$provider" | cut -f1), $(file -b "$provider" | cut -d, -f1,4 | tr -s ' '))"
