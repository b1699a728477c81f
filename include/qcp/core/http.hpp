#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace qcp::core {

// Where trust comes from for one request: a bundle file and/or a hashed certificate directory,
// and a name for messages ("--ca-file", "SSL_CERT_FILE", "/etc/pki/tls/certs/ca-bundle.crt").
struct TrustStore {
  std::string ca_file;
  std::string ca_dir;
  std::string source;
};

struct HttpRequest {
  std::string url;  // https only; never carries credentials
  std::vector<std::pair<std::string, std::string>> headers;
  // Basic credentials are kept apart from headers so no code path prints them with the rest.
  std::string basic_user;
  std::string basic_password;
  TrustStore trust;
  // Explicit, from the environment seam: libcurl must not read the process environment itself.
  // Empty proxy = direct connection.
  std::string proxy;
  std::string no_proxy;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{20000};
  std::size_t max_body_bytes = std::size_t{1} << 20;
  // Status line, headers and trailers together: Quay's are about 1 KiB.
  std::size_t max_header_bytes = std::size_t{64} << 10;
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string body;
  std::optional<std::string> retry_after;
};

// A request that got no HTTP answer. A value, not an exception: callers decide what it means.
struct TransportError {
  enum class Kind {
    kResolve,
    kConnect,
    kTimeout,
    kCertificate,       // Quay's certificate failed verification (chain, name, no SAN)
    kProxyCertificate,  // the HTTPS proxy's own certificate failed verification
    kTlsInterrupted,    // reset or closed during the handshake: transient, like a reset
    kNotTls,            // the peer answered in plain text (HTTP on the HTTPS port)
    kTlsVersion,        // the peer offers no TLS 1.2 or 1.3
    kTls,               // any other handshake failure (no common cipher, bad alert)
    kNoDescriptors,     // this process is out of file descriptors
    kTooLarge,
    kProtocol,
    kOther
  };
  Kind kind = Kind::kOther;
  std::string detail;  // the transport's own words; never contains credentials
};

using HttpResult = std::variant<HttpResponse, TransportError>;

// The one network seam: production uses libcurl (curl_http.hpp), tests use fakes or libcurl
// against a fake Quay on loopback.
class HttpClient {
 public:
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) = delete;
  HttpClient& operator=(HttpClient&&) = delete;
  virtual ~HttpClient() = default;

  virtual HttpResult get(const HttpRequest& request) = 0;
};

}  // namespace qcp::core
