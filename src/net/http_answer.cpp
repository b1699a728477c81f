#include "qcp/net/http_answer.hpp"

#include <algorithm>
#include <cctype>

#include "qcp/core/text.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {
namespace {

bool is_field(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

// "HTTP/1.1 503 Service Unavailable" -> 503; 0 when the code is not three digits.
long status_of(std::string_view line) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) {
    return 0;
  }
  const auto code = line.substr(space + 1, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return (code[0] - '0') * 100L + (code[1] - '0') * 10L + (code[2] - '0');
}

}  // namespace

bool AnswerCollector::add_header_line(std::string_view line) {
  header_bytes_ += line.size();
  if (header_bytes_ > max_header_bytes_) {
    headers_overflowed_ = true;
    return false;
  }
  if (body_started_) {
    return true;
  }
  if (line.starts_with("HTTP/")) {
    response_ = HttpResponse{};
    response_.status = status_of(line);
  } else if (is_field(line, "Content-Type")) {
    response_.content_type = std::string(trimmed(line.substr(13)));
  } else if (is_field(line, "Retry-After")) {
    response_.retry_after = std::string(trimmed(line.substr(12)));
  } else if (is_field(line, "Date")) {
    response_.date = std::string(trimmed(line.substr(5)));
  } else if (is_field(line, "WWW-Authenticate")) {
    response_.www_authenticate = std::string(trimmed(line.substr(17)));
  }
  return true;
}

bool AnswerCollector::add_body(std::string_view chunk) {
  body_started_ = true;
  if (response_.body.size() + chunk.size() > max_body_bytes_) {
    body_overflowed_ = true;
    return false;
  }
  response_.body.append(chunk);
  return true;
}

HttpResponse AnswerCollector::take() {
  return std::move(response_);
}

}  // namespace qcp::net
