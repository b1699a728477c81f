// Fuzzes the image -> registry split and the host[:port] check (also used for the quay.io/host
// annotation and --allowed-host).
//
// Invariants (a violation traps):
//   - registry_of_image either throws qcp::Failure (with a message) or returns "docker.io" or a
//     valid host[:port];
//   - whatever is_valid_host_port accepts (the input itself, and so the returned registry) has no
//     '/', no whitespace, no other control character and at most 253 + 1 + 5 + 2 chars (a maximal
//     DNS name, ':' and a port, or the brackets of an IPv6 literal): it becomes a URL's authority,
//     the response's auth key and part of log lines.
// Any exception other than qcp::Failure escapes and aborts: also a crash.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/names.hpp"

namespace {

constexpr std::size_t kMaxHostPort = 253 + 1 + 5 + 2;

// Whitespace (' ', \t, \n, \v, \f, \r) and every other ASCII control character, NUL included.
bool is_space_or_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == ' ' || byte < 0x20 || byte == 0x7F;
}

// Called only on strings that is_valid_host_port accepted.
void check_host_port_shape(std::string_view host_port) {
  qcp_fuzz::check(host_port.find('/') == std::string_view::npos,
                  "a valid host[:port] contains no '/'");
  qcp_fuzz::check(std::none_of(host_port.begin(), host_port.end(), is_space_or_control),
                  "a valid host[:port] contains no whitespace or control character");
  qcp_fuzz::check(host_port.size() <= kMaxHostPort, "a valid host[:port] is at most 261 chars");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  try {
    const std::string registry = qcp::registry_of_image(text);
    if (registry != "docker.io") {
      qcp_fuzz::check(qcp::is_valid_host_port(registry),
                      "registry_of_image returns docker.io or a valid host[:port]");
      check_host_port_shape(registry);
    }
  } catch (const qcp::Failure& failure) {
    qcp_fuzz::check(!std::string_view(failure.what()).empty(), "a Failure has a message");
  }

  if (qcp::is_valid_host_port(text)) {
    check_host_port_shape(text);
  }
  return 0;
}
