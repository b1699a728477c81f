#include "qcp/net/curl_http.hpp"

#include <curl/curl.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>

#include "net/curl_errors.hpp"
#include "net/curl_options.hpp"
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

// Idle handles kept per trust: one per thread that sends at once is enough to reuse them all.
constexpr std::size_t kIdleHandlesPerTrust = 8;

// What a connection was verified against. libcurl reuses a connection for a request to the same
// host and port with the same TLS options of its own, but the CA bundle is installed by our TLS
// callback, which it does not compare: a handle (with its connections and TLS sessions) serves
// only requests that trust the same.
std::string trust_key(const HttpRequest& request, const CaBundle* bundle) {
  return std::to_string(reinterpret_cast<std::uintptr_t>(bundle)) + '\n' + request.trust.ca_dir +
         '\n' + request.client_certificate_pem;
}

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

// Why curl_easy_perform failed, told apart: an answer over its bounds, or the transport's own
// failure (curl_errors).
TransportError failed_transfer(CURL* handle, CURLcode code, const Transfer& transfer,
                               const char* error_buffer) {
  const HttpRequest& request = transfer.request;
  const AnswerCollector& answer = transfer.answer;
  if (transfer.aborted) {
    return TransportError{TransportError::Kind::kAborted, "ended by the caller"};
  }
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

// A renewal sends a TokenRequest, an exchange and a Secret write: with a new handle each, every
// request paid a TCP and a TLS handshake, and libcurl's per-handle set-up (resolver, TLS
// context): most of the controller's CPU. Between requests a handle waits here with its
// connections open, to be reset and reused by the next request that trusts the same.
struct CurlHttpClient::IdleHandles {
  std::mutex mutex;
  std::map<std::string, std::vector<EasyHandle>, std::less<>> by_trust;

  EasyHandle take(const std::string& key) {
    {
      const std::lock_guard lock(mutex);
      if (auto found = by_trust.find(key); found != by_trust.end() && !found->second.empty()) {
        EasyHandle handle = std::move(found->second.back());
        found->second.pop_back();
        return handle;
      }
    }
    return EasyHandle(curl_easy_init());
  }
  void give_back(const std::string& key, EasyHandle handle) {
    // Options only, none of which may point at the finished request's buffers while it waits:
    // its connections and TLS sessions stay.
    curl_easy_reset(handle.get());
    const std::lock_guard lock(mutex);
    auto& idle = by_trust[key];
    if (idle.size() < kIdleHandlesPerTrust) {
      idle.push_back(std::move(handle));
    }
  }
};

// Holds a handle for one request and gives it back after, whatever the request's outcome
// (libcurl itself closes a connection a failed transfer leaves unusable).
class CurlHttpClient::Lease {
 public:
  Lease(IdleHandles& idle, std::string key) : idle_(idle), key_(std::move(key)) {
    handle_ = idle_.take(key_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease(Lease&&) = delete;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (handle_) {
      idle_.give_back(key_, std::move(handle_));
    }
  }
  [[nodiscard]] CURL* get() const { return handle_.get(); }

 private:
  IdleHandles& idle_;
  std::string key_;
  EasyHandle handle_;
};

CurlHttpClient::CurlHttpClient() {
  defer_openssl_error_strings();
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("libcurl could not be initialised");
  }
  idle_ = std::make_unique<IdleHandles>();
}

CurlHttpClient::~CurlHttpClient() {
  idle_.reset();  // every handle cleaned up before libcurl is
  curl_global_cleanup();
}

const CaBundle* CurlHttpClient::bundle_for(const TrustStore& trust, std::string& problem) {
  // The bundle a file holds, or the one that came inline, read and indexed once: retries and
  // every call to the same server reuse it.
  const std::string& key = trust.ca_pem.empty() ? trust.ca_file : trust.ca_pem;
  const std::lock_guard lock(mutex_);
  if (const auto known = bundles_.find(key); known != bundles_.end()) {
    return known->second.get();
  }
  std::string text = trust.ca_pem;
  if (text.empty()) {
    try {
      text = read_whole_file(trust.ca_file, kMaxBundleBytes);
    } catch (const Failure& failure) {
      problem = failure.what();  // "cannot read PATH: why"
      return nullptr;
    }
  }
  auto bundle = std::make_unique<CaBundle>(std::move(text));
  if (bundle->size() == 0) {
    problem = (trust.ca_pem.empty() ? trust.ca_file : trust.source) + " holds no PEM certificate";
    return nullptr;
  }
  return bundles_.emplace(key, std::move(bundle)).first->second.get();
}

HttpResult CurlHttpClient::send(const HttpRequest& request) {
  if (auto refused = refused_before_start(request)) {
    return *refused;
  }
  const CaBundle* bundle = nullptr;
  if (!request.trust.ca_file.empty() || !request.trust.ca_pem.empty()) {
    std::string problem;
    bundle = bundle_for(request.trust, problem);
    if (bundle == nullptr) {
      return TransportError{TransportError::Kind::kCertificate, problem};
    }
  }
  const Lease handle(*idle_, trust_key(request, bundle));
  if (handle.get() == nullptr) {
    return TransportError{TransportError::Kind::kOther, "libcurl could not create a handle"};
  }
  HeaderList headers;
  if (!append_headers(request, headers)) {
    return TransportError{TransportError::Kind::kOther, "out of memory for headers"};
  }
  Transfer transfer{.request = request,
                    .answer = AnswerCollector(request.max_header_bytes, request.max_body_bytes)};
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  TlsContextSetup tls_setup{.bundle = bundle};
  Setter set(handle.get());
  set_transfer_options(set, request, headers.get(), error_buffer.data());
  set_trust_options(set, request, tls_setup);
  set_identity_and_route(set, request);
  set_answer_sinks(set, transfer);
  if (set.result() != CURLE_OK) {
    return TransportError{TransportError::Kind::kOther, std::string("libcurl refused an option: ") +
                                                            curl_easy_strerror(set.result())};
  }

  leaf_without_san_seen() = false;
  const CURLcode code = curl_easy_perform(handle.get());
  if (code != CURLE_OK) {
    return failed_transfer(handle.get(), code, transfer, error_buffer.data());
  }
  HttpResponse response = transfer.answer.take();
  curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace qcp::net
