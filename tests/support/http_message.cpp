#include "http_message.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

#include "http_text.hpp"

namespace qcp::test {
namespace {

constexpr std::size_t kMaxHeaderCount = 256;

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

bool parse_head(std::string_view head, RecordedRequest& req) {
  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return false;
  }
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") {
    return false;
  }
  const std::size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);

  std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
  while (!rest.empty()) {
    if (req.headers.size() >= kMaxHeaderCount) {
      return false;
    }
    const std::size_t end = rest.find("\r\n");
    const std::string_view h = rest.substr(0, end);
    const std::size_t colon = h.find(':');
    if (colon == 0 || colon == std::string_view::npos || h.front() == ' ' || h.front() == '\t' ||
        h.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
      return false;
    }
    req.headers.emplace_back(std::string(h.substr(0, colon)),
                             std::string(trim_ows(h.substr(colon + 1))));
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
  }
  return true;
}

void decode_basic_for_record(RecordedRequest& req) {
  const auto auth = req.header("Authorization");
  if (!auth) {
    return;
  }
  const std::string_view value = trim_ows(*auth);
  if (value.size() < 6 || !iequals(value.substr(0, 6), "basic ")) {
    return;
  }
  const auto decoded = python_b64decode(trim_ows(value.substr(6)));
  if (!decoded) {
    return;
  }
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return;
  }
  req.basic_user = decoded->substr(0, colon);
  req.basic_password = decoded->substr(colon + 1);
}

std::string peer_name(const sockaddr_storage& ss) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &ss, sizeof in6);
    inet_ntop(AF_INET6, &in6.sin6_addr, buf.data(), static_cast<socklen_t>(buf.size()));
    return "[" + std::string(buf.data()) + "]:" + std::to_string(ntohs(in6.sin6_port));
  }
  sockaddr_in in4{};
  std::memcpy(&in4, &ss, sizeof in4);
  inet_ntop(AF_INET, &in4.sin_addr, buf.data(), static_cast<socklen_t>(buf.size()));
  return std::string(buf.data()) + ":" + std::to_string(ntohs(in4.sin_port));
}

// ------------------------------------------------------------------------------------------

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

namespace {

Reply with_body(int status, std::string body, HeaderList headers, std::string_view type) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  if (!has_header(r.headers, "Content-Type")) {
    r.headers.emplace_back("Content-Type", std::string(type));
  }
  return r;
}

}  // namespace

Reply Reply::json(int status, const nlohmann::json& body, HeaderList headers) {
  return with_body(status, body.dump() + "\n", std::move(headers), "application/json");
}

Reply Reply::html(int status, std::string body, HeaderList headers) {
  return with_body(status, std::move(body), std::move(headers), "text/html; charset=utf-8");
}

Reply Reply::text(int status, std::string body, HeaderList headers) {
  return with_body(status, std::move(body), std::move(headers), "text/plain; charset=utf-8");
}

Reply Reply::hang(std::chrono::milliseconds limit) {
  Reply r;
  r.action = Action::kHang;
  r.hang_limit = limit;
  return r;
}

Reply Reply::reset() {
  Reply r;
  r.action = Action::kReset;
  return r;
}

Reply Reply::close_without_response() {
  Reply r;
  r.action = Action::kCloseWithoutResponse;
  return r;
}

Reply Reply::huge(std::size_t bytes, bool with_content_length) {
  Reply r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "application/json");
  r.generated_body_bytes = bytes;
  r.content_length = with_content_length;
  return r;
}

Reply Reply::endless_trailers(std::size_t bytes) {
  Reply r = json(200, {{"token", "x"}});
  r.generated_trailer_bytes = bytes;
  return r;
}

}  // namespace qcp::test
