#pragma once

#include <openssl/ssl.h>

#include "qcp/net/ca_bundle.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// Makes `context`'s trust store find its CAs in `bundle`, decoding a certificate only when the
// verifier asks for its subject (an X509_LOOKUP, like OpenSSL's hashed-directory lookup). The
// bundle must outlive the context. false: OpenSSL could not add the lookup.
bool add_bundle_lookup(SSL_CTX* context, const CaBundle& bundle);

}  // namespace qcp::net
