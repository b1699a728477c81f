#pragma once
// Text helpers the tests' HTTP servers share: header names and lists as HTTP reads them, and
// base64 as Python (Quay's language) decodes it.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "https_server.hpp"

namespace qcp::test {

char ascii_lower(char c);
bool iequals(std::string_view a, std::string_view b);
// Whether a comma-separated header list ("keep-alive, close") holds `token`, any case.
bool icontains_token(std::string_view list, std::string_view token);
// Without optional whitespace (spaces and tabs) at either end.
std::string_view trim_ows(std::string_view s);
// CPython's base64.b64decode(s) without validate=True (see the .cpp).
std::optional<std::string> python_b64decode(std::string_view s);
// An IMF-fixdate, as the Date: header carries it.
std::string http_date(std::chrono::system_clock::time_point t);
// "2026-12-06T18:18:01Z": the API server's timestamps (seconds precision).
std::string rfc3339(std::chrono::system_clock::time_point t);
// errno's message, thread-safe.
std::string errno_text();
bool has_header(const HeaderList& headers, std::string_view name);

}  // namespace qcp::test
