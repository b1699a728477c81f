#include "local_registry.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace qcp::test {
namespace {

// A port nothing listens on now: the kernel's pick for a socket bound to port 0.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool connected =
      fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  if (fd >= 0) {
    ::close(fd);
  }
  return connected;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

}  // namespace

LocalRegistry::LocalRegistry(const FakeQuay& quay, const TestPki& pki, std::filesystem::path dir)
    : dir_(std::move(dir)), cert_dir_(dir_ / "certs"), port_(free_port()) {
  std::filesystem::create_directories(dir_);
  write_text(dir_ / "token-signers.pem", quay.registry_token_certificate_pem());
  start(pki, "auth:\n  token:\n    realm: " + quay.base_url() + "/v2/auth\n    service: " +
                 quay.registry_service() + "\n    issuer: " + quay.registry_token_issuer() +
                 "\n    rootcertbundle: " + dir_.string() + "/token-signers.pem\n");
}

LocalRegistry::LocalRegistry(const TestPki& pki, std::filesystem::path dir,
                             const std::string& htpasswd)
    : dir_(std::move(dir)), cert_dir_(dir_ / "certs"), port_(free_port()) {
  std::filesystem::create_directories(dir_);
  write_text(dir_ / "htpasswd", htpasswd);
  start(pki,
        "auth:\n  htpasswd:\n    realm: qcp-tests\n    path: " + dir_.string() + "/htpasswd\n");
}

void LocalRegistry::start(const TestPki& pki, const std::string& auth) {
  std::filesystem::create_directories(dir_ / "storage");
  std::filesystem::create_directories(cert_dir_);
  pki.write_all(dir_);
  write_text(cert_dir_ / "ca.crt", pki.ca_pem());
  const std::string dir_text = dir_.string();
  write_text(dir_ / "config.yml",
             "version: 0.1\n"
             "log:\n  level: info\n"
             "storage:\n  filesystem:\n    rootdirectory: " +
                 dir_text +
                 "/storage\n"
                 "  delete:\n    enabled: true\n"
                 "http:\n  addr: 127.0.0.1:" +
                 std::to_string(port_) + "\n  tls:\n    certificate: " + dir_text +
                 "/server.pem\n    key: " + dir_text + "/server-key.pem\n" + auth);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log_path = (dir_ / "registry.log").string();
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> words = {kRegistryBinary, "serve", (dir_ / "config.yml").string()};
  std::vector<char*> argv;
  for (auto& word : words) {
    argv.push_back(word.data());
  }
  argv.push_back(nullptr);
  std::string path = "PATH=/usr/bin:/bin";
  std::vector<char*> envp = {path.data(), nullptr};
  const int spawned =
      posix_spawn(&pid_, kRegistryBinary, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    pid_ = -1;
    throw std::runtime_error(std::string("cannot start ") + kRegistryBinary);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (!accepts(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("docker-registry exited: " + log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("docker-registry did not listen within 20s: " + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

LocalRegistry::~LocalRegistry() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

std::string LocalRegistry::host() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string LocalRegistry::log() const {
  std::ifstream in(dir_ / "registry.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace qcp::test
