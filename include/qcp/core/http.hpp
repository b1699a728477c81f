#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace qcp::core {

// Where trust comes from for one request: a bundle file and/or a hashed certificate directory,
// and a name for messages ("--ca-file", "SSL_CERT_FILE", "/etc/pki/tls/certs/ca-bundle.crt").
struct TrustStore {
  std::string ca_file;
  std::string ca_dir;
  std::string ca_pem;  // the bundle itself, when it came inline (a kubeconfig's CA data)
  std::string source;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;             // https only; never carries credentials
  std::vector<std::pair<std::string, std::string>> headers;
  // Sent as is (its Content-Type is one of `headers`). May hold a secret: never printed.
  std::string body;
  // Basic credentials are kept apart from headers so no code path prints them with the rest.
  std::string basic_user;
  std::string basic_password;
  // A client certificate and its key (PEM) for mutual TLS, as a kubeconfig gives them. The key
  // is a secret.
  std::string client_certificate_pem;
  std::string client_key_pem;
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
  // A streamed answer (a watch): the body of a 200 answer is handed over chunk by chunk as it
  // arrives instead of being collected (max_body_bytes is then the sink's to keep); any other
  // answer is collected as usual. The sink returns false to stop reading: kAborted.
  std::function<bool(std::string_view chunk)> body_sink;
  // Asked about once a second while the request runs, whether data arrives or not: false ends
  // it at once as kAborted (a stop signal, a lost lease). Empty: never asked.
  std::function<bool()> keep_going;
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string body;
  std::optional<std::string> retry_after;
  // A registry's challenge (`Bearer realm="...",service="..."`): where its token endpoint is.
  std::optional<std::string> www_authenticate;
  std::optional<std::string> date;  // the server's clock when it answered (an HTTP date)
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
    kAborted,  // the caller's body_sink or keep_going ended it
    kOther
  };
  Kind kind = Kind::kOther;
  std::string detail;  // the transport's own words; never contains credentials
};

using HttpResult = std::variant<HttpResponse, TransportError>;

// The one network seam: production uses libcurl (curl_http.hpp), tests use fakes or libcurl
// against the fake servers on loopback.
class HttpClient {
 public:
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) = delete;
  HttpClient& operator=(HttpClient&&) = delete;
  virtual ~HttpClient() = default;

  virtual HttpResult send(const HttpRequest& request) = 0;
};

// Gives each request that has no keep_going of its own the caller's: a long-running command's
// stop signal ends a request in flight (kAborted) instead of waiting out its timeout.
class StoppableHttp final : public HttpClient {
 public:
  StoppableHttp(HttpClient& inner, std::function<bool()> keep_going)
      : inner_(inner), keep_going_(std::move(keep_going)) {}
  HttpResult send(const HttpRequest& request) override {
    if (request.keep_going) {
      return inner_.send(request);
    }
    HttpRequest stoppable = request;
    stoppable.keep_going = keep_going_;
    return inner_.send(stoppable);
  }

 private:
  HttpClient& inner_;
  std::function<bool()> keep_going_;
};

}  // namespace qcp::core
