#include "qcp/kube/kubeconfig.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/kube/namespace.hpp"

namespace qcp::kube {
namespace {

using yaml::Node;

// A kubeconfig with its credentials inline is a few KiB; a CA bundle may be larger.
constexpr std::size_t kMaxKubeconfigBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;

class Reader {
 public:
  Reader(const Environment& env, std::string path) : env_(env), path_(std::move(path)) {}

  [[noreturn]] void fail(const Node* node, const std::string& why) const {
    throw Failure(
        ExitCode::kUsage,
        "--kubeconfig " + one_line(path_) +
            (node != nullptr && node->line > 0 ? ":" + std::to_string(node->line) : std::string()) +
            ": " + why);
  }

  // The string at `key`, "" when absent; a value of another kind is refused.
  std::string text(const Node& map, std::string_view key) const {
    const Node* value = map.find(key);
    if (value == nullptr || value->is(Node::Kind::kNull)) {
      return {};
    }
    if (!value->is(Node::Kind::kString)) {
      fail(value,
           std::string(key) + " must be a string, not " + std::string(yaml::describe(value->kind)));
    }
    return value->text;
  }

  // The named entry's inner mapping in a list such as `clusters: [{name, cluster: {...}}]`.
  const Node& named(const Node& root, std::string_view list, std::string_view field,
                    const std::string& name) const {
    const Node* items = root.find(list);
    if (items != nullptr && items->is(Node::Kind::kSequence)) {
      for (const Node& item : items->items) {
        if (item.is(Node::Kind::kMapping) && text(item, "name") == name) {
          const Node* inner = item.find(field);
          if (inner == nullptr || !inner->is(Node::Kind::kMapping)) {
            fail(&item, std::string(list) + " entry \"" + one_line(name) + "\" has no " +
                            std::string(field));
          }
          return *inner;
        }
      }
    }
    fail(items,
         "no " + std::string(field) + " named \"" + one_line(name) + "\" in " + std::string(list));
  }

  // A file the kubeconfig names: relative to the kubeconfig's own directory.
  [[nodiscard]] std::string resolve(const std::string& name) const {
    const auto slash = path_.rfind('/');
    return name.starts_with('/') || slash == std::string::npos ? name
                                                               : path_.substr(0, slash + 1) + name;
  }
  std::string file(const std::string& name) const {
    try {
      return env_.read_file(resolve(name), kMaxFileBytes);
    } catch (const Failure& failure) {
      fail(nullptr, failure.what());
    }
  }

  // `key`'s file or `key`-data's base64, as PEM (or "" when neither is given).
  std::string pem(const Node& map, const std::string& key) const {
    const std::string data = text(map, key + "-data");
    if (!data.empty()) {
      auto decoded = base64_decode(data);
      if (!decoded) {
        fail(map.find(key + "-data"), key + "-data is not base64");
      }
      return std::move(*decoded);
    }
    const std::string name = text(map, key);
    return name.empty() ? std::string() : file(name);
  }

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  const Environment& env_;
  std::string path_;
};

void refuse_unsupported(const Reader& reader, const Node& cluster, const Node& user) {
  if (const Node* skip = cluster.find("insecure-skip-tls-verify");
      skip != nullptr && skip->is(Node::Kind::kBool) && skip->boolean) {
    reader.fail(skip,
                "insecure-skip-tls-verify: true is refused: TLS verification is never "
                "off; give certificate-authority or certificate-authority-data");
  }
  for (const char* key : {"proxy-url", "tls-server-name"}) {
    if (cluster.find(key) != nullptr) {
      reader.fail(cluster.find(key), std::string(key) + " is not supported; remove it");
    }
  }
  for (const char* key : {"exec", "auth-provider", "username", "password"}) {
    if (user.find(key) != nullptr) {
      reader.fail(user.find(key), std::string("user.") + key +
                                      " is not supported: give the user a token, tokenFile or "
                                      "client certificate (e.g. a ServiceAccount token)");
    }
  }
}

ApiServer server_from(const Reader& reader, const Node& cluster, const Node& user) {
  refuse_unsupported(reader, cluster, user);
  ApiServer server;
  server.base_url = reader.text(cluster, "server");
  while (server.base_url.ends_with('/')) {
    server.base_url.pop_back();
  }
  if (!server.base_url.starts_with("https://") || server.base_url.size() <= 8) {
    reader.fail(cluster.find("server"), "cluster.server must be an https:// URL");
  }
  server.trust.ca_pem = reader.pem(cluster, "certificate-authority");
  server.trust.source = reader.path() + "'s certificate-authority";
  server.token = reader.text(user, "token");
  if (const std::string token_file = reader.text(user, "tokenFile"); !token_file.empty()) {
    server.token_file = reader.resolve(token_file);
    server.token = reader.file(token_file);
    while (!server.token.empty() && (server.token.back() == '\n' || server.token.back() == '\r')) {
      server.token.pop_back();
    }
  }
  server.client_certificate_pem = reader.pem(user, "client-certificate");
  server.client_key_pem = reader.pem(user, "client-key");
  if (server.client_certificate_pem.empty() != server.client_key_pem.empty()) {
    reader.fail(&user, "client-certificate and client-key go together");
  }
  if (server.token.empty() && server.client_certificate_pem.empty()) {
    reader.fail(&user, "the user has no token, tokenFile or client certificate");
  }
  return server;
}

}  // namespace

ApiServer load_kubeconfig(const Environment& env, const std::string& path,
                          std::string_view context) {
  const Reader reader(env, path);
  std::string text;
  try {
    text = env.read_file(path, kMaxKubeconfigBytes);
  } catch (const Failure& failure) {
    throw Failure(ExitCode::kUsage, std::string("--kubeconfig: ") + failure.what());
  }
  const WipeOnExit wipe_text(text);
  auto document = yaml::parse(text);
  if (!document.problems.empty()) {
    reader.fail(nullptr, "line " + std::to_string(document.problems.front().line) + ": " +
                             document.problems.front().message);
  }
  if (!document.root || !document.root->is(Node::Kind::kMapping)) {
    reader.fail(nullptr, "is not a kubeconfig (a YAML mapping with clusters, users, contexts)");
  }
  const Node& root = *document.root;
  const std::string name =
      context.empty() ? reader.text(root, "current-context") : std::string(context);
  if (name.empty()) {
    reader.fail(nullptr, "has no current-context: give --context");
  }
  const Node& chosen = reader.named(root, "contexts", "context", name);
  ApiServer server =
      server_from(reader, reader.named(root, "clusters", "cluster", reader.text(chosen, "cluster")),
                  reader.named(root, "users", "user", reader.text(chosen, "user")));
  return server;
}

}  // namespace qcp::kube
