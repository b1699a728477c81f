#include "fake_kube_api.hpp"

#include <map>
#include <mutex>
#include <set>
#include <tuple>

namespace qcp::test {
namespace {

using nlohmann::json;

// Every failure is a v1 Status (kube-api/04e, 11a, 11b): kind, apiVersion, empty metadata,
// status Failure, message, reason, details (when there is an object), code.
Reply status(int code, const std::string& reason, const std::string& message,
             const json& details = nullptr) {
  json body = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
               {"status", "Failure"}, {"message", message}, {"reason", reason}};
  if (!details.is_null()) {
    body["details"] = details;
  }
  body["code"] = code;
  return Reply::json(code, body, {{"Cache-Control", "no-cache, private"}});
}

// kube-api/11a: a token the authenticator does not know is 401 before any authorization.
Reply unauthorized() {
  return status(401, "Unauthorized", "Unauthorized");
}

// kube-api/11b's wording, for a cluster-scoped resource ("at the cluster scope").
Reply forbidden(const std::string& user, const std::string& verb, const std::string& resource,
                const std::string& name) {
  return status(403, "Forbidden",
                resource + " \"" + name + "\" is forbidden: User \"" + user + "\" cannot " + verb +
                    " resource \"" + resource + "\" in API group \"\" at the cluster scope",
                {{"name", name}, {"kind", resource}});
}

Reply not_found(const std::string& resource, const std::string& name) {
  return status(404, "NotFound", resource + " \"" + name + "\" not found",
                {{"name", name}, {"kind", resource}});
}

json node_object(const std::string& name, const std::string& kubelet_version) {
  return {{"kind", "Node"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"uid", "3120851f-c829-44eb-b135-56bc2454b76f"}}},
          {"spec", {{"podCIDR", "10.244.0.0/24"}}},
          {"status",
           {{"nodeInfo",
             {{"kubeletVersion", kubelet_version},
              {"containerRuntimeVersion", "containerd://1.6.20"},
              {"operatingSystem", "linux"},
              {"architecture", "amd64"}}}}}};
}

}  // namespace

struct FakeKubeApi::Impl {
  Reply answer(const RecordedRequest& request) {
    const std::lock_guard lock(mutex);
    if (shed > 0) {
      --shed;
      return Reply::text(429, "Too many requests, please try again later.\n",
                         {{"Retry-After", std::to_string(shed_seconds)}});
    }
    std::string user = "system:anonymous";  // --anonymous-auth=true (kube-api/README)
    if (const auto header = request.header("Authorization")) {
      const auto known =
          header->starts_with("Bearer ") ? users.find(header->substr(7)) : users.end();
      if (known == users.end()) {
        return unauthorized();
      }
      user = known->second;
    }
    constexpr std::string_view kNodes = "/api/v1/nodes/";
    if (request.method != "GET" || !request.path.starts_with(kNodes)) {
      // What any path this fake does not serve gets from a real apiserver.
      return status(404, "NotFound", "the server could not find the requested resource",
                    json::object());
    }
    const auto name = request.path.substr(kNodes.size());
    if (!grants.contains({user, "get", "nodes"})) {
      return forbidden(user, "get", "nodes", name);
    }
    const auto node = nodes.find(name);
    return node == nodes.end() ? not_found("nodes", name) : Reply::json(200, node->second);
  }

  std::mutex mutex;
  std::map<std::string, std::string> users;
  std::set<std::tuple<std::string, std::string, std::string>> grants;
  std::map<std::string, json> nodes;
  std::size_t shed = 0;
  int shed_seconds = 1;
};

FakeKubeApi::FakeKubeApi(const TestPki& pki)
    : LoopbackHttpsServer(pki, {.server_header = "", .log = {}}), impl_(std::make_unique<Impl>()) {
  start([impl = impl_.get()](const RecordedRequest& request) { return impl->answer(request); });
}

// Serving stops before the state the responder reads goes.
FakeKubeApi::~FakeKubeApi() {
  stop();
}

std::string FakeKubeApi::service_host() const {
  return "127.0.0.1";
}

void FakeKubeApi::add_user(const std::string& token, const std::string& user) {
  const std::lock_guard lock(impl_->mutex);
  impl_->users[token] = user;
}

void FakeKubeApi::allow(const std::string& user, const std::string& verb,
                        const std::string& resource) {
  const std::lock_guard lock(impl_->mutex);
  impl_->grants.insert({user, verb, resource});
}

void FakeKubeApi::add_node(const std::string& name, const std::string& kubelet_version) {
  const std::lock_guard lock(impl_->mutex);
  impl_->nodes[name] = node_object(name, kubelet_version);
}

void FakeKubeApi::shed_next(std::size_t requests, int retry_after_seconds) {
  const std::lock_guard lock(impl_->mutex);
  impl_->shed = requests;
  impl_->shed_seconds = retry_after_seconds;
}

}  // namespace qcp::test
