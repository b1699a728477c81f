#include "fake_quay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "ossl.hpp"

namespace qcp::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kFederationPath = "/oauth2/federation/robot/token";
constexpr std::size_t kMaxHeaderBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxHeaderCount = 256;
constexpr std::size_t kMaxRequestBodyBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxConnections = 128;
constexpr int kMaxRequestsPerConnection = 1000;
constexpr std::size_t kChunk = std::size_t{16} * 1024;
constexpr std::int64_t kRegistryMaxFreshSeconds = 3660;  // REGISTRY_JWT_AUTH_MAX_FRESH_S
constexpr std::int64_t kRegistryTokenSeconds = 300;      // a registry bearer token's lifetime
constexpr milliseconds kLingerOnClose{1000};

// Werkzeug's default error pages, as Flask (and so Quay's web app) sends them.
std::string werkzeug_page(int status, std::string_view title, std::string_view text) {
  return "<!doctype html>\n<html lang=en>\n<title>" + std::to_string(status) + " " +
         std::string(title) + "</title>\n<h1>" + std::string(title) + "</h1>\n<p>" +
         std::string(text) + "</p>\n";
}

Reply method_not_allowed(std::string allow) {
  return Reply::html(
      405,
      werkzeug_page(405, "Method Not Allowed", "The method is not allowed for the requested URL."),
      {{"Allow", std::move(allow)}});
}

Reply not_found() {
  return Reply::html(404, werkzeug_page(404, "Not Found",
                                        "The requested URL was not found on the server. If you "
                                        "entered the URL manually please check your spelling and "
                                        "try again."));
}

Reply internal_error() {
  return Reply::html(500, werkzeug_page(500, "Internal Server Error",
                                        "The server encountered an internal error and was unable "
                                        "to complete your request. Either the server is "
                                        "overloaded or there is an error in the application."));
}

Reply unauthorized(std::string_view error) {
  return Reply::json(401, {{"error", std::string(error)}});
}

Reply bad_request(std::string_view message) {
  return Reply::json(400, {{"message", std::string(message)}});
}

// Docker registry error body, used by /v2/ routes.
Reply registry_error(int status, std::string_view code, std::string_view message) {
  return Reply::json(status,
                     {{"errors", nlohmann::json::array({{{"code", std::string(code)},
                                                         {"message", std::string(message)},
                                                         {"detail", nlohmann::json::object()}}})}});
}

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

// Strict UTF-8 (as Python's bytes.decode("utf-8")).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1fU;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0fU;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + len > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3fU);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Quay's Basic parsing for the federation endpoint (util/security/federated_robot_auth.py).
struct BasicParse {
  std::optional<std::string> error;  // 401 "error" text
  std::string user;
  std::string password;
};

BasicParse parse_basic_like_quay(const std::optional<std::string>& header) {
  BasicParse out;
  if (!header || header->empty()) {
    out.error = "No auth header";
    return out;
  }
  std::vector<std::string_view> parts;
  std::string_view rest = *header;
  for (int guard = 0; guard < 1024 && !rest.empty(); ++guard) {
    const std::size_t sp = rest.find(' ');
    const std::string_view part = rest.substr(0, sp);
    if (!part.empty()) {
      parts.push_back(trim_ows(part));
    }
    if (sp == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(sp + 1);
  }
  if (parts.size() != 2 || !iequals(parts[0], "basic")) {
    out.error = "Invalid basic auth header";
    return out;
  }
  const auto decoded = python_b64decode(parts[1]);
  if (!decoded) {
    out.error = "Could not parse basic auth header";
    return out;
  }
  const std::size_t colon = decoded->find(':');
  const std::string user = decoded->substr(0, colon);
  const std::string password = colon == std::string::npos ? "" : decoded->substr(colon + 1);
  if (!valid_utf8(user) || !valid_utf8(password)) {
    out.error = "Could not parse basic auth header";
    return out;
  }
  if (colon == std::string::npos) {
    out.error = "Unexpected number of credentials found in basic auth header";
    return out;
  }
  out.user = user;
  out.password = password;
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
      const std::string hex(s.substr(i + 1, 2));
      out += static_cast<char>(static_cast<unsigned char>(std::stoul(hex, nullptr, 16)));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  for (int guard = 0; guard < 256 && start <= query.size() && !query.empty(); ++guard) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) {
      end = query.size();
    }
    const std::string_view item = query.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (!item.empty()) {
      out.emplace_back(percent_decode(item.substr(0, eq)),
                       eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

std::string http_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::array<char, 64> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return {buf.data(), n};
}

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  detail::check(
      RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) == 1,
      "RAND_bytes");
  return base64url_encode(raw);
}

std::optional<std::int64_t> claim_int(const nlohmann::json& payload, const char* name) {
  const auto it = payload.find(name);
  if (it == payload.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  if (it->is_number_float()) {
    return static_cast<std::int64_t>(it->get<double>());
  }
  return std::nullopt;
}

// Whether the token's aud (a string or a list) names one of `allowed`.
bool any_audience_in(const nlohmann::json& payload, const std::vector<std::string>& allowed) {
  const auto aud = payload.find("aud");
  if (aud == payload.end()) {
    return false;
  }
  const auto listed = [&allowed](const nlohmann::json& value) {
    return value.is_string() &&
           std::find(allowed.begin(), allowed.end(), value.get<std::string>()) != allowed.end();
  };
  return listed(*aud) || (aud->is_array() && std::any_of(aud->begin(), aud->end(), listed));
}

// PyJWT's claim validation as Quay configures it: exp and iat required, 30 s leeway, nbf only
// when asked (the registry's check; the federation endpoint never asks). Returns Quay's message
// on failure.
// `leeway`: Quay's JWT_CLOCK_SKEW_SECONDS (30 by default).
std::optional<std::string> validate_time_claims(const nlohmann::json& payload, std::int64_t now,
                                                bool verify_nbf, std::int64_t leeway) {
  for (const char* name : {"exp", "iat"}) {
    if (!payload.contains(name)) {
      return std::string("Token is missing the \"") + name + "\" claim";
    }
  }
  const auto iat = claim_int(payload, "iat");
  if (!iat) {
    return "Issued At claim (iat) must be an integer.";
  }
  if (*iat > now + leeway) {
    return "Issued At claim (iat) cannot be in the future.";
  }
  if (verify_nbf && payload.contains("nbf")) {
    const auto nbf = claim_int(payload, "nbf");
    if (!nbf) {
      return "Not Before claim (nbf) must be an integer.";
    }
    if (*nbf > now + leeway) {
      return "The token is not yet valid (nbf)";
    }
  }
  const auto exp = claim_int(payload, "exp");
  if (!exp) {
    return "Expiration Time claim (exp) must be an integer.";
  }
  if (*exp <= now - leeway) {
    return "Signature has expired";
  }
  return std::nullopt;
}

std::string json_scalar_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// strerror is not thread-safe; the system category's message is.
std::string errno_text() {
  return std::system_category().message(errno);
}

bool has_header(const HeaderList& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

// ------------------------------------------------------------------------------------------
// TLS on a non-blocking socket through memory BIOs: every wait also watches the stop eventfd,
// so nothing blocks server shutdown, and writes use MSG_NOSIGNAL (no SIGPIPE).
class TlsConn {
 public:
  TlsConn(detail::Fd fd, SSL_CTX* ctx, int stop_fd, milliseconds io_timeout)
      : fd_(std::move(fd)), stop_fd_(stop_fd), io_timeout_(io_timeout) {
    ssl_.reset(SSL_new(ctx));
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (!ssl_ || rbio == nullptr || wbio == nullptr) {
      BIO_free(rbio);
      BIO_free(wbio);
      detail::throw_openssl("SSL_new");
    }
    SSL_set_bio(ssl_.get(), rbio, wbio);  // ssl_ owns both
    rbio_ = rbio;
    wbio_ = wbio;
    SSL_set_accept_state(ssl_.get());
  }

  bool handshake() {
    return drive([this] { return SSL_accept(ssl_.get()); }, deadline());
  }

  bool read_some(std::string& buf) {
    std::array<char, kChunk> tmp{};
    std::size_t n = 0;
    if (!drive([&] { return SSL_read_ex(ssl_.get(), tmp.data(), tmp.size(), &n); }, deadline())) {
      return false;
    }
    buf.append(tmp.data(), n);
    return true;
  }

  bool write_all(std::string_view data) {
    for (int guard = 0; !data.empty() && guard < (1 << 24); ++guard) {
      const std::size_t len = std::min(data.size(), kChunk);
      std::size_t written = 0;
      if (!drive([&] { return SSL_write_ex(ssl_.get(), data.data(), len, &written); },
                 deadline())) {
        return false;
      }
      data.remove_prefix(written);
    }
    return data.empty();
  }

  // Reads and discards until the peer closes, `limit` passes or the server stops.
  void hang(milliseconds limit) {
    const auto until = Clock::now() + limit;
    std::array<char, 4096> tmp{};
    for (int guard = 0; guard < (1 << 20); ++guard) {
      if (wait(POLLIN, until) != Wait::kReady) {
        return;
      }
      const ssize_t n = ::recv(fd_.get(), tmp.data(), tmp.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        return;
      }
    }
  }

  // Waits `d`; false when the server is stopping.
  bool pause(milliseconds d) {
    if (d.count() <= 0) {
      return true;
    }
    pollfd pfd{stop_fd_, POLLIN, 0};
    const auto until = Clock::now() + d;
    for (int guard = 0; guard < 1024; ++guard) {
      const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
      if (left <= 0) {
        return true;
      }
      const int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 60'000)));
      if (r > 0) {
        return false;
      }
    }
    return true;
  }

  // TLS close_notify, FIN, then drain what the client still sends (so close() does not turn
  // unread bytes into an RST), bounded.
  void close_gracefully() {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    flush(Clock::now() + milliseconds{1000});
    ::shutdown(fd_.get(), SHUT_WR);
    hang(kLingerOnClose);
    fd_.reset();
  }

  void reset() {
    const linger lg{1, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    fd_.reset();
  }

  // Below TLS: waits for the client's first bytes (its ClientHello) and discards them.
  bool read_raw_once() {
    if (wait(POLLIN, deadline()) != Wait::kReady) {
      return false;
    }
    std::array<char, kChunk> tmp{};
    return ::read(fd_.get(), tmp.data(), tmp.size()) > 0;
  }

  // Below TLS: writes bytes as they are, then closes (FIN).
  void write_raw_and_close(std::string_view bytes) {
    while (!bytes.empty() && wait(POLLOUT, deadline()) == Wait::kReady) {
      const auto n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        break;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    fd_.reset();
  }

 private:
  enum class Wait { kReady, kStop, kTimeout, kError };

  [[nodiscard]] Clock::time_point deadline() const { return Clock::now() + io_timeout_; }

  Wait wait(short events, Clock::time_point until) {
    for (int guard = 0; guard < (1 << 20); ++guard) {
      std::array<pollfd, 2> fds{{{fd_.get(), events, 0}, {stop_fd_, POLLIN, 0}}};
      const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
      if (left <= 0) {
        return Wait::kTimeout;
      }
      const int r =
          ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left, 60'000)));
      if (r < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Wait::kError;
      }
      if ((fds[1].revents & POLLIN) != 0) {
        return Wait::kStop;
      }
      if ((fds[0].revents & (events | POLLERR | POLLHUP)) != 0) {
        return Wait::kReady;
      }
    }
    return Wait::kTimeout;
  }

  // Sends everything OpenSSL has queued in the write BIO.
  bool flush(Clock::time_point until) {
    std::array<char, kChunk> tmp{};
    for (int guard = 0; guard < (1 << 20) && BIO_ctrl_pending(wbio_) > 0; ++guard) {
      const int n = BIO_read(wbio_, tmp.data(), static_cast<int>(tmp.size()));
      if (n <= 0) {
        return false;
      }
      std::string_view pending(tmp.data(), static_cast<std::size_t>(n));
      for (int inner = 0; !pending.empty() && inner < (1 << 20); ++inner) {
        const ssize_t sent = ::send(fd_.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
        if (sent > 0) {
          pending.remove_prefix(static_cast<std::size_t>(sent));
        } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          if (wait(POLLOUT, until) != Wait::kReady) {
            return false;
          }
        } else if (!(sent < 0 && errno == EINTR)) {
          return false;
        }
      }
      if (!pending.empty()) {
        return false;
      }
    }
    return true;
  }

  // Feeds received bytes to OpenSSL; false on EOF, error, stop or timeout.
  bool fill(Clock::time_point until) {
    std::array<char, kChunk> tmp{};
    for (int guard = 0; guard < (1 << 20); ++guard) {
      const ssize_t n = ::recv(fd_.get(), tmp.data(), tmp.size(), 0);
      if (n > 0) {
        return BIO_write(rbio_, tmp.data(), static_cast<int>(n)) == static_cast<int>(n);
      }
      if (n == 0) {
        return false;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return false;
      }
      if (wait(POLLIN, until) != Wait::kReady) {
        return false;
      }
    }
    return false;
  }

  template <typename Op>
  bool drive(Op&& op, Clock::time_point until) {
    for (int guard = 0; guard < (1 << 20); ++guard) {
      ERR_clear_error();
      const int r = op();
      const int err = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), r);
      if (!flush(until)) {
        return false;
      }
      if (r > 0) {
        return true;
      }
      if (err != SSL_ERROR_WANT_READ || !fill(until)) {
        ERR_clear_error();
        return false;
      }
    }
    return false;
  }

  detail::Fd fd_;
  detail::SslPtr ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  int stop_fd_;
  milliseconds io_timeout_;
};

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

}  // namespace

// ------------------------------------------------------------------------------------------

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

Reply Reply::json(int status, const nlohmann::json& body, HeaderList headers) {
  Reply r;
  r.status = status;
  r.body = body.dump() + "\n";
  r.headers = std::move(headers);
  if (!has_header(r.headers, "Content-Type")) {
    r.headers.emplace_back("Content-Type", "application/json");
  }
  return r;
}

Reply Reply::html(int status, std::string body, HeaderList headers) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  if (!has_header(r.headers, "Content-Type")) {
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  }
  return r;
}

Reply Reply::text(int status, std::string body, HeaderList headers) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  if (!has_header(r.headers, "Content-Type")) {
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  }
  return r;
}

Reply Reply::hang(milliseconds limit) {
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

// ------------------------------------------------------------------------------------------

struct FakeQuay::Impl {
  struct Robot {
    std::vector<FederationBinding> bindings;
  };
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  enum class After { kKeepAlive, kClose, kDone };

  FakeQuayOptions options;
  detail::SslCtxPtr ssl_ctx;
  detail::Fd listen_fd;
  detail::Fd stop_fd;
  std::uint16_t port = 0;
  std::string host;
  std::string hostname;  // SERVER_HOSTNAME
  RsaSigner issuer_key;
  RsaSigner instance_key;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::map<std::string, Robot> robots;
  std::map<std::string, std::vector<RsaSigner>> issuers;
  std::deque<Reply> scripted;
  Handler handler;
  std::vector<RecordedRequest> recorded;
  std::set<std::string> registry_tokens;
  std::set<std::string> pushers;  // robots whose registry tokens grant push

  std::atomic<bool> stall_handshakes{false};
  std::mutex fault_mutex;
  std::deque<HandshakeFault> handshake_faults;

  std::optional<HandshakeFault> take_handshake_fault() {
    const std::lock_guard lock(fault_mutex);
    if (handshake_faults.empty()) {
      return std::nullopt;
    }
    const HandshakeFault fault = handshake_faults.front();
    handshake_faults.pop_front();
    return fault;
  }
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> attempted{0};
  std::atomic<std::size_t> completed{0};
  std::atomic<std::uint64_t> next_connection{0};
  std::thread acceptor;

  Impl(const TestPki& pki, FakeQuayOptions opts)
      : options(std::move(opts)),
        issuer_key(options.issuer_key ? *options.issuer_key
                                      : RsaSigner::shared(RsaSigner::SharedKey::kIssuer)),
        instance_key(options.instance_key
                         ? *options.instance_key
                         : RsaSigner::shared(RsaSigner::SharedKey::kQuayInstance)) {
    make_ssl_ctx(pki);
    listen_on_loopback();
    stop_fd = detail::Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_fd.valid()) {
      throw std::runtime_error(std::string("eventfd: ") + errno_text());
    }
    host = (options.ipv6 ? "[::1]:" : "127.0.0.1:") + std::to_string(port);
    hostname = options.server_hostname.empty() ? host : options.server_hostname;
    issuers[issuer_url()].push_back(issuer_key);
    acceptor = std::thread([this] { accept_loop(); });
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  ~Impl() {
    const std::uint64_t one = 1;
    const ssize_t n = ::write(stop_fd.get(), &one, sizeof one);
    static_cast<void>(n);
    if (acceptor.joinable()) {
      acceptor.join();
    }
  }

  [[nodiscard]] std::string base_url() const { return "https://" + host; }
  [[nodiscard]] std::string issuer_url() const { return base_url() + "/issuer"; }

  [[nodiscard]] std::int64_t now() const {
    return unix_seconds(std::chrono::system_clock::now() + options.clock_offset);
  }

  void make_ssl_ctx(const TestPki& pki) {
    ssl_ctx.reset(SSL_CTX_new(TLS_server_method()));
    detail::check(ssl_ctx != nullptr, "SSL_CTX_new");
    if (options.only_tls_1_1) {
      // An old server: TLS 1.0/1.1 only, which OpenSSL 3 allows only at security level 0.
      detail::check(SSL_CTX_set_min_proto_version(ssl_ctx.get(), TLS1_VERSION) == 1 &&
                        SSL_CTX_set_max_proto_version(ssl_ctx.get(), TLS1_1_VERSION) == 1 &&
                        SSL_CTX_set_cipher_list(ssl_ctx.get(), "DEFAULT:@SECLEVEL=0") == 1,
                    "TLS 1.1 only");
    } else {
      detail::check(SSL_CTX_set_min_proto_version(ssl_ctx.get(), TLS1_2_VERSION) == 1,
                    "SSL_CTX_set_min_proto_version");
    }
    const detail::BioPtr cert_bio(BIO_new_mem_buf(pki.server_cert_pem().data(),
                                                  static_cast<int>(pki.server_cert_pem().size())));
    const detail::X509Ptr cert(
        cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
    detail::check(cert != nullptr, "PEM_read_bio_X509");
    const detail::BioPtr key_bio(BIO_new_mem_buf(pki.server_key_pem().data(),
                                                 static_cast<int>(pki.server_key_pem().size())));
    const detail::PkeyPtr key(
        key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
    detail::check(key != nullptr, "PEM_read_bio_PrivateKey");
    detail::check(SSL_CTX_use_certificate(ssl_ctx.get(), cert.get()) == 1,
                  "SSL_CTX_use_certificate");
    // Any further certificates (an intermediate) are sent after the leaf.
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
      detail::check(SSL_CTX_add0_chain_cert(ssl_ctx.get(), extra) == 1, "SSL_CTX_add0_chain_cert");
    }
    ERR_clear_error();  // the end of the PEM text
    detail::check(SSL_CTX_use_PrivateKey(ssl_ctx.get(), key.get()) == 1, "SSL_CTX_use_PrivateKey");
    detail::check(SSL_CTX_check_private_key(ssl_ctx.get()) == 1, "SSL_CTX_check_private_key");
  }

  void listen_on_loopback() {
    const int family = options.ipv6 ? AF_INET6 : AF_INET;
    listen_fd = detail::Fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listen_fd.valid()) {
      throw std::runtime_error(std::string("socket: ") + errno_text());
    }
    const int on = 1;
    ::setsockopt(listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    int rc = -1;
    if (options.ipv6) {
      ::setsockopt(listen_fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_addr = in6addr_loopback;
      addr.sin6_port = htons(options.port);
      rc = ::bind(listen_fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(options.port);
      rc = ::bind(listen_fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    }
    if (rc != 0 || ::listen(listen_fd.get(), 64) != 0) {
      throw std::runtime_error(std::string("FakeQuay: cannot listen on ") +
                               (options.ipv6 ? "[::1]" : "127.0.0.1") + ": " + errno_text());
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(listen_fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      throw std::runtime_error(std::string("getsockname: ") + errno_text());
    }
    if (ss.ss_family == AF_INET6) {
      sockaddr_in6 in6{};
      std::memcpy(&in6, &ss, sizeof in6);
      port = ntohs(in6.sin6_port);
    } else {
      sockaddr_in in4{};
      std::memcpy(&in4, &ss, sizeof in4);
      port = ntohs(in4.sin_port);
    }
  }

  static void reap(std::list<Worker>& workers) {
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  }

  void accept_loop() {
    std::list<Worker> workers;
    for (;;) {
      std::array<pollfd, 2> fds{{{listen_fd.get(), POLLIN, 0}, {stop_fd.get(), POLLIN, 0}}};
      const int r = ::poll(fds.data(), fds.size(), 1000);
      reap(workers);
      if (r < 0 && errno != EINTR) {
        break;
      }
      if ((fds[1].revents & POLLIN) != 0) {
        break;
      }
      if (r <= 0 || (fds[0].revents & POLLIN) == 0) {
        continue;
      }
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      detail::Fd client(::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&ss), &len,
                                  SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client.valid()) {
        continue;
      }
      accepted.fetch_add(1);
      if (workers.size() >= kMaxConnections) {
        continue;  // closed by ~Fd
      }
      const int on = 1;
      ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      auto done = std::make_shared<std::atomic<bool>>(false);
      const std::uint64_t id = next_connection.fetch_add(1) + 1;
      std::string peer = peer_name(ss);
      workers.push_back(Worker{
          std::thread([this, id, fd = std::move(client), peer = std::move(peer), done]() mutable {
            try {
              serve(id, std::move(fd), peer);
            } catch (const std::exception&) {
              // A broken connection must never take the test process down.
            }
            done->store(true);
          }),
          done});
    }
    for (Worker& w : workers) {
      w.thread.join();
    }
  }

  void serve(std::uint64_t id, detail::Fd fd, const std::string& peer) {
    TlsConn conn(std::move(fd), ssl_ctx.get(), stop_fd.get(), options.io_timeout);
    if (stall_handshakes.load()) {
      conn.hang(milliseconds{60'000});
      return;
    }
    if (const auto fault = take_handshake_fault()) {
      attempted.fetch_add(1);
      if (!conn.read_raw_once()) {
        return;
      }
      switch (*fault) {
        case HandshakeFault::kReset:
          conn.reset();
          break;
        case HandshakeFault::kClose:
          conn.write_raw_and_close("");
          break;
        case HandshakeFault::kPlainHttp:
          conn.write_raw_and_close(
              "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 44\r\n"
              "Connection: close\r\n\r\nThis port speaks HTTP, not HTTPS, you know.\n");
          break;
      }
      return;
    }
    attempted.fetch_add(1);
    if (!conn.handshake()) {
      if (options.log) {
        options.log("TLS handshake failed or aborted by " + peer);
      }
      return;
    }
    completed.fetch_add(1);
    std::string buf;
    for (int n = 0; n < kMaxRequestsPerConnection; ++n) {
      std::size_t end = std::string::npos;
      for (int guard = 0; guard < (1 << 16); ++guard) {
        end = buf.find("\r\n\r\n");
        if (end != std::string::npos || buf.size() > kMaxHeaderBytes) {
          break;
        }
        if (!conn.read_some(buf)) {
          return;  // client went away (normal between keep-alive requests) or timeout
        }
      }
      if (end == std::string::npos || end + 4 > kMaxHeaderBytes) {
        send_and_close(conn, peer, Reply::text(431, "Request Header Fields Too Large\n"));
        return;
      }
      RecordedRequest req;
      req.connection = id;
      req.peer = peer;
      const bool parsed = parse_head(std::string_view(buf).substr(0, end), req);
      buf.erase(0, end + 4);
      if (!parsed) {
        send_and_close(conn, peer, Reply::text(400, "Bad Request\n"));
        return;
      }
      if (req.header("Transfer-Encoding")) {
        send_and_close(conn, peer, Reply::text(501, "Transfer-Encoding is not supported\n"));
        return;
      }
      std::size_t content_length = 0;
      if (const auto cl = req.header("Content-Length")) {
        if (cl->empty() || cl->size() > 12 ||
            !std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; })) {
          send_and_close(conn, peer, Reply::text(400, "Bad Content-Length\n"));
          return;
        }
        content_length = static_cast<std::size_t>(std::stoull(*cl));
        if (content_length > kMaxRequestBodyBytes) {
          send_and_close(conn, peer, Reply::text(413, "Request Entity Too Large\n"));
          return;
        }
      }
      for (int guard = 0; buf.size() < content_length && guard < (1 << 16); ++guard) {
        if (!conn.read_some(buf)) {
          return;
        }
      }
      if (buf.size() < content_length) {
        return;
      }
      buf.erase(0, content_length);  // the body is ignored
      req.body_bytes = content_length;
      decode_basic_for_record(req);

      const Reply reply = decide(req);
      const bool client_wants_close =
          req.version != "HTTP/1.1" ||
          icontains_token(req.header("Connection").value_or(""), "close");
      const After after = act(conn, req, reply, client_wants_close);
      if (after == After::kDone) {
        return;
      }
      if (after == After::kClose) {
        conn.close_gracefully();
        return;
      }
    }
    conn.close_gracefully();
  }

  void send_and_close(TlsConn& conn, const std::string& peer, const Reply& reply) {
    if (options.log) {
      options.log("malformed request from " + peer + ": " + std::to_string(reply.status));
    }
    RecordedRequest none;
    none.method = "GET";
    act(conn, none, reply, true);
    conn.close_gracefully();
  }

  Reply decide(RecordedRequest& req) {
    Handler h;
    {
      const std::lock_guard lock(mu);
      h = handler;
    }
    std::optional<Reply> chosen;
    if (h) {
      chosen = h(req);
    }
    if (!chosen && req.path == kFederationPath) {
      const std::lock_guard lock(mu);
      if (!scripted.empty()) {
        chosen = std::move(scripted.front());
        scripted.pop_front();
      }
    }
    if (!chosen) {
      chosen = route(req);
    }
    const bool responds = chosen->action == Reply::Action::kRespond ||
                          chosen->action == Reply::Action::kHangAfterHeaders;
    req.status = responds ? chosen->status : 0;
    {
      const std::lock_guard lock(mu);
      recorded.push_back(req);
    }
    cv.notify_all();
    if (options.log) {
      std::string outcome;
      switch (chosen->action) {
        case Reply::Action::kRespond:
          outcome = std::to_string(chosen->status);
          break;
        case Reply::Action::kHang:
          outcome = "hang";
          break;
        case Reply::Action::kHangAfterHeaders:
          outcome = std::to_string(chosen->status) + " (headers only, then hang)";
          break;
        case Reply::Action::kReset:
          outcome = "reset";
          break;
        case Reply::Action::kCloseWithoutResponse:
          outcome = "closed without response";
          break;
      }
      options.log(req.method + " " + req.path + " " + outcome);
    }
    return *std::move(chosen);
  }

  After act(TlsConn& conn, const RecordedRequest& req, const Reply& reply,
            bool client_wants_close) {
    if (!conn.pause(reply.delay)) {
      return After::kDone;
    }
    switch (reply.action) {
      case Reply::Action::kHang:
        conn.hang(reply.hang_limit);
        return After::kDone;
      case Reply::Action::kReset:
        conn.reset();
        return After::kDone;
      case Reply::Action::kCloseWithoutResponse:
        return After::kClose;
      case Reply::Action::kRespond:
      case Reply::Action::kHangAfterHeaders:
        break;
    }
    const bool no_body =
        reply.status == 204 || reply.status == 304 || (reply.status >= 100 && reply.status < 200);
    const std::size_t body_size =
        no_body ? 0 : reply.generated_body_bytes.value_or(reply.body.size());
    const bool close = client_wants_close || !reply.content_length ||
                       reply.action == Reply::Action::kHangAfterHeaders;

    std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                       std::string(reason_phrase(reply.status)) + "\r\n";
    head += "Server: fake-quay\r\n";
    head += "Date: " + http_date(std::chrono::system_clock::now()) + "\r\n";
    if (!no_body && body_size > 0 && !has_header(reply.headers, "Content-Type")) {
      head += "Content-Type: text/plain; charset=utf-8\r\n";
    }
    const bool chunked = reply.generated_trailer_bytes.has_value();
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\nTrailer: X-Filler\r\n";
    } else if (!no_body && reply.content_length) {
      head += "Content-Length: " + std::to_string(body_size) + "\r\n";
    }
    if (close) {
      head += "Connection: close\r\n";
    }
    for (const auto& [name, value] : reply.headers) {
      head.append(name).append(": ").append(value).append("\r\n");
    }
    head += "\r\n";
    if (!conn.write_all(head)) {
      return After::kDone;
    }
    if (reply.action == Reply::Action::kHangAfterHeaders) {
      conn.hang(reply.hang_limit);
      return After::kDone;
    }
    if (chunked) {
      return write_chunked_with_trailers(conn, reply) ? After::kClose : After::kDone;
    }
    if (req.method != "HEAD" && !no_body) {
      if (reply.generated_body_bytes) {
        const std::string chunk(kChunk, 'A');
        std::size_t left = *reply.generated_body_bytes;
        for (std::size_t guard = 0; left > 0 && guard < (std::size_t{1} << 30); ++guard) {
          const std::size_t n = std::min(left, chunk.size());
          if (!conn.write_all(std::string_view(chunk).substr(0, n))) {
            return After::kDone;  // the client gave up reading: fine
          }
          left -= n;
        }
      } else if (!conn.write_all(reply.body)) {
        return After::kDone;
      }
    }
    return close ? After::kClose : After::kKeepAlive;
  }

  // The body as one chunk, the last chunk, then trailer lines until the budget is spent.
  static bool write_chunked_with_trailers(TlsConn& conn, const Reply& reply) {
    std::ostringstream size;
    size << std::hex << reply.body.size();
    if (!conn.write_all(size.str() + "\r\n" + reply.body + "\r\n0\r\n")) {
      return false;
    }
    const std::string filler(100, 'a');
    std::string batch;
    std::size_t left = *reply.generated_trailer_bytes;
    for (std::size_t line = 0; left > 0; ++line) {
      const std::string text = "X-Filler-" + std::to_string(line) + ": " + filler + "\r\n";
      batch += text;
      left -= std::min(left, text.size());
      if (batch.size() >= kChunk || left == 0) {
        if (!conn.write_all(batch)) {
          return false;  // the client gave up reading: fine
        }
        batch.clear();
      }
    }
    return conn.write_all("\r\n");
  }

  // ---------------------------------------------------------------------------------------
  // Default routes.

  Reply route(const RecordedRequest& req) {
    if (req.path == kFederationPath) {
      if (req.method == "OPTIONS") {
        Reply r = Reply::html(200, "");
        r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
        return r;
      }
      if (req.method != "GET" && req.method != "HEAD") {
        return method_not_allowed("GET, HEAD, OPTIONS");
      }
      return federation(req);
    }
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (req.path == "/v2/auth") {
      return get ? v2_auth(req) : method_not_allowed("GET, HEAD, OPTIONS");
    }
    if (req.path == "/v2/" || req.path == "/v2") {
      return get ? v2_base(req) : method_not_allowed("GET, HEAD, OPTIONS");
    }
    if (auto r = issuer_document(req.path)) {
      return get ? *r : method_not_allowed("GET, HEAD, OPTIONS");
    }
    return not_found();
  }

  // Discovery and JWKS for every registered issuer whose URL lives on this server.
  std::optional<Reply> issuer_document(const std::string& path) {
    const std::lock_guard lock(mu);
    const std::string base = base_url();
    for (const auto& [url, keys] : issuers) {
      if (url.compare(0, base.size(), base) != 0 ||
          (url.size() > base.size() && url[base.size()] != '/')) {
        continue;
      }
      std::string prefix = url.substr(base.size());
      while (!prefix.empty() && prefix.back() == '/') {
        prefix.pop_back();
      }
      if (path == prefix + "/.well-known/openid-configuration") {
        return Reply::json(200, {{"issuer", url},
                                 {"jwks_uri", base + prefix + "/keys"},
                                 {"response_types_supported", {"id_token"}},
                                 {"subject_types_supported", {"public"}},
                                 {"id_token_signing_alg_values_supported", {"RS256"}}});
      }
      if (path == prefix + "/keys") {
        nlohmann::json jwks = {{"keys", nlohmann::json::array()}};
        for (const RsaSigner& key : keys) {
          jwks["keys"].push_back(key.jwk());
        }
        return Reply::json(200, jwks);
      }
    }
    return std::nullopt;
  }

  // GET /oauth2/federation/robot/token, in Quay's validation order (reference §4).
  Reply federation(const RecordedRequest& req) {
    // 1. Basic header.
    const BasicParse basic = parse_basic_like_quay(req.header("Authorization"));
    if (basic.error) {
      return unauthorized(*basic.error);
    }
    // 2. Robot name shape.
    if (basic.user.find('+') == std::string::npos) {
      return unauthorized("Invalid robot");
    }
    // 3. Robot exists.
    std::vector<FederationBinding> bindings;
    {
      const std::lock_guard lock(mu);
      const auto it = robots.find(basic.user);
      if (!is_ascii(basic.user) || it == robots.end()) {
        return bad_request("Could not find robot with specified username");
      }
      bindings = it->second.bindings;
    }
    // 4. iss, read without verification; a password that is not a JWT is an unmapped error.
    const auto unverified = decode_jwt_unverified(basic.password);
    if (!unverified) {
      return internal_error();
    }
    const auto iss_it = unverified->payload.find("iss");
    if (iss_it == unverified->payload.end() || iss_it->is_null() ||
        (iss_it->is_string() && iss_it->get<std::string>().empty())) {
      return bad_request("Token does not contain issuer");
    }
    const std::string iss = json_scalar_text(*iss_it);
    // 5. Bindings exist.
    if (bindings.empty()) {
      return bad_request("Robot does not have federated login configured");
    }
    // 6. Exact issuer match.
    std::vector<FederationBinding> for_issuer;
    for (const FederationBinding& b : bindings) {
      if (iss_it->is_string() && b.issuer == iss) {
        for_issuer.push_back(b);
      }
    }
    if (for_issuer.empty()) {
      return bad_request("issuer " + iss + " not configured for this robot");
    }
    // 7. The header must name a key: checked before any discovery (observed in Quay 3.18).
    const auto kid_it = unverified->header.find("kid");
    if (kid_it == unverified->header.end() || kid_it->is_null()) {
      return bad_request("Invalid token: Missing `kid` header");
    }
    // 8. "Discovery": the issuer must be known to the fake.
    std::vector<RsaSigner> keys;
    {
      const std::lock_guard lock(mu);
      const auto it = issuers.find(iss);
      if (it == issuers.end()) {
        return internal_error();
      }
      keys = it->second;
    }
    // 9. Key by kid; an EC-signed token stands for an EC key in the JWKS, which Quay cannot use.
    const std::string kid = json_scalar_text(*kid_it);
    const auto key =
        std::find_if(keys.begin(), keys.end(), [&](const RsaSigner& k) { return k.kid() == kid; });
    if (key == keys.end()) {
      return internal_error();
    }
    const std::string alg = unverified->header.value("alg", "");
    if (alg.starts_with("ES")) {
      return internal_error();
    }
    // 10. Signature: RS256 or RS384.
    if (alg != "RS256" && alg != "RS384") {
      return bad_request("Invalid token: The specified alg value is not allowed");
    }
    const auto payload = RsaSigner::verify(basic.password, *key);
    if (!payload) {
      return bad_request("Invalid token: Signature verification failed");
    }
    // 10. Time claims, 30 s leeway; nbf is never checked (observed in every version).
    if (const auto problem = validate_time_claims(*payload, now(), /*verify_nbf=*/false,
                                                  options.clock_skew.count())) {
      return bad_request("Invalid token: " + *problem);
    }
    // 10. Audiences (3.18+), in the same decode, so before the subject: only when a binding
    // for this issuer stores some.
    if (options.quay_3_18) {
      std::vector<std::string> allowed;
      for (const FederationBinding& b : for_issuer) {
        allowed.insert(allowed.end(), b.audiences.begin(), b.audiences.end());
      }
      if (!allowed.empty() && !any_audience_in(*payload, allowed)) {
        return bad_request("Invalid token: Audience doesn't match");
      }
    }
    // 11. Subject.
    const auto sub_it = payload->find("sub");
    const bool bound =
        sub_it != payload->end() && sub_it->is_string() &&
        std::any_of(for_issuer.begin(), for_issuer.end(), [&](const FederationBinding& b) {
          return b.subject == sub_it->get<std::string>();
        });
    if (!bound) {
      return bad_request("Token does not match robot");
    }
    return Reply::json(200, {{"token", issue_robot_token(basic.user)}});
  }

  std::string issue_robot_token(const std::string& robot) const {
    const std::int64_t t = now();
    const nlohmann::json claims = {
        {"iss", "quay"},
        {"aud", hostname},
        {"sub", robot},
        {"nbf", t},
        {"iat", t},
        {"exp", t + options.token_lifetime.count()},
        {"access", nlohmann::json::object()},
        {"context",
         {{"version", 2},
          {"entity_kind", "robot"},
          {"entity_reference", robot},
          {"kind", "user"},
          {"user", robot},
          {"com.apostille.roots", nullptr},
          {"com.apostille.root", "$disabled"}}},
    };
    return instance_key.sign(claims);
  }

  // Checks a Quay-issued robot token as /v2/auth would (reference §8); nullopt when valid.
  std::optional<std::string> robot_token_problem(const std::string& user,
                                                 const std::string& token) const {
    const auto jwt = decode_jwt_unverified(token);
    if (!jwt) {
      return "Invalid username or password";  // no static robot tokens in the fake
    }
    if (jwt->header.value("kid", "") != instance_key.kid()) {
      return "Unknown service key";
    }
    const auto payload = RsaSigner::verify(token, instance_key);
    if (!payload) {
      return "Signature verification failed";
    }
    if (payload->value("iss", "") != "quay") {
      return "Invalid issuer";
    }
    if (payload->value("aud", "") != hostname) {
      return "Invalid audience for robot token";
    }
    if (payload->value("sub", "") != user) {
      return "Token does not match robot";
    }
    if (!payload->contains("nbf")) {
      return "Token is missing the \"nbf\" claim";
    }
    if (auto problem = validate_time_claims(*payload, now(), true, options.clock_skew.count())) {
      return problem;
    }
    const auto exp = claim_int(*payload, "exp");
    const auto iat = claim_int(*payload, "iat");
    if (exp && iat && *exp - *iat > kRegistryMaxFreshSeconds) {
      return "Token was signed for more than " + std::to_string(kRegistryMaxFreshSeconds) +
             " seconds";
    }
    return std::nullopt;
  }

  Reply v2_auth(const RecordedRequest& req) {
    if (!req.basic_user || !req.basic_password) {
      return registry_error(401, "UNAUTHORIZED", "authentication required");
    }
    const std::string& user = *req.basic_user;
    {
      const std::lock_guard lock(mu);
      if (robots.find(user) == robots.end()) {
        return registry_error(401, "UNAUTHORIZED", "Invalid username or password");
      }
    }
    if (const auto problem = robot_token_problem(user, *req.basic_password)) {
      // Quay's robot verification raises unmapped exceptions for these: 500 HTML, not 401
      // (observed), so a credential cached past exp fails the pull with a 500.
      for (const std::string_view unmapped :
           {"Unknown service key", "Invalid audience for robot token", "Signature has expired",
            "Token was signed for more than"}) {
        if (problem->starts_with(unmapped)) {
          return internal_error();
        }
      }
      return registry_error(401, "UNAUTHORIZED", *problem);
    }
    const std::string owner = user.substr(0, user.find('+'));
    std::string service = hostname;
    nlohmann::json access = nlohmann::json::array();
    for (const auto& [name, value] : parse_query(req.query)) {
      if (name == "service") {
        service = value;
      }
      if (name != "scope") {
        continue;
      }
      // repository:<ns>/<repo>:<actions>
      const std::size_t first = value.find(':');
      const std::size_t last = value.rfind(':');
      if (value.compare(0, first, "repository") != 0 || first == last) {
        return registry_error(400, "UNSUPPORTED", "unsupported scope " + value);
      }
      const std::string repo = value.substr(first + 1, last - first - 1);
      if (repo.substr(0, repo.find('/')) != owner) {
        return registry_error(403, "DENIED", "requested access to the resource is denied");
      }
      // The granted actions: what was asked, less push for a robot that may only pull.
      nlohmann::json actions = nlohmann::json::array();
      std::size_t start = last + 1;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const std::string action = value.substr(start, comma - start);
        const std::lock_guard lock(mu);
        if (action == "pull" || (action == "push" && pushers.count(user) != 0)) {
          actions.push_back(action);
        }
        start = comma + 1;
      }
      access.push_back({{"type", "repository"}, {"name", repo}, {"actions", actions}});
    }
    // A Docker registry bearer token (docker/distribution's token spec), signed with the
    // instance service key as Quay signs its own, with the libtrust kid the registry looks
    // keys up by.
    const std::int64_t t = now();
    const std::string registry_token = instance_key.sign({{"kid", instance_key.libtrust_key_id()}},
                                                         {{"iss", hostname},
                                                          {"sub", user},
                                                          {"aud", service},
                                                          {"exp", t + kRegistryTokenSeconds},
                                                          {"nbf", t - 1},
                                                          {"iat", t},
                                                          {"jti", random_token(16)},
                                                          {"access", access}});
    {
      const std::lock_guard lock(mu);
      registry_tokens.insert(registry_token);
    }
    return Reply::json(200, {{"token", registry_token},
                             {"access_token", registry_token},
                             {"expires_in", kRegistryTokenSeconds}});
  }

  Reply v2_base(const RecordedRequest& req) {
    const auto auth = req.header("Authorization");
    if (auth && auth->size() > 7 && iequals(auth->substr(0, 7), "bearer ")) {
      const std::lock_guard lock(mu);
      if (registry_tokens.count(std::string(trim_ows(auth->substr(7)))) != 0) {
        return Reply::json(200, nlohmann::json::object(),
                           {{"Docker-Distribution-API-Version", "registry/2.0"}});
      }
    }
    Reply r =
        registry_error(401, "UNAUTHORIZED", "access to the requested resource is not authorized");
    r.headers.emplace_back("Docker-Distribution-API-Version", "registry/2.0");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"" + base_url() +
                                                   "/v2/auth\",service=\"" + hostname + "\"");
    return r;
  }
};

// ------------------------------------------------------------------------------------------

FakeQuay::FakeQuay(const TestPki& pki, FakeQuayOptions options)
    : impl_(std::make_unique<Impl>(pki, std::move(options))) {}

FakeQuay::~FakeQuay() = default;

std::uint16_t FakeQuay::port() const {
  return impl_->port;
}
std::string FakeQuay::host() const {
  return impl_->host;
}
std::string FakeQuay::base_url() const {
  return impl_->base_url();
}
std::string FakeQuay::issuer_url() const {
  return impl_->issuer_url();
}
std::string FakeQuay::server_hostname() const {
  return impl_->hostname;
}

const RsaSigner& FakeQuay::issuer_signer() const {
  return impl_->issuer_key;
}
void FakeQuay::allow_push(const std::string& robot) {
  const std::lock_guard lock(impl_->mu);
  impl_->pushers.insert(robot);
}

std::string FakeQuay::registry_service() const {
  return impl_->hostname;
}

std::string FakeQuay::registry_token_issuer() const {
  return impl_->hostname;
}

std::string FakeQuay::registry_token_certificate_pem() const {
  return impl_->instance_key.self_signed_certificate_pem("qcp fake quay instance key");
}

const RsaSigner& FakeQuay::instance_signer() const {
  return impl_->instance_key;
}

std::string FakeQuay::mint_service_account_token(const std::string& ns,
                                                 const std::string& service_account,
                                                 const std::string& audience,
                                                 std::chrono::seconds lifetime) const {
  ServiceAccountTokenSpec spec;
  spec.issuer = issuer_url();
  spec.ns = ns;
  spec.service_account = service_account;
  spec.audiences = {audience};
  spec.lifetime = lifetime;
  spec.issued_at = std::chrono::system_clock::now() + impl_->options.clock_offset;
  return qcp::test::mint_service_account_token(impl_->issuer_key, spec);
}

void FakeQuay::add_issuer(const std::string& url, const RsaSigner& signer) {
  const std::lock_guard lock(impl_->mu);
  auto& keys = impl_->issuers[url];
  const auto same = std::find_if(keys.begin(), keys.end(),
                                 [&](const RsaSigner& k) { return k.kid() == signer.kid(); });
  if (same != keys.end()) {
    *same = signer;
  } else {
    keys.push_back(signer);
  }
}

void FakeQuay::add_robot(const std::string& name, std::vector<FederationBinding> bindings) {
  const std::lock_guard lock(impl_->mu);
  impl_->robots[name] = Impl::Robot{std::move(bindings)};
}

void FakeQuay::remove_robot(const std::string& name) {
  const std::lock_guard lock(impl_->mu);
  impl_->robots.erase(name);
}

void FakeQuay::script(std::vector<Reply> replies) {
  const std::lock_guard lock(impl_->mu);
  for (Reply& r : replies) {
    impl_->scripted.push_back(std::move(r));
  }
}

void FakeQuay::push_reply(Reply reply) {
  const std::lock_guard lock(impl_->mu);
  impl_->scripted.push_back(std::move(reply));
}

std::size_t FakeQuay::pending_replies() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->scripted.size();
}

void FakeQuay::set_handler(Handler handler) {
  const std::lock_guard lock(impl_->mu);
  impl_->handler = std::move(handler);
}

void FakeQuay::fail_handshakes(HandshakeFault fault, std::size_t connections) {
  const std::lock_guard lock(impl_->fault_mutex);
  impl_->handshake_faults.insert(impl_->handshake_faults.end(), connections, fault);
}

void FakeQuay::set_stall_handshakes(bool stall) {
  impl_->stall_handshakes.store(stall);
}

std::vector<RecordedRequest> FakeQuay::requests() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::size_t FakeQuay::request_count() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->recorded.size();
}

void FakeQuay::clear_requests() {
  const std::lock_guard lock(impl_->mu);
  impl_->recorded.clear();
}

bool FakeQuay::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->recorded.size() >= n; });
}

std::size_t FakeQuay::connections_accepted() const {
  return impl_->accepted.load();
}
std::size_t FakeQuay::handshakes_attempted() const {
  return impl_->attempted.load();
}
std::size_t FakeQuay::handshakes_completed() const {
  return impl_->completed.load();
}

}  // namespace qcp::test
