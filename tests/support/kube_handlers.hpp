#pragma once
// FakeKubeApi's answers per verb, on its KubeStore (each cites the kube-api/ transcript it
// follows).

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "https_server.hpp"
#include "jwt.hpp"
#include "kube_store.hpp"

namespace qcp::test::kube_handlers {

struct Target {
  std::string namespace_name;  // "" for cluster scope or all namespaces
  std::string resource;        // "serviceaccounts", "secrets", "events", "nodes"
  std::string name;
  std::string subresource;  // "token"
};
// /api/v1/RESOURCE[/NAME] and /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]].
std::optional<Target> target_of(std::string_view path);
std::map<std::string, std::string> parse_query(std::string_view query);

using Query = std::map<std::string, std::string>;

// Whether `object`'s labels satisfy an equality-based selector ("k=v,k2").
bool selected(const nlohmann::json& object, const std::string& selector);
// "serviceaccounts" -> "ServiceAccount", ...
std::string kind_of(const std::string& resource);
// "coordination.k8s.io" for leases, "" for the core group.
std::string group_of(const std::string& resource);
// Single objects and watch events carry kind and apiVersion; list items do not (kube-api/01a).
nlohmann::json with_kind(const nlohmann::json& object, const std::string& resource);

Reply list(const KubeStore& store, const Target& target, const Query& query);
// `epoch` changes when every watch is to end (end_watches()).
Reply watch(const KubeStore& store, const Target& target, const Query& query,
            const std::atomic<unsigned>& epoch);
Reply get(const KubeStore& store, const Target& target);
Reply create(KubeStore& store, const Target& target, const std::string& body);
Reply update(KubeStore& store, const Target& target, const std::string& body);
Reply patch(KubeStore& store, const Target& target, const std::string& body,
            const std::string& content_type);
Reply remove(KubeStore& store, const Target& target, const std::string& body);

struct TokenSigner {
  const RsaSigner* signer = nullptr;
  std::string issuer;
};
Reply token_request(const KubeStore& store, const Target& target, const std::string& body,
                    const TokenSigner& signer);

// Deleting a ServiceAccount: the garbage collector removes the Secrets it owns, and any whose
// owner reference names it with another uid (kube-api/05h).
void collect_garbage(KubeStore& store, const nlohmann::json& deleted_account);

}  // namespace qcp::test::kube_handlers
