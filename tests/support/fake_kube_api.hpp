#pragma once
// FakeKubeApi: a fake kube-apiserver over real HTTPS on loopback, answering as the recorded
// 1.36.2 apiserver does (../shared/reference/kube-api/, cited per answer in the .cpp). It
// serves what this project's code asks of an API server:
//
//   GET  /api/v1/nodes/{name}                                   the Node (04e's 404 shape)
//   GET  /api/v1[/namespaces/{ns}]/{serviceaccounts|secrets}     LIST: limit/continue (01a-01c),
//        ?labelSelector=k=v,k (secrets)                         or WATCH (watch=1): one event
//        ?watch=1&resourceVersion=N&allowWatchBookmarks=true    line per chunk (02a, 02c),
//        &timeoutSeconds=S                                      ERROR 410 past the window (03a)
//   GET|PUT|PATCH /api/v1/namespaces/{ns}/serviceaccounts/{n}   merge patches replace
//                                                               imagePullSecrets (06a, 06b)
//   POST /api/v1/namespaces/{ns}/serviceaccounts/{n}/token      TokenRequest (04a-04c, 04e)
//   POST /api/v1/namespaces/{ns}/secrets, GET|PUT|DELETE .../{n} (05a-05g)
//   POST /api/v1/namespaces/{ns}/events                         (08a)
//   GET  /api/v1[/namespaces/{ns}]/pods?fieldSelector=status.phase=Pending  LIST or WATCH
//        (10a: unsupported field labels 400; a watch sees objects enter and leave a selector)
//   POST /api/v1/namespaces/{ns}/pods/{n}/eviction              (10c, 10d, 10f, 10g)
//   POST|GET|PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{n}]: MicroTime and
//        resourceVersion checked (09a-09d)
//   anything else                                               404 NotFound Status
//
// Authentication is by bearer token (add_user), authorization by the verbs granted (allow):
// no token is system:anonymous (403), an unknown one 401 (11a). Deleting a ServiceAccount
// deletes the Secrets it owns, and those whose owner uid is not the live one's (05h).

#include <chrono>
#include <compare>
#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "https_server.hpp"
#include "jwt.hpp"
#include "pki.hpp"

namespace qcp::test {

// What the controller is granted, as deploy/controller/ grants it (its ClusterRole, or a Role per
// namespace, and the leader-election Role): the fake grants exactly this, so the integration
// tests pass only if it is enough, and the deploy tests check deploy/ says the same.
struct Grant {
  std::string verb;
  std::string resource;  // "secrets", "serviceaccounts/token", "leases"
  auto operator<=>(const Grant& other) const = default;
};
const std::vector<Grant>& controller_grants();       // in every namespace it serves
const std::vector<Grant>& leader_election_grants();  // in its own namespace

class FakeKubeApi final : public LoopbackHttpsServer {
 public:
  explicit FakeKubeApi(const TestPki& pki);
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;
  FakeKubeApi(FakeKubeApi&&) = delete;
  FakeKubeApi& operator=(FakeKubeApi&&) = delete;
  ~FakeKubeApi() override;

  // KUBERNETES_SERVICE_HOST as a pod sees it: the address without the port.
  [[nodiscard]] std::string service_host() const;

  // --- who may do what ------------------------------------------------------------------------
  // A bearer token the server authenticates as `user` ("system:serviceaccount:ns:name").
  void add_user(const std::string& token, const std::string& user);
  // Grants `user` the verb on the resource in `namespace_name`, or in every namespace ("get",
  // "nodes"; "create", "serviceaccounts/token").
  void allow(const std::string& user, const std::string& verb, const std::string& resource,
             const std::string& namespace_name = "");
  // controller_grants() in every namespace and leader_election_grants() in `lease_namespace`
  // (deploy/controller/; kube-api/controller-rbac.yaml grants a little more).
  void allow_controller(const std::string& user, const std::string& lease_namespace = "qcp-system");
  // TokenRequests are signed by `signer` as `issuer` (a FakeQuay's issuer: the exchange is real).
  void sign_tokens_with(const RsaSigner& signer, const std::string& issuer);

  // --- objects, as an admin changes them -----------------------------------------------------
  void add_node(const std::string& name, const std::string& kubelet_version);
  void add_service_account(const std::string& ns, const std::string& name,
                           const std::map<std::string, std::string>& annotations = {});
  // Sets (or, with nullopt, removes) one annotation.
  void annotate(const std::string& ns, const std::string& name, const std::string& key,
                const std::optional<std::string>& value);
  // Replaces imagePullSecrets as `kubectl edit` would.
  void set_image_pull_secrets(const std::string& ns, const std::string& name,
                              const std::vector<std::string>& secrets);
  void delete_service_account(const std::string& ns, const std::string& name);
  // A pod created as the ServiceAccount admission plugin admits it (kube-api/07a-07c): the
  // account's imagePullSecrets copied in when the pod names none of its own. nullopt (refused)
  // when the ServiceAccount does not exist. Pending, one container running `image`; owned by a
  // ReplicaSet (ownerReferences, controller: true) unless !controlled.
  std::optional<nlohmann::json> create_pod(
      const std::string& ns, const std::string& name, const std::string& service_account,
      const std::vector<std::string>& own_pull_secrets = {},
      const std::string& image = "quay.example.com/team/app:v1", bool controlled = true);
  // The kubelet's status for a pod whose image cannot be pulled (kube-api/10b): Pending, the
  // container waiting with `reason` (ErrImagePull, ImagePullBackOff) and the runtime's message.
  void set_pull_failure(const std::string& ns, const std::string& name,
                        const std::string& reason = "ImagePullBackOff");
  void set_pod_phase(const std::string& ns, const std::string& name, const std::string& phase);
  [[nodiscard]] std::optional<nlohmann::json> pod(const std::string& ns,
                                                  const std::string& name) const;
  [[nodiscard]] std::optional<nlohmann::json> service_account(const std::string& ns,
                                                              const std::string& name) const;
  [[nodiscard]] std::optional<nlohmann::json> secret(const std::string& ns,
                                                     const std::string& name) const;
  // Replaces a Secret's data as `kubectl edit` would.
  void edit_secret_data(const std::string& ns, const std::string& name,
                        const std::string& dockerconfigjson);
  // Sets one annotation of a Secret, as `kubectl annotate --overwrite` would.
  void annotate_secret(const std::string& ns, const std::string& name, const std::string& key,
                       const std::string& value);
  void delete_secret(const std::string& ns, const std::string& name);
  [[nodiscard]] std::vector<nlohmann::json> events() const;
  [[nodiscard]] std::optional<nlohmann::json> lease(const std::string& ns,
                                                    const std::string& name) const;

  // --- faults --------------------------------------------------------------------------------
  // The next `requests` requests get APF's 429 with Retry-After: seconds (kube-api/11d).
  void shed_next(std::size_t requests, int retry_after_seconds);
  // The next `writes` writes of Secrets and ServiceAccounts (PUT, PATCH, POST of a Secret) are
  // 409 Conflict (05d, 06a).
  void conflict_next(std::size_t writes);
  // While down, every request's connection is reset and open watches end (the API server
  // restarting, or out of reach); up again, it serves what it held.
  void go_down(bool down);
  // The next `evictions` evictions get an exhausted PodDisruptionBudget's 429 (kube-api/10d).
  void refuse_evictions(std::size_t evictions);
  // While set, every write to a Lease answers 500 (etcd timing out): a leader cannot renew.
  void fail_lease_writes(bool fail);
  // Every open watch ends now (the API server closing streams, a load balancer's idle cut).
  void end_watches();
  // The watch cache forgets its history: a watch from an older resourceVersion gets the ERROR
  // 410 event (an API server restart, kube-api/03d).
  void forget_watch_history();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qcp::test
