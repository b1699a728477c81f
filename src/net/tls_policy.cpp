#include "net/tls_policy.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/ca_lookup.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

bool has_dns_or_ip_name(X509* certificate) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    return false;
  }
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    found = name->type == GEN_DNS || name->type == GEN_IPADD;
  }
  GENERAL_NAMES_free(names);
  return found;
}

int verify_leaf_has_san(int preverified, X509_STORE_CTX* store) {
  if (preverified != 1 || X509_STORE_CTX_get_error_depth(store) != 0) {
    return preverified;
  }
  if (!has_dns_or_ip_name(X509_STORE_CTX_get_current_cert(store))) {
    leaf_without_san_seen() = true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
    return 0;
  }
  return 1;
}

}  // namespace

bool& leaf_without_san_seen() {
  thread_local bool seen = false;
  return seen;
}

CURLcode prepare_tls_context(CURL* /*handle*/, void* ssl_ctx, void* setup) {
  auto* context = static_cast<SSL_CTX*>(ssl_ctx);
  const auto* wanted = static_cast<const TlsContextSetup*>(setup);
  if (wanted != nullptr && wanted->bundle != nullptr &&
      !add_bundle_lookup(context, *wanted->bundle)) {
    return CURLE_SSL_CACERT_BADFILE;
  }
  // libcurl has set the mode (peer verification on); keep it, add our check.
  SSL_CTX_set_verify(context, SSL_CTX_get_verify_mode(context), &verify_leaf_has_san);
  return CURLE_OK;
}

}  // namespace qcp::net
