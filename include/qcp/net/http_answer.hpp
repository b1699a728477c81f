#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "qcp/core/http.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// Collects one HTTP answer as the transport hands it over: header lines (status lines, fields,
// trailers) and body chunks, each bounded while it arrives. libcurl's callbacks feed it in
// production; the answer fuzzer feeds it the same way.
class AnswerCollector {
 public:
  AnswerCollector(std::size_t max_header_bytes, std::size_t max_body_bytes)
      : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {}

  // One header line with its line ending. A status line ("HTTP/1.1 200 OK") starts a new
  // answer: a proxy's answer to CONNECT or a 1xx comes before the real one. false: the headers
  // are over budget, stop reading.
  bool add_header_line(std::string_view line);
  // false: the body is over budget, stop reading.
  bool add_body(std::string_view chunk);

  // The status of the answer being read (0 before its status line).
  [[nodiscard]] long status() const { return response_.status; }
  [[nodiscard]] bool headers_overflowed() const { return headers_overflowed_; }
  [[nodiscard]] bool body_overflowed() const { return body_overflowed_; }
  [[nodiscard]] std::size_t max_header_bytes() const { return max_header_bytes_; }
  [[nodiscard]] std::size_t max_body_bytes() const { return max_body_bytes_; }
  // The last answer: status from its status line (0 if none was seen), Content-Type,
  // Retry-After, body. Moves the body out.
  HttpResponse take();

 private:
  std::size_t max_header_bytes_;
  std::size_t max_body_bytes_;
  std::size_t header_bytes_ = 0;
  bool headers_overflowed_ = false;
  bool body_overflowed_ = false;
  bool body_started_ = false;  // header lines after the body are trailers: counted, not read
  HttpResponse response_;
};

}  // namespace qcp::net
