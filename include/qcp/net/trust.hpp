#pragma once

#include <string>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// The caller's CA settings, and what its messages call them (a flag, or a variable).
struct CaSettings {
  std::string ca_file;
  std::string ca_dir;
};

// A static binary has no compiled-in CA path, so trust is found at run time, in this order:
// the caller's CA file and directory, then SSL_CERT_FILE/SSL_CERT_DIR, then the distributions'
// bundle files, then their certificate directories. A setting that names a missing path is an
// error, never a silent fall-through; messages call the caller's settings by `names`.
TrustStore discover_trust(const CaSettings& settings, const Environment& env,
                          const CaSettings& names);

}  // namespace qcp::net
