#include "net/ca_lookup.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

X509* decode(const CaBundle& bundle, std::size_t index) {
  const auto der = bundle.der(index);
  if (!der) {
    return nullptr;
  }
  const unsigned char* at = der->data();
  const long length = static_cast<long>(der->size());
  // A block that fails to decode is skipped; its error must not become the handshake's.
  ERR_set_mark();
  // TRUSTED CERTIFICATE carries trust settings after the certificate; OpenSSL honours them (a
  // "reject serverAuth" CA refuses), exactly as when it loads the file itself.
  X509* certificate = bundle.has_trust_settings(index) ? d2i_X509_AUX(nullptr, &at, length)
                                                       : d2i_X509(nullptr, &at, length);
  ERR_pop_to_mark();
  return certificate;
}

// Adds every bundle certificate whose subject is `name` to the store, as OpenSSL's file lookup
// would have up front, and hands the first back. The store's cache answers later lookups.
int get_by_subject(X509_LOOKUP* lookup, X509_LOOKUP_TYPE type, const X509_NAME* name,
                   X509_OBJECT* result) {
  const auto* bundle = static_cast<const CaBundle*>(X509_LOOKUP_get_method_data(lookup));
  const unsigned char* name_der = nullptr;
  std::size_t name_length = 0;
  if (type != X509_LU_X509 || bundle == nullptr ||
      X509_NAME_get0_der(name, &name_der, &name_length) != 1) {
    return 0;
  }
  X509_STORE* store = X509_LOOKUP_get_store(lookup);
  for (const auto& candidate : bundle->candidates({name_der, name_length})) {
    X509* certificate = decode(*bundle, candidate.index);
    if (certificate == nullptr) {
      continue;  // not a certificate after all: skipped like any garbage block
    }
    if (candidate.certain || X509_NAME_cmp(X509_get_subject_name(certificate), name) == 0) {
      static_cast<void>(X509_STORE_add_cert(store, certificate));  // a duplicate is not added
    }
    X509_free(certificate);  // the store holds its own reference
  }
  X509_OBJECT* held =
      X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(store), X509_LU_X509, name);
  X509* certificate = held == nullptr ? nullptr : X509_OBJECT_get0_X509(held);
  if (certificate == nullptr || X509_OBJECT_set1_X509(result, certificate) != 1) {
    return 0;
  }
  // The caller takes its own reference to what `result` holds and never releases `result`
  // itself (OpenSSL's directory lookup fills it with the store's pointer): `result` borrows the
  // store's reference.
  X509_free(certificate);
  return 1;
}

X509_LOOKUP_METHOD* bundle_lookup_method() {
  // One per process, never freed: every store that uses it lives shorter.
  static X509_LOOKUP_METHOD* method = [] {
    X509_LOOKUP_METHOD* created = X509_LOOKUP_meth_new("qcp lazy CA bundle");
    if (created != nullptr) {
      X509_LOOKUP_meth_set_get_by_subject(created, &get_by_subject);
    }
    return created;
  }();
  return method;
}

}  // namespace

bool add_bundle_lookup(SSL_CTX* context, const CaBundle& bundle) {
  X509_LOOKUP_METHOD* method = bundle_lookup_method();
  X509_STORE* store = SSL_CTX_get_cert_store(context);
  X509_LOOKUP* lookup =
      method == nullptr || store == nullptr ? nullptr : X509_STORE_add_lookup(store, method);
  if (lookup == nullptr) {
    return false;
  }
  return X509_LOOKUP_set_method_data(lookup, const_cast<CaBundle*>(&bundle)) == 1;
}

}  // namespace qcp::net
