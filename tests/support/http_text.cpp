#include "http_text.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>
#include <system_error>

namespace qcp::test {

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool icontains_token(std::string_view list, std::string_view token) {
  // Comma-separated header list such as "Connection: keep-alive, close".
  std::size_t start = 0;
  for (int guard = 0; guard < 64 && start <= list.size(); ++guard) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) {
      end = list.size();
    }
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (iequals(item, token)) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// CPython's base64.b64decode(s) without validate=True: non-alphabet characters are skipped, a
// complete pad sequence ends the data, a dangling quantum is an error, non-ASCII input raises.
std::optional<std::string> python_b64decode(std::string_view s) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (std::any_of(s.begin(), s.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return std::nullopt;
  }
  std::string out;
  int quad = 0;
  int pads = 0;
  std::uint32_t left = 0;
  for (const char ch : s) {
    if (ch == '=') {
      if (quad >= 2) {
        ++pads;
        if (quad + pads >= 4) {
          return out;
        }
      }
      continue;
    }
    const std::size_t pos = kAlphabet.find(ch);
    if (pos == std::string_view::npos) {
      continue;
    }
    const auto v = static_cast<std::uint32_t>(pos);
    pads = 0;
    switch (quad) {
      case 0:
        left = v;
        quad = 1;
        break;
      case 1:
        out += static_cast<char>(static_cast<unsigned char>(((left << 2) | (v >> 4)) & 0xff));
        left = v & 0x0f;
        quad = 2;
        break;
      case 2:
        out += static_cast<char>(static_cast<unsigned char>(((left << 4) | (v >> 2)) & 0xff));
        left = v & 0x03;
        quad = 3;
        break;
      default:
        out += static_cast<char>(static_cast<unsigned char>(((left << 6) | v) & 0xff));
        left = 0;
        quad = 0;
        break;
    }
  }
  if (quad != 0) {
    return std::nullopt;
  }
  return out;
}

namespace {

std::string format_utc(std::chrono::system_clock::time_point t, const char* format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::ostringstream text;
  text.imbue(std::locale::classic());
  text << std::put_time(&utc, format);
  return text.str();
}

}  // namespace

std::string http_date(std::chrono::system_clock::time_point t) {
  return format_utc(t, "%a, %d %b %Y %H:%M:%S GMT");
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return format_utc(t, "%Y-%m-%dT%H:%M:%SZ");
}

// strerror is not thread-safe; the system category's message is.
std::string errno_text() {
  return std::system_category().message(errno);
}

bool has_header(const HeaderList& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

}  // namespace qcp::test
