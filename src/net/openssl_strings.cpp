#include "net/openssl_strings.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <cstdlib>
#include <string_view>

#include "qcp/net/namespace.hpp"

#ifdef QCP_OPENSSL_LAZY_ERROR_STRINGS
// OpenSSL's loaders for its string tables. Internal to OpenSSL, so only for the OpenSSL this
// build compiles itself (cmake/StaticOpenSsl.cmake): a version without them fails to link.
extern "C" int ossl_err_load_crypto_strings(void);
extern "C" int ossl_err_load_SSL_strings(void);
#endif

namespace qcp::net {
namespace {

bool is_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// At `at`, "error:XXXXXXXX:lib(N)::reason(M)": how long it is and its code; 0 when not that.
std::size_t unrendered_error(std::string_view text, std::size_t at, unsigned long& code) {
  constexpr std::string_view kPrefix = "error:";
  if (text.substr(at, kPrefix.size()) != kPrefix || text.size() < at + kPrefix.size() + 9) {
    return 0;
  }
  const std::string_view hex = text.substr(at + kPrefix.size(), 8);
  if (hex.find_first_not_of("0123456789ABCDEFabcdef") != std::string_view::npos ||
      text[at + kPrefix.size() + 8] != ':') {
    return 0;
  }
  const std::size_t rest_at = at + kPrefix.size() + 9;
  const std::string_view rest = text.substr(rest_at);
  const std::size_t lib_end = rest.find(")::reason(");
  const std::size_t reason_end =
      rest.find(')', lib_end == std::string_view::npos ? 0 : lib_end + 10);
  if (!rest.starts_with("lib(") || lib_end == std::string_view::npos ||
      reason_end == std::string_view::npos || !is_digits(rest.substr(4, lib_end - 4)) ||
      !is_digits(rest.substr(lib_end + 10, reason_end - lib_end - 10))) {
    return 0;
  }
  code = std::strtoul(std::string(hex).c_str(), nullptr, 16);
  return rest_at - at + reason_end + 1;
}

}  // namespace

void defer_openssl_error_strings() {
#ifdef QCP_OPENSSL_LAZY_ERROR_STRINGS
  static_cast<void>(OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, nullptr));
  static_cast<void>(OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS, nullptr));
#endif
}

std::string with_openssl_error_strings(const std::string& detail) {
#ifdef QCP_OPENSSL_LAZY_ERROR_STRINGS
  static const bool loaded =
      ossl_err_load_crypto_strings() == 1 && ossl_err_load_SSL_strings() == 1;
  if (!loaded) {
    return detail;
  }
#endif
  std::string rendered;
  for (std::size_t at = 0; at < detail.size();) {
    unsigned long code = 0;
    const std::size_t length = unrendered_error(detail, at, code);
    if (length == 0) {
      rendered.push_back(detail[at++]);
      continue;
    }
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    rendered += text.data();
    at += length;
  }
  return rendered;
}

}  // namespace qcp::net
