// Issue 25's scale benchmark: the built `controller` (a child process, so only its own memory
// and CPU are measured) against the fake API server and the fake Quay in this process, with
// 10,000 annotated ServiceAccounts in 1,000 namespaces among 100,000 in all. Time is compressed:
// Quay's tokens live --token-seconds (default 480) instead of an hour, so renewal cycles pass in
// minutes; per-hour figures are scaled to one-hour tokens and the default --renew-before. Not
// shorter: the initial sync (about 70 s) must stay well inside the earliest first renewal (a
// quarter of the wait, 90 s here; 11 minutes in production), or the renewals that come due while
// it runs bunch up behind it, which production never sees.
// Prints figures and the targets next to them; asserts nothing. Exit 1: it could not run.
//
// usage: controller_scale PROVIDER [--namespaces N] [--per-namespace N] [--annotated N]
//                                  [--token-seconds S] [--cycles C] [--workers W]
//                                  [--quay-outage S]
// --quay-outage S: after the sync, Quay down for S seconds (outage_phase.hpp); the renewal
// cycles are measured after every Secret is valid again.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "bench/outage_phase.hpp"
#include "bench/scale_report.hpp"
#include "fake_kube_api.hpp"
#include "fake_quay.hpp"
#include "pki.hpp"
#include "qcp/core/jwt.hpp"

namespace qcp::bench {
namespace {

using namespace std::chrono_literals;
using test::FakeKubeApi;
using test::FakeQuay;

constexpr const char* kController = "system:serviceaccount:qcp-system:qcp-controller";
constexpr const char* kToken = "bench-controller-token-0123456789";
constexpr const char* kRobotAnnotation = "quay.io/federated-robot-account";
// What Quay takes to answer an exchange here: enough that concurrent exchanges overlap and the
// --workers bound can be seen at Quay.
constexpr auto kQuayLatency = 20ms;

struct Shape {
  int namespaces = 1000;
  int per_namespace = 100;
  int annotated = 10;  // of each namespace's ServiceAccounts
  int token_seconds = 480;
  int cycles = 2;
  int workers = 4;
  int quay_outage = 0;  // seconds; 0: none
};

Shape parse(int argc, char** argv) {
  Shape shape;
  const std::map<std::string, int*> flags{
      {"--namespaces", &shape.namespaces},  {"--per-namespace", &shape.per_namespace},
      {"--annotated", &shape.annotated},    {"--token-seconds", &shape.token_seconds},
      {"--cycles", &shape.cycles},          {"--workers", &shape.workers},
      {"--quay-outage", &shape.quay_outage}};
  for (int i = 2; i + 1 < argc; i += 2) {
    const auto flag = flags.find(argv[i]);
    if (flag == flags.end()) {
      throw std::runtime_error(std::string("unknown flag ") + argv[i]);
    }
    *flag->second = std::stoi(argv[i + 1]);
  }
  return shape;
}

std::string account_name(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "sa-%03d", i);
  return name;
}
std::string namespace_name(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "ns-%04d", i);
  return name;
}
std::string robot_of(int ns, int sa) {
  char name[32];
  std::snprintf(name, sizeof name, "ns%04d+puller%03d", ns, sa);
  return name;
}

// Every ServiceAccount, the annotated ones with a robot whose binding trusts exactly them.
void populate(FakeKubeApi& api, FakeQuay& quay, const Shape& shape) {
  for (int n = 0; n < shape.namespaces; ++n) {
    for (int a = 0; a < shape.per_namespace; ++a) {
      if (a < shape.annotated) {
        quay.add_robot(robot_of(n, a),
                       {{quay.issuer_url(),
                         "system:serviceaccount:" + namespace_name(n) + ":" + account_name(a),
                         {}}});
        api.add_service_account(namespace_name(n), account_name(a),
                                {{kRobotAnnotation, robot_of(n, a)}});
      } else {
        api.add_service_account(namespace_name(n), account_name(a));
      }
    }
  }
}

std::vector<std::pair<std::string, std::string>> managed_secrets(const Shape& shape) {
  std::vector<std::pair<std::string, std::string>> secrets;
  for (int n = 0; n < shape.namespaces; ++n) {
    for (int a = 0; a < shape.annotated; ++a) {
      secrets.emplace_back(namespace_name(n), account_name(a) + "-quay-pull");
    }
  }
  return secrets;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string kubeconfig(const FakeKubeApi& api, const test::TestPki& pki) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: bench\nclusters:\n- name: bench\n"
         "  cluster:\n    server: " +
         api.base_url() + "\n    certificate-authority-data: " + core::base64_encode(pki.ca_pem()) +
         "\nusers:\n- name: c\n  user:\n    token: " + kToken +
         "\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: c\n";
}

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* err = std::fopen(log.c_str(), "w");
    ::dup2(::fileno(err), STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    char* env[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
    ::execve(argv[0], argv.data(), env);
    ::_exit(127);
  }
  return pid;
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s PROVIDER [--namespaces N] [--per-namespace N] "
                 "[--annotated N] [--token-seconds S] [--cycles C] [--workers W] "
                 "[--quay-outage S]\n",
                 argv[0]);
    return 1;
  }
  const Shape shape = parse(argc, argv);
  const int total_annotated = shape.namespaces * shape.annotated;
  const test::TestPki pki;
  test::FakeQuayOptions options;
  options.token_lifetime = std::chrono::seconds{shape.token_seconds};
  FakeQuay quay(pki, options);
  FakeKubeApi api(pki);
  api.add_user(kToken, kController);
  api.allow_controller(kController);
  api.sign_tokens_with(quay.issuer_signer(), quay.issuer_url());
  Recorder recorder(shape.workers);
  QuayOutageSwitch outage;
  quay.set_handler([&](const test::RecordedRequest& request) -> std::optional<test::Reply> {
    if (request.path.starts_with("/oauth2/federation") && outage.refuse()) {
      test::Reply reset;
      reset.action = test::Reply::Action::kReset;  // as a Quay that is not there
      return reset;
    }
    if (request.path.starts_with("/oauth2/federation")) {
      recorder.exchange_started(request);
      std::this_thread::sleep_for(kQuayLatency);
      recorder.exchange_ended();
    }
    return std::nullopt;
  });
  api.set_handler([&](const test::RecordedRequest& request) -> std::optional<test::Reply> {
    recorder.api_request(request);
    return std::nullopt;
  });
  std::printf("populating: %d namespaces x %d ServiceAccounts, %d annotated each\n",
              shape.namespaces, shape.per_namespace, shape.annotated);
  populate(api, quay, shape);

  const auto dir =
      std::filesystem::temp_directory_path() / ("qcp-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_file(dir / "kubeconfig", kubeconfig(api, pki));
  write_file(dir / "ca.pem", pki.ca_pem());
  const auto renew_before = std::chrono::seconds{shape.token_seconds / 4};
  const pid_t pid = spawn(
      {argv[1], "controller", "--kubeconfig", (dir / "kubeconfig").string(), "--quay-host",
       quay.host(), "--ca-file", (dir / "ca.pem").string(), "--renew-before",
       std::to_string(renew_before.count()) + "s", "--workers", std::to_string(shape.workers),
       "--health-probe-bind-address", "0", "--metrics-bind-address", "0", "--log-level", "warn"},
      dir / "controller.log");
  Sampler sampler(pid);
  const auto started = std::chrono::steady_clock::now();
  // Synced: every annotated ServiceAccount has its Secret.
  while (recorder.secrets_created() < static_cast<std::size_t>(total_annotated)) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      std::fprintf(stderr, "the controller exited; its log: %s\n",
                   (dir / "controller.log").c_str());
      return 1;
    }
    std::this_thread::sleep_for(200ms);
  }
  const Sample at_sync = sampler.now();
  const double sync_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::optional<OutageFigures> outage_figures;
  if (shape.quay_outage > 0) {
    outage_figures = run_quay_outage(outage, std::chrono::seconds{shape.quay_outage}, api,
                                     quay.host(), managed_secrets(shape));
  }
  // The steady state is measured from here: after the sync, and after any outage.
  const Sample at_window = sampler.now();
  const auto synced = std::chrono::steady_clock::now();
  recorder.start_window();
  const auto cycle = std::chrono::seconds{shape.token_seconds} - renew_before;
  std::printf("synced in %.1f s; measuring %d renewal cycles (~%lld s each)\n", sync_seconds,
              shape.cycles, static_cast<long long>(cycle.count()));
  std::this_thread::sleep_for(cycle * shape.cycles);
  const Sample at_end = sampler.now();
  const auto window = std::chrono::steady_clock::now() - synced;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  print_report({.shape_accounts = shape.namespaces * shape.per_namespace,
                .shape_annotated = total_annotated,
                .shape_namespaces = shape.namespaces,
                .workers = shape.workers,
                .token_seconds = shape.token_seconds,
                .renew_before = renew_before,
                .sync_seconds = sync_seconds,
                .window_seconds = std::chrono::duration<double>(window).count(),
                .at_sync = at_sync,
                .at_window = at_window,
                .at_end = at_end,
                .steady_rss_kib = sampler.median_rss_since(synced)},
               recorder);
  if (outage_figures) {
    print_outage(*outage_figures, managed_secrets(shape).size(), shape.token_seconds, renew_before);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace qcp::bench

int main(int argc, char** argv) {
  try {
    return qcp::bench::run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "controller_scale: %s\n", error.what());
    return 1;
  }
}
