#include "net/curl_errors.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>

#include "qcp/core/unique_fd.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

using Kind = TransportError::Kind;

bool mentions(const std::string& text, std::initializer_list<std::string_view> needles) {
  for (const auto needle : needles) {
    if (text.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// CURLE_SSL_CONNECT_ERROR covers every handshake failure; OpenSSL's reason tells them apart.
Kind handshake_kind(const std::string& detail) {
  if (mentions(detail, {"wrong version number", "packet length too long", "http request"})) {
    return Kind::kNotTls;
  }
  if (mentions(detail, {"protocol version", "unsupported protocol", "no protocols available"})) {
    return Kind::kTlsVersion;
  }
  if (mentions(detail, {"SSL_ERROR_SYSCALL", "Connection reset", "unexpected eof", "Recv failure",
                        "Send failure", "Broken pipe"})) {
    return Kind::kTlsInterrupted;
  }
  return Kind::kTls;
}

Kind kind_of(const CurlFailure& failure) {
  switch (failure.code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Kind::kResolve;
    case CURLE_COULDNT_CONNECT:
      return Kind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return Kind::kTimeout;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return failure.proxy_certificate ? Kind::kProxyCertificate : Kind::kCertificate;
    case CURLE_SSL_CONNECT_ERROR:
      return handshake_kind(failure.detail);
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
      return Kind::kTls;
    case CURLE_FILESIZE_EXCEEDED:
      return Kind::kTooLarge;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return Kind::kProtocol;
    default:
      return Kind::kOther;
  }
}

}  // namespace

bool out_of_descriptors() {
  return !descriptors_available(1);
}

bool descriptors_available(std::size_t needed) {
  std::array<UniqueFd, kDescriptorsForARequest> opened{};  // closed again on the way out
  for (std::size_t count = 0; count < std::min(needed, opened.size()); ++count) {
    opened[count] = UniqueFd(::eventfd(0, EFD_CLOEXEC));
    if (opened[count].get() < 0) {
      return errno != EMFILE && errno != ENFILE;
    }
  }
  return true;
}

TransportError describe_curl_failure(const CurlFailure& failure) {
  // Checked first: with no descriptor left, libcurl reports a connect, resolve or CA-file
  // failure that is none of those.
  if (failure.code != CURLE_OK && out_of_descriptors()) {
    return {Kind::kNoDescriptors, "none was left: " + failure.detail};
  }
  if (failure.leaf_without_san) {
    return {Kind::kCertificate,
            "the certificate has no subjectAltName: a name only in the subject's CN is not "
            "accepted (" +
                failure.detail + ")"};
  }
  return {kind_of(failure), failure.detail};
}

}  // namespace qcp::net
