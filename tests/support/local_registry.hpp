#pragma once
// A real registry for tests: Debian's docker-registry (docker/distribution), on loopback over
// TLS, authenticating clients with bearer tokens from a FakeQuay's /v2/auth, as Quay's own
// registry does, or with fixed credentials (htpasswd). Its storage, config and log live in a
// directory of the caller's.

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "fake_quay.hpp"
#include "pki.hpp"

namespace qcp::test {

inline constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";

class LocalRegistry {
 public:
  // Starts the registry and waits until it accepts connections; std::runtime_error with the
  // registry's own log when it does not come up.
  LocalRegistry(const FakeQuay& quay, const TestPki& pki, std::filesystem::path dir);
  // The same registry with HTTP Basic authentication from an htpasswd file (bcrypt entries,
  // "user:$2b$..."): a registry with fixed credentials, as Harbor or Artifactory users have.
  LocalRegistry(const TestPki& pki, std::filesystem::path dir, const std::string& htpasswd);
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;
  LocalRegistry(LocalRegistry&&) = delete;
  LocalRegistry& operator=(LocalRegistry&&) = delete;
  ~LocalRegistry();  // SIGTERM, SIGKILL after 5 s, reaped

  [[nodiscard]] std::string host() const;  // "127.0.0.1:PORT"
  // A directory with the registry's CA as ca.crt: containers' --cert-dir.
  [[nodiscard]] const std::filesystem::path& cert_dir() const { return cert_dir_; }
  [[nodiscard]] std::string log() const;

 private:
  // Writes the config with this auth section, starts the registry and waits for it.
  void start(const TestPki& pki, const std::string& auth);

  std::filesystem::path dir_;
  std::filesystem::path cert_dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace qcp::test
