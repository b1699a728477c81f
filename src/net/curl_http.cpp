#include "qcp/net/curl_http.hpp"

#include <curl/curl.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>

#include "net/curl_errors.hpp"
#include "net/openssl_strings.hpp"
#include "net/tls_policy.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/net/http_answer.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// libcurl's callbacks hand every header line (trailers after the last chunk included: libcurl
// also keeps each one for curl_easy_header(), so an endless stream would grow without bound) and
// every body chunk to the collector, which bounds both while they arrive.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* context) {
  const std::size_t bytes = size * count;
  return static_cast<AnswerCollector*>(context)->add_header_line({data, bytes}) ? bytes : 0;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* context) {
  const std::size_t bytes = size * count;
  return static_cast<AnswerCollector*>(context)->add_body({data, bytes}) ? bytes : 0;
}

// Collects setopt results so one failed option (e.g. a feature missing from the linked libcurl)
// is reported instead of silently weakening the request.
class Setter {
 public:
  explicit Setter(CURL* handle) : handle_(handle) {}
  template <typename T>
  void operator()(CURLoption option, T value) {
    const CURLcode code = curl_easy_setopt(handle_, option, value);
    if (code != CURLE_OK && first_error_ == CURLE_OK) {
      first_error_ = code;
    }
  }
  [[nodiscard]] CURLcode result() const { return first_error_; }

 private:
  CURL* handle_;
  CURLcode first_error_ = CURLE_OK;
};

// A distribution's bundle is ~220 KiB; anything past this is not a CA bundle.
constexpr std::size_t kMaxBundleBytes = std::size_t{16} << 20U;

// A request libcurl must not be handed, or one this process has no descriptors left for.
std::optional<TransportError> refused_before_start(const HttpRequest& request) {
  // libcurl reads 0 as "no timeout" and a negative one as ~49 days: never hand it either.
  if (request.total_timeout < std::chrono::milliseconds{1} ||
      request.connect_timeout < std::chrono::milliseconds{1}) {
    return TransportError{TransportError::Kind::kTimeout, "no time left for the request"};
  }
  if (!descriptors_available()) {
    return TransportError{
        TransportError::Kind::kNoDescriptors,
        "fewer than " + std::to_string(kDescriptorsForARequest) + " file descriptors are free"};
  }
  return std::nullopt;
}

// The request's headers as libcurl's list; false when it runs out of memory.
bool append_headers(const HttpRequest& request, HeaderList& headers) {
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* extended = curl_slist_append(headers.get(), line.c_str());
    if (extended == nullptr) {
      return false;
    }
    static_cast<void>(headers.release());
    headers.reset(extended);
  }
  return true;
}

// One HTTPS GET, by the request's deadlines, never following a redirect.
void set_transfer_options(Setter& set, const HttpRequest& request, curl_slist* headers,
                          char* error_buffer) {
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_HTTPGET, 1L);
  set(CURLOPT_PROTOCOLS_STR, "https");
  set(CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an answer to report, never to follow
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
}

// Verification on, TLS 1.2 or later, toward the server and an HTTPS proxy alike.
void set_trust_options(Setter& set, const TrustStore& trust, TlsContextSetup& tls_setup) {
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  // No CA file for libcurl: it would decode every certificate in it up front. The bundle's own
  // lookup serves Quay's connection and an HTTPS proxy's (the callback runs for both); a CA
  // directory stays OpenSSL's hashed lookup. nullptr also drops any CA location compiled into
  // a system libcurl.
  set(CURLOPT_CAINFO, static_cast<const char*>(nullptr));
  set(CURLOPT_PROXY_CAINFO, static_cast<const char*>(nullptr));
  const char* ca_dir = trust.ca_dir.empty() ? nullptr : trust.ca_dir.c_str();
  set(CURLOPT_CAPATH, ca_dir);
  set(CURLOPT_PROXY_CAPATH, ca_dir);
  set(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
  set(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSL_CTX_FUNCTION, &prepare_tls_context);
  set(CURLOPT_SSL_CTX_DATA, &tls_setup);
}

// Basic credentials when the request has them, and the proxy the caller chose.
void set_identity_and_route(Setter& set, const HttpRequest& request) {
  if (!request.basic_user.empty()) {
    set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    set(CURLOPT_USERNAME, request.basic_user.c_str());
    set(CURLOPT_PASSWORD, request.basic_password.c_str());
  }
  // "" disables libcurl's own reading of *_proxy variables; the caller decided already.
  set(CURLOPT_PROXY, request.proxy.c_str());
  if (!request.no_proxy.empty()) {
    set(CURLOPT_NOPROXY, request.no_proxy.c_str());
  }
}

void set_answer_sinks(Setter& set, const HttpRequest& request, AnswerCollector& answer) {
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_body_bytes));
  set(CURLOPT_WRITEFUNCTION, &on_body);
  set(CURLOPT_WRITEDATA, &answer);
  set(CURLOPT_HEADERFUNCTION, &on_header);
  set(CURLOPT_HEADERDATA, &answer);
}

// Why curl_easy_perform failed, told apart: an answer over its bounds, or the transport's own
// failure (curl_errors).
TransportError failed_transfer(CURL* handle, CURLcode code, const HttpRequest& request,
                               const AnswerCollector& answer, const char* error_buffer) {
  if (answer.body_overflowed() || code == CURLE_FILESIZE_EXCEEDED) {
    return TransportError{
        TransportError::Kind::kTooLarge,
        "the answer is larger than " + std::to_string(request.max_body_bytes) + " bytes"};
  }
  const std::string detail =
      with_openssl_error_strings(error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code));
  if (answer.headers_overflowed() || detail.starts_with("Too large response headers")) {
    return TransportError{TransportError::Kind::kTooLarge,
                          "the answer's headers are larger than " +
                              std::to_string(request.max_header_bytes) + " bytes"};
  }
  if (code == CURLE_OUT_OF_MEMORY) {
    // libcurl's way of refusing one header line over 100 KiB; this process has no other
    // allocation that large.
    return TransportError{TransportError::Kind::kTooLarge,
                          "the answer has a header line longer than libcurl accepts (100 KiB)"};
  }
  long proxy_verify_result = 0;
  curl_easy_getinfo(handle, CURLINFO_PROXY_SSL_VERIFYRESULT, &proxy_verify_result);
  return describe_curl_failure(CurlFailure{.code = code,
                                           .detail = detail,
                                           .proxy_certificate = proxy_verify_result != 0,
                                           .leaf_without_san = leaf_without_san_seen()});
}

}  // namespace

CurlHttpClient::CurlHttpClient() {
  defer_openssl_error_strings();
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("libcurl could not be initialised");
  }
}

CurlHttpClient::~CurlHttpClient() {
  curl_global_cleanup();
}

const CaBundle* CurlHttpClient::bundle_for(const std::string& path, std::string& problem) {
  if (bundle_ && bundle_path_ == path) {
    return bundle_.get();
  }
  std::string text;
  try {
    text = read_whole_file(path, kMaxBundleBytes);
  } catch (const Failure& failure) {
    problem = failure.what();  // "cannot read PATH: why"
    return nullptr;
  }
  auto bundle = std::make_unique<CaBundle>(std::move(text));
  if (bundle->size() == 0) {
    problem = path + " holds no PEM certificate";
    return nullptr;
  }
  bundle_ = std::move(bundle);
  bundle_path_ = path;
  return bundle_.get();
}

HttpResult CurlHttpClient::get(const HttpRequest& request) {
  if (auto refused = refused_before_start(request)) {
    return *refused;
  }
  const CaBundle* bundle = nullptr;
  if (!request.trust.ca_file.empty()) {
    std::string problem;
    bundle = bundle_for(request.trust.ca_file, problem);
    if (bundle == nullptr) {
      return TransportError{TransportError::Kind::kCertificate, problem};
    }
  }
  EasyHandle handle(curl_easy_init());
  if (!handle) {
    return TransportError{TransportError::Kind::kOther, "libcurl could not create a handle"};
  }
  HeaderList headers;
  if (!append_headers(request, headers)) {
    return TransportError{TransportError::Kind::kOther, "out of memory for headers"};
  }
  AnswerCollector answer(request.max_header_bytes, request.max_body_bytes);
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  TlsContextSetup tls_setup{.bundle = bundle};
  Setter set(handle.get());
  set_transfer_options(set, request, headers.get(), error_buffer.data());
  set_trust_options(set, request.trust, tls_setup);
  set_identity_and_route(set, request);
  set_answer_sinks(set, request, answer);
  if (set.result() != CURLE_OK) {
    return TransportError{TransportError::Kind::kOther, std::string("libcurl refused an option: ") +
                                                            curl_easy_strerror(set.result())};
  }

  leaf_without_san_seen() = false;
  const CURLcode code = curl_easy_perform(handle.get());
  if (code != CURLE_OK) {
    return failed_transfer(handle.get(), code, request, answer, error_buffer.data());
  }
  HttpResponse response = answer.take();
  curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace qcp::net
