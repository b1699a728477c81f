// fake-quay: runs FakeQuay as a process for demos and end-to-end tests.
//
//   fake-quay --dir DIR [--port N] [--robot team+puller] [--namespace demo]
//             [--service-account puller] [--token-lifetime SECONDS] [--sa-token-lifetime SECONDS]
//             [--allow-push] [--kube-api]
//
// With --kube-api it also serves a fake Kubernetes API server (FakeKubeApi) whose TokenRequests
// this Quay trusts, with ServiceAccount NS/SA annotated with the robot, and writes
// DIR/kubeconfig for a controller (its bearer token and the CA: test credentials only).
// Writes DIR/ca.pem, DIR/host ("127.0.0.1:PORT"), DIR/sa-token (mode 0600) and, last, DIR/ready;
// serves until SIGTERM or SIGINT, then removes DIR/ready. Logs one line per request to stderr
// (method, path, status) and never prints a token, password or Authorization header.

#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "fake_kube_api.hpp"
#include "fake_quay.hpp"
#include "jwt.hpp"
#include "pki.hpp"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUsage =
    "usage: fake-quay --dir DIR [--port N] [--robot ORG+NAME] [--namespace NS]\n"
    "                 [--service-account SA] [--token-lifetime SECONDS]\n"
    "                 [--sa-token-lifetime SECONDS] [--allow-push] [--kube-api]\n";

struct Args {
  fs::path dir;
  std::uint16_t port = 0;
  std::string robot = "team+puller";
  std::string ns = "demo";
  std::string service_account = "puller";
  long token_lifetime = 3600;
  long sa_token_lifetime = 3600;
  bool allow_push = false;
  bool kube_api = false;
  bool help = false;
};

// One line to stderr. Callers never pass tokens, passwords or headers.
void say(const std::string& line) {
  const std::string out = "fake-quay: " + line + "\n";
  static_cast<void>(std::fwrite(out.data(), 1, out.size(), stderr));
  static_cast<void>(std::fflush(stderr));
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      args.help = true;
      return args;
    }
    if (flag == "--allow-push" || flag == "--kube-api") {
      (flag == "--allow-push" ? args.allow_push : args.kube_api) = true;
      continue;
    }
    if (i + 1 >= argc) {
      say(std::string(flag) + " needs a value");
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    if (flag == "--dir") {
      args.dir = std::string(value);
    } else if (flag == "--port") {
      const auto port = parse_number<std::uint16_t>(value);
      if (!port) {
        say("--port must be 0..65535");
        return std::nullopt;
      }
      args.port = *port;
    } else if (flag == "--robot") {
      args.robot = std::string(value);
    } else if (flag == "--namespace") {
      args.ns = std::string(value);
    } else if (flag == "--service-account") {
      args.service_account = std::string(value);
    } else if (flag == "--token-lifetime" || flag == "--sa-token-lifetime") {
      const auto seconds = parse_number<long>(value);
      if (!seconds || *seconds <= 0) {
        say(std::string(flag) + " must be a positive number of seconds");
        return std::nullopt;
      }
      (flag == "--token-lifetime" ? args.token_lifetime : args.sa_token_lifetime) = *seconds;
    } else {
      say("unknown option " + std::string(flag));
      return std::nullopt;
    }
  }
  if (args.dir.empty()) {
    say("--dir is required");
    return std::nullopt;
  }
  return args;
}

// Write to a temporary name, then rename: readers never see a partial file.
void write_atomically(const fs::path& path, const std::string& content, fs::perms perms) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  fs::permissions(tmp, perms, fs::perm_options::replace);
  fs::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  if (!args) {
    static_cast<void>(std::fwrite(kUsage.data(), 1, kUsage.size(), stderr));
    return 2;
  }
  if (args->help) {
    static_cast<void>(std::fwrite(kUsage.data(), 1, kUsage.size(), stdout));
    return 0;
  }

  // Block the stop signals in every thread (the server threads inherit this mask); main waits
  // for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    fs::create_directories(args->dir);
    fs::remove(args->dir / "ready");

    const qcp::test::TestPki pki;
    qcp::test::FakeQuayOptions options;
    options.port = args->port;
    options.token_lifetime = std::chrono::seconds{args->token_lifetime};
    options.log = [](const std::string& line) { say(line); };  // one fwrite: lines stay whole
    qcp::test::FakeQuay quay(pki, options);

    const std::string subject = "system:serviceaccount:" + args->ns + ":" + args->service_account;
    quay.add_robot(args->robot, {{quay.issuer_url(), subject}});
    if (args->allow_push) {
      quay.allow_push(args->robot);
    }

    using fs::perms;
    const perms world_readable =
        perms::owner_read | perms::owner_write | perms::group_read | perms::others_read;
    write_atomically(args->dir / "ca.pem", pki.ca_pem(), world_readable);
    write_atomically(args->dir / "host", quay.host() + "\n", world_readable);
    // For a registry that takes /v2/auth's tokens (scripts/demo.sh): its TLS certificate and
    // key (the same CA's), the token signer's certificate, the service and issuer names.
    write_atomically(args->dir / "server.pem", pki.server_cert_pem(), world_readable);
    write_atomically(args->dir / "server-key.pem", pki.server_key_pem(),
                     perms::owner_read | perms::owner_write);
    write_atomically(args->dir / "registry-token-signers.pem",
                     quay.registry_token_certificate_pem(), world_readable);
    write_atomically(args->dir / "registry-service", quay.registry_service() + "\n",
                     world_readable);
    write_atomically(args->dir / "registry-token-issuer", quay.registry_token_issuer() + "\n",
                     world_readable);
    write_atomically(args->dir / "sa-token",
                     quay.mint_service_account_token(args->ns, args->service_account, "quay",
                                                     std::chrono::seconds{args->sa_token_lifetime}),
                     perms::owner_read | perms::owner_write);
    std::optional<qcp::test::FakeKubeApi> api;
    if (args->kube_api) {
      api.emplace(pki);
      constexpr const char* kToken = "demo-controller-token-0123456789";
      const std::string controller = "system:serviceaccount:qcp-system:qcp-controller";
      api->add_user(kToken, controller);
      api->allow_controller(controller);
      api->sign_tokens_with(quay.issuer_signer(), quay.issuer_url());
      // A reader for the demo, as `kubectl get/describe` would be: DIR/admin-token.
      constexpr const char* kAdminToken = "demo-admin-token-0123456789abcd";
      api->add_user(kAdminToken, "demo-admin");
      for (const char* resource : {"secrets", "serviceaccounts", "events"}) {
        api->allow("demo-admin", "get", resource);
        api->allow("demo-admin", "list", resource);
      }
      write_atomically(args->dir / "admin-token", kAdminToken,
                       perms::owner_read | perms::owner_write);
      api->add_service_account(args->ns, args->service_account,
                               {{"quay.io/federated-robot-account", args->robot}});
      write_atomically(args->dir / "kubeconfig",
                       "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n"
                       "- name: fake\n  cluster:\n    server: " +
                           api->base_url() + "\n    certificate-authority-data: " +
                           qcp::test::base64_encode(pki.ca_pem()) +
                           "\nusers:\n- name: controller\n  user:\n    token: " + kToken +
                           "\ncontexts:\n- name: fake\n  context: {cluster: fake, user: "
                           "controller}\n",
                       perms::owner_read | perms::owner_write);
      write_atomically(args->dir / "api-url", api->base_url() + "\n", world_readable);
      say("Kubernetes API at " + api->base_url() + " (ServiceAccount " + args->ns + "/" +
          args->service_account + " annotated with " + args->robot + ")");
    }
    write_atomically(args->dir / "ready", "", world_readable);

    say("serving https://" + quay.host() + " (robot " + args->robot + ", issuer " +
        quay.issuer_url() + ", subject " + subject + "); files in " + args->dir.string());

    int sig = 0;
    sigwait(&stop_signals, &sig);
    say("signal " + std::to_string(sig) + ", shutting down");
    std::error_code ec;
    fs::remove(args->dir / "ready", ec);
  } catch (const std::exception& e) {
    say(e.what());
    return 1;
  }
  return 0;
}
