#include "fake_kube_api.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <tuple>

#include "kube_handlers.hpp"
#include "kube_pods.hpp"
#include "kube_replies.hpp"
#include "kube_store.hpp"

namespace qcp::test {
namespace {

using nlohmann::json;
namespace h = kube_handlers;
namespace r = kube_replies;

json node_object(const std::string& name, const std::string& kubelet_version) {
  return {{"metadata", {{"name", name}}},
          {"spec", {{"podCIDR", "10.244.0.0/24"}}},
          {"status",
           {{"nodeInfo",
             {{"kubeletVersion", kubelet_version},
              {"containerRuntimeVersion", "containerd://1.6.20"},
              {"operatingSystem", "linux"},
              {"architecture", "amd64"}}}}}};
}

// The RBAC verb of a request (kube-api/11b): list and watch are distinct verbs.
std::string verb_of(const std::string& method, const h::Target& target, const h::Query& query) {
  if (method == "GET") {
    if (!target.name.empty()) {
      return "get";
    }
    const auto watch = query.find("watch");
    return watch != query.end() && (watch->second == "1" || watch->second == "true") ? "watch"
                                                                                     : "list";
  }
  if (method == "POST") {
    return "create";
  }
  if (method == "PUT") {
    return "update";
  }
  return method == "PATCH" ? "patch" : "delete";
}

}  // namespace

struct FakeKubeApi::Impl {
  std::optional<Reply> fault() {
    const std::lock_guard lock(mutex);
    if (down) {
      return Reply::reset();
    }
    if (shed > 0) {
      --shed;
      return Reply::text(429, "Too many requests, please try again later.\n",
                         {{"Retry-After", std::to_string(shed_seconds)}});
    }
    return std::nullopt;
  }

  // Who is asking: nullopt when the token is unknown (401).
  std::optional<std::string> user_of(const RecordedRequest& request) {
    const std::lock_guard lock(mutex);
    const auto header = request.header("Authorization");
    if (!header) {
      return "system:anonymous";  // --anonymous-auth=true (kube-api/README)
    }
    const auto known = header->starts_with("Bearer ") ? users.find(header->substr(7)) : users.end();
    return known == users.end() ? std::nullopt : std::optional(known->second);
  }

  bool may(const std::string& user, const std::string& verb, const h::Target& target) {
    const std::lock_guard lock(mutex);
    const std::string resource =
        target.subresource.empty() ? target.resource : target.resource + "/" + target.subresource;
    return grants.contains({user, verb, resource, ""}) ||
           grants.contains({user, verb, resource, target.namespace_name});
  }

  bool lease_writes_fail_now() {
    const std::lock_guard lock(mutex);
    return lease_writes_fail;
  }

  bool take_conflict() {
    const std::lock_guard lock(mutex);
    if (conflicts == 0) {
      return false;
    }
    --conflicts;
    return true;
  }

  Reply answer(const RecordedRequest& request) {
    if (auto shed_reply = fault()) {
      return *shed_reply;
    }
    const auto user = user_of(request);
    if (!user) {
      return r::unauthorized();
    }
    const auto target = h::target_of(request.path);
    if (!target) {
      // What any path this fake does not serve gets from a real apiserver.
      return r::status(404, "NotFound", "the server could not find the requested resource",
                       json::object());
    }
    const auto query = h::parse_query(request.query);
    const std::string verb = verb_of(request.method, *target, query);
    if (!may(*user, verb, *target)) {
      return r::forbidden(*user, verb,
                          target->subresource.empty()
                              ? target->resource
                              : target->resource + "/" + target->subresource,
                          target->name, target->namespace_name);
    }
    return dispatch(request, *target, query, verb);
  }

  Reply dispatch(const RecordedRequest& request, const h::Target& target, const h::Query& query,
                 const std::string& verb) {
    if (target.subresource == "token" && verb == "create") {
      const std::lock_guard lock(mutex);
      return h::token_request(store, target, request.body, signer);
    }
    if (target.resource == "pods" && target.subresource == "eviction" && verb == "create") {
      const std::lock_guard lock(mutex);
      return kube_pods::evict(store, target, request.body, refused_evictions);
    }
    const bool writes =
        (target.resource == "secrets" || target.resource == "serviceaccounts") &&
        (verb == "update" || verb == "patch" || (verb == "create" && target.resource == "secrets"));
    if (target.resource == "leases" && verb != "get" && lease_writes_fail_now()) {
      // What the API server answers when etcd does not (a lost quorum).
      return r::status(500, "InternalError",
                       "Internal error occurred: etcdserver: request timed out", json::object());
    }
    if (writes && take_conflict()) {
      return r::conflict(target.resource, target.name.empty() ? "" : target.name);
    }
    if (verb == "list") {
      return h::list(store, target, query);
    }
    if (verb == "watch") {
      return h::watch(store, target, query, watch_epoch);
    }
    if (verb == "get") {
      return h::get(store, target);
    }
    if (verb == "create") {
      return h::create(store, target, request.body);
    }
    if (verb == "update") {
      return h::update(store, target, request.body);
    }
    if (verb == "patch") {
      return h::patch(store, target, request.body, request.header("Content-Type").value_or(""));
    }
    return h::remove(store, target, request.body);
  }

  KubeStore store;
  std::atomic<unsigned> watch_epoch{0};
  std::mutex mutex;
  std::map<std::string, std::string> users;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> grants;  // ns "": all
  bool lease_writes_fail = false;
  bool down = false;  // every connection reset, as an API server that is not there
  h::TokenSigner signer;
  std::size_t shed = 0;
  int shed_seconds = 1;
  std::size_t conflicts = 0;
  std::size_t refused_evictions = 0;
};

FakeKubeApi::FakeKubeApi(const TestPki& pki)
    : LoopbackHttpsServer(pki, {.server_header = "", .log = {}}), impl_(std::make_unique<Impl>()) {
  start([impl = impl_.get()](const RecordedRequest& request) { return impl->answer(request); });
}

// Serving stops (open watches end) before the state the responder reads goes.
FakeKubeApi::~FakeKubeApi() {
  end_watches();
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
                        const std::string& resource, const std::string& namespace_name) {
  const std::lock_guard lock(impl_->mutex);
  impl_->grants.insert({user, verb, resource, namespace_name});
}

void FakeKubeApi::go_down(bool down) {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->down = down;
  }
  if (down) {
    end_watches();
  }
}

void FakeKubeApi::fail_lease_writes(bool fail) {
  const std::lock_guard lock(impl_->mutex);
  impl_->lease_writes_fail = fail;
}

const std::vector<Grant>& controller_grants() {
  static const std::vector<Grant> grants = {{"get", "serviceaccounts"},
                                            {"list", "serviceaccounts"},
                                            {"watch", "serviceaccounts"},
                                            {"patch", "serviceaccounts"},
                                            {"create", "serviceaccounts/token"},
                                            {"get", "secrets"},
                                            {"list", "secrets"},
                                            {"watch", "secrets"},
                                            {"create", "secrets"},
                                            {"update", "secrets"},
                                            {"delete", "secrets"},
                                            {"create", "events"},
                                            {"list", "pods"},
                                            {"watch", "pods"},
                                            {"create", "pods/eviction"}};
  return grants;
}

const std::vector<Grant>& leader_election_grants() {
  static const std::vector<Grant> grants = {
      {"get", "leases"}, {"create", "leases"}, {"update", "leases"}};
  return grants;
}

void FakeKubeApi::allow_controller(const std::string& user, const std::string& lease_namespace) {
  for (const auto& grant : controller_grants()) {
    allow(user, grant.verb, grant.resource);
  }
  for (const auto& grant : leader_election_grants()) {
    allow(user, grant.verb, grant.resource, lease_namespace);
  }
}

void FakeKubeApi::sign_tokens_with(const RsaSigner& signer, const std::string& issuer) {
  const std::lock_guard lock(impl_->mutex);
  impl_->signer = {&signer, issuer};
}

void FakeKubeApi::add_node(const std::string& name, const std::string& kubelet_version) {
  json stored;
  impl_->store.create({"nodes", "", name}, node_object(name, kubelet_version), stored);
}

void FakeKubeApi::add_service_account(const std::string& ns, const std::string& name,
                                      const std::map<std::string, std::string>& annotations) {
  json account = {{"metadata", {{"name", name}, {"namespace", ns}}}};
  if (!annotations.empty()) {
    account["metadata"]["annotations"] = annotations;
  }
  json stored;
  impl_->store.create({"serviceaccounts", ns, name}, account, stored);
}

void FakeKubeApi::annotate(const std::string& ns, const std::string& name, const std::string& key,
                           const std::optional<std::string>& value) {
  auto account = impl_->store.get({"serviceaccounts", ns, name}).value();
  if (value) {
    account["metadata"]["annotations"][key] = *value;
  } else if (account["metadata"].contains("annotations")) {
    account["metadata"]["annotations"].erase(key);
  }
  json stored;
  impl_->store.replace({"serviceaccounts", ns, name}, account, stored);
}

void FakeKubeApi::set_image_pull_secrets(const std::string& ns, const std::string& name,
                                         const std::vector<std::string>& secrets) {
  auto account = impl_->store.get({"serviceaccounts", ns, name}).value();
  account["imagePullSecrets"] = json::array();
  for (const auto& secret : secrets) {
    account["imagePullSecrets"].push_back({{"name", secret}});
  }
  json stored;
  impl_->store.replace({"serviceaccounts", ns, name}, account, stored);
}

std::optional<json> FakeKubeApi::create_pod(const std::string& ns, const std::string& name,
                                            const std::string& service_account,
                                            const std::vector<std::string>& own_pull_secrets,
                                            const std::string& image, bool controlled) {
  return kube_pods::create_pod(
      impl_->store, ns, name, service_account,
      {.own_pull_secrets = own_pull_secrets, .image = image, .controlled = controlled});
}

void FakeKubeApi::set_pull_failure(const std::string& ns, const std::string& name,
                                   const std::string& reason) {
  kube_pods::set_pull_failure(impl_->store, ns, name, reason);
}

void FakeKubeApi::set_pod_phase(const std::string& ns, const std::string& name,
                                const std::string& phase) {
  kube_pods::set_phase(impl_->store, ns, name, phase);
}

void FakeKubeApi::refuse_evictions(std::size_t evictions) {
  const std::lock_guard lock(impl_->mutex);
  impl_->refused_evictions = evictions;
}

std::optional<json> FakeKubeApi::pod(const std::string& ns, const std::string& name) const {
  return impl_->store.get({"pods", ns, name});
}

void FakeKubeApi::delete_service_account(const std::string& ns, const std::string& name) {
  if (const auto last = impl_->store.remove({"serviceaccounts", ns, name})) {
    h::collect_garbage(impl_->store, *last);
  }
}

std::optional<json> FakeKubeApi::lease(const std::string& ns, const std::string& name) const {
  return impl_->store.get({"leases", ns, name});
}

std::optional<json> FakeKubeApi::service_account(const std::string& ns,
                                                 const std::string& name) const {
  return impl_->store.get({"serviceaccounts", ns, name});
}

std::optional<json> FakeKubeApi::secret(const std::string& ns, const std::string& name) const {
  return impl_->store.get({"secrets", ns, name});
}

void FakeKubeApi::edit_secret_data(const std::string& ns, const std::string& name,
                                   const std::string& dockerconfigjson) {
  auto secret = impl_->store.get({"secrets", ns, name}).value();
  secret["data"][".dockerconfigjson"] = base64_encode(dockerconfigjson);
  json stored;
  impl_->store.replace({"secrets", ns, name}, secret, stored);
}

void FakeKubeApi::annotate_secret(const std::string& ns, const std::string& name,
                                  const std::string& key, const std::string& value) {
  auto secret = impl_->store.get({"secrets", ns, name}).value();
  secret["metadata"]["annotations"][key] = value;
  json stored;
  impl_->store.replace({"secrets", ns, name}, secret, stored);
}

void FakeKubeApi::delete_secret(const std::string& ns, const std::string& name) {
  impl_->store.remove({"secrets", ns, name});
}

std::vector<json> FakeKubeApi::events() const {
  return impl_->store.list("events", "").first;
}

void FakeKubeApi::shed_next(std::size_t requests, int retry_after_seconds) {
  const std::lock_guard lock(impl_->mutex);
  impl_->shed = requests;
  impl_->shed_seconds = retry_after_seconds;
}

void FakeKubeApi::conflict_next(std::size_t writes) {
  const std::lock_guard lock(impl_->mutex);
  impl_->conflicts = writes;
}

void FakeKubeApi::end_watches() {
  impl_->watch_epoch.fetch_add(1);
}

void FakeKubeApi::forget_watch_history() {
  impl_->store.forget_history();
  end_watches();
}

}  // namespace qcp::test
