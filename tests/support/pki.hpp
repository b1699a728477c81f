#pragma once
// In-memory test PKI: a fresh CA and a TLS server certificate signed by it (EC P-256).
//
// Every TestPki has its own, freshly generated CA, so a second TestPki is an "unrelated CA":
// point a client at `other.ca_pem()` to get an untrusted-certificate failure.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace qcp::test {

enum class CaValidity { kCurrent, kExpired, kNotYetValid };

struct TestPkiOptions {
  // Added to the default SANs (IP:127.0.0.1, IP:::1, DNS:localhost, DNS:quay.test).
  std::vector<std::string> extra_dns_names;
  // false: only extra_dns_names are used (e.g. {"elsewhere.test"} for a hostname-mismatch test).
  bool default_sans = true;
  // true: the server certificate's validity is now-2d .. now-1d (CA stays valid).
  bool expired_server_cert = false;
  // true: no subjectAltName at all; the name is only the subject's CN, "127.0.0.1".
  bool common_name_only = false;
  // The CA's validity window (the leaf's stays current).
  CaValidity ca_validity = CaValidity::kCurrent;
  // true: the CA signs an intermediate CA, which signs the leaf; the server sends both.
  bool intermediate = false;
  // The CA's subject is O=qcp tests, CN=<this>.
  std::string ca_common_name = "qcp test CA";
};

class TestPki {
 public:
  TestPki();
  explicit TestPki(const TestPkiOptions& options);
  TestPki(TestPki&&) noexcept;
  TestPki& operator=(TestPki&&) noexcept;
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;
  ~TestPki();

  [[nodiscard]] const std::string& ca_pem() const;  // CA certificate, PEM
  // Leaf certificate, PEM, followed by the intermediate's when there is one.
  [[nodiscard]] const std::string& server_cert_pem() const;
  [[nodiscard]] const std::string& intermediate_pem() const;  // "" without an intermediate
  [[nodiscard]] const std::string& server_key_pem() const;    // leaf key, unencrypted PKCS#8 PEM

  // Writes DIR/ca.pem (mode 0644) and returns its path. DIR must exist.
  std::filesystem::path write_ca(const std::filesystem::path& dir) const;
  // Writes DIR/ca.pem, DIR/server.pem and DIR/server-key.pem (mode 0600).
  void write_all(const std::filesystem::path& dir) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qcp::test
