#pragma once
// FakeKubeApi: a fake kube-apiserver over real HTTPS on loopback, answering as the recorded
// 1.36.2 apiserver does (../shared/reference/kube-api/, cited per answer in the .cpp). It serves
// what this project's code asks of an API server, one capability at a time:
//
//   GET /api/v1/nodes/{name}   200 Node; 404 NotFound Status (04e's shape); 403 Forbidden
//                              Status for a user without `get nodes` (11b) or without a token
//                              (system:anonymous, 11a); 401 for an unknown token (11a)
//   anything else              404 NotFound Status
//
// Authentication is by bearer token (add_user), authorization by the verbs granted (allow).
// Load shedding as APF does it (11d: text/plain 429 with Retry-After) is scripted with
// shed_next(). The transport is LoopbackHttpsServer's.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "https_server.hpp"
#include "pki.hpp"

namespace qcp::test {

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

  // A bearer token the server authenticates as `user` ("system:serviceaccount:ns:name").
  void add_user(const std::string& token, const std::string& user);
  // Grants `user` the verb on the (cluster-scoped or all-namespace) resource, e.g. get nodes.
  void allow(const std::string& user, const std::string& verb, const std::string& resource);
  // A Node as the kubelet registers it, with status.nodeInfo.kubeletVersion.
  void add_node(const std::string& name, const std::string& kubelet_version);
  // The next `requests` requests get APF's 429 with Retry-After: seconds (kube-api/11d).
  void shed_next(std::size_t requests, int retry_after_seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qcp::test
