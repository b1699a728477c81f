#include "qcp/net/trust.hpp"

#include <array>
#include <string_view>

#include "qcp/core/failure.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

// Where the distributions keep their system trust; probed in this order at run time because a
// static binary has no compiled-in default that is right on every node.
constexpr std::array<std::string_view, 6> kBundleFiles = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Flatcar, Talos
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL, CentOS
    "/etc/ssl/ca-bundle.pem",                             // openSUSE, SLES
    "/etc/pki/tls/cacert.pem",                            // OpenELEC-style layouts
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL, Bottlerocket
    "/etc/ssl/cert.pem",                                  // Alpine, macOS-style layouts
};
constexpr std::array<std::string_view, 2> kCertificateDirs = {"/etc/ssl/certs",
                                                              "/etc/pki/tls/certs"};

void require_file(const Environment& env, const std::string& path, std::string_view origin) {
  if (!env.is_readable_file(path)) {
    throw Failure(ExitCode::kUsage,
                  std::string(origin) + " names " + path + ", which is not a readable file");
  }
}

void require_dir(const Environment& env, const std::string& path, std::string_view origin) {
  if (!env.is_directory(path)) {
    throw Failure(ExitCode::kUsage,
                  std::string(origin) + " names " + path + ", which is not a directory");
  }
}

}  // namespace

TrustStore discover_trust(const CaSettings& settings, const Environment& env,
                          const CaSettings& names) {
  if (!settings.ca_file.empty() || !settings.ca_dir.empty()) {
    TrustStore trust;
    if (!settings.ca_file.empty()) {
      require_file(env, settings.ca_file, names.ca_file);
      trust.ca_file = settings.ca_file;
      trust.source = names.ca_file + " " + settings.ca_file;
    }
    if (!settings.ca_dir.empty()) {
      require_dir(env, settings.ca_dir, names.ca_dir);
      trust.ca_dir = settings.ca_dir;
      trust.source +=
          (trust.source.empty() ? "" : " and ") + (names.ca_dir + " " + settings.ca_dir);
    }
    return trust;
  }

  const auto cert_file = env.get("SSL_CERT_FILE").value_or("");
  const auto cert_dir = env.get("SSL_CERT_DIR").value_or("");
  if (!cert_file.empty() || !cert_dir.empty()) {
    TrustStore trust;
    if (!cert_file.empty()) {
      require_file(env, cert_file, "SSL_CERT_FILE");
      trust.ca_file = cert_file;
      trust.source = "SSL_CERT_FILE=" + cert_file;
    }
    if (!cert_dir.empty()) {
      // OpenSSL reads SSL_CERT_DIR as a colon-separated list; we take the first entry.
      const auto first = cert_dir.substr(0, cert_dir.find(':'));
      require_dir(env, first, "SSL_CERT_DIR");
      trust.ca_dir = first;
      trust.source += (trust.source.empty() ? "" : " and ") + ("SSL_CERT_DIR=" + first);
    }
    return trust;
  }

  for (const auto path : kBundleFiles) {
    if (env.is_readable_file(std::string(path))) {
      return TrustStore{
          .ca_file = std::string(path), .ca_dir = {}, .ca_pem = {}, .source = std::string(path)};
    }
  }
  for (const auto path : kCertificateDirs) {
    if (env.is_directory(std::string(path))) {
      return TrustStore{
          .ca_file = {}, .ca_dir = std::string(path), .ca_pem = {}, .source = std::string(path)};
    }
  }
  throw Failure(
      ExitCode::kUsage,
      "no CA certificates found: none of the usual bundles exists on this node "
      "(/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, ...); " +
          (names.ca_file.starts_with("--") ? "pass " + names.ca_file + " or set SSL_CERT_FILE"
                                           : "set " + names.ca_file + " or SSL_CERT_FILE"));
}

}  // namespace qcp::net
