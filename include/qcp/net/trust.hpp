#pragma once

#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// A static binary has no compiled-in CA path, so trust is found at run time, in this order:
// --ca-file/--ca-dir, then SSL_CERT_FILE/SSL_CERT_DIR, then the distributions' bundle files,
// then their certificate directories. A setting that names a missing path is an error, never a
// silent fall-through.
TrustStore discover_trust(const std::string& ca_file_flag, const std::string& ca_dir_flag,
                          const Environment& env);

}  // namespace qcp::net
