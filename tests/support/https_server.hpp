#pragma once
// LoopbackHttpsServer: real HTTPS (TLS 1.2+) on loopback for the tests' fake servers (FakeQuay,
// FakeKubeApi). It owns the transport only: listening, TLS, HTTP/1.1 parsing with keep-alive,
// recording every request, and the reply actions tests need to provoke a client (hang, reset,
// close, huge or endless bodies, handshake faults). What a request is answered with is the
// subclass's: it passes a Responder to start().
//
// Thread-safe: every member function may be called from any thread while requests are served.
// stop() (and so the destructor) ends serving promptly (all waits watch a stop eventfd), even
// with connections hanging, streaming or stalled in the handshake; it joins every thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pki.hpp"

namespace qcp::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::uint64_t connection = 0;  // 1-based TCP connection number (same number = keep-alive reuse)
  std::string peer;              // "127.0.0.1:53124" / "[::1]:53124"
  std::string method;
  std::string target;  // as sent: path + optional "?query"
  std::string path;
  std::string query;    // without '?'
  std::string version;  // "HTTP/1.1"
  HeaderList headers;   // in order, names as sent
  std::size_t body_bytes = 0;
  std::string body;  // as sent (at most 1 MiB: a larger one is 413)
  // Decoded from "Authorization: Basic ..." when it decodes and contains ':'.
  std::optional<std::string> basic_user;
  std::optional<std::string> basic_password;
  int status = 0;  // status of the reply chosen; 0 for hang/reset/close actions

  // First header with that name, case-insensitive.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

// Where a streamed reply writes its body: one HTTP chunk per send (as the API server sends one
// watch event per chunk, kube-api/02c).
class ChunkSink {
 public:
  ChunkSink() = default;
  ChunkSink(const ChunkSink&) = delete;
  ChunkSink& operator=(const ChunkSink&) = delete;
  ChunkSink(ChunkSink&&) = delete;
  ChunkSink& operator=(ChunkSink&&) = delete;
  virtual ~ChunkSink() = default;
  // false once the client is gone or the server stops: the stream should end.
  virtual bool send(std::string_view bytes) = 0;
  // Waits up to `duration`; false when the server is stopping.
  virtual bool pause(std::chrono::milliseconds duration) = 0;
};

struct Reply {
  enum class Action {
    kRespond,               // send status, headers and body
    kHang,                  // send nothing until hang_limit, client close or server destruction
    kHangAfterHeaders,      // send status line + headers (with Content-Length), then hang
    kReset,                 // close the TCP connection with RST (SO_LINGER 0), no TLS alert
    kCloseWithoutResponse,  // TLS close_notify + FIN, no HTTP response
  };
  Action action = Action::kRespond;
  int status = 200;
  HeaderList headers;  // extra headers, e.g. {"Retry-After","2"}, {"Location","http://..."}
  std::string body;
  // Instead of body: stream this many filler bytes ('A') in 16 KiB chunks, never buffered.
  std::optional<std::size_t> generated_body_bytes;
  // false: omit Content-Length and delimit the body by closing the connection.
  bool content_length = true;
  // Send the body chunked, then this many bytes of trailer lines after the last chunk, streamed.
  std::optional<std::size_t> generated_trailer_bytes;
  // A streamed body: the head goes out chunked, then this writes chunks until it returns; the
  // last chunk follows. Called on the connection's thread, without the server's locks.
  std::function<void(ChunkSink&)> stream;
  std::chrono::milliseconds delay{0};            // wait before acting (interruptible)
  std::chrono::milliseconds hang_limit{60'000};  // bound for kHang / kHangAfterHeaders

  // Body "<json>\n" as Flask's jsonify writes it, Content-Type application/json.
  static Reply json(int status, const nlohmann::json& body, HeaderList headers = {});
  static Reply html(int status, std::string body, HeaderList headers = {});
  static Reply text(int status, std::string body, HeaderList headers = {});
  static Reply hang(std::chrono::milliseconds limit = std::chrono::milliseconds{60'000});
  static Reply reset();
  static Reply close_without_response();
  // 200 application/json with `bytes` filler bytes.
  static Reply huge(std::size_t bytes, bool with_content_length = true);
  // 200 with a chunked JSON body followed by `bytes` of trailer lines ("X-Filler-N: aaa...").
  static Reply endless_trailers(std::size_t bytes);
};

enum class HandshakeFault {
  kReset,      // RST (SO_LINGER 0)
  kClose,      // FIN without a word
  kPlainHttp,  // a plain HTTP/1.1 400 answer, as an HTTP server on the port would send
};

struct HttpsServerOptions {
  bool ipv6 = false;                             // listen on [::1] instead of 127.0.0.1
  std::uint16_t port = 0;                        // 0: ephemeral
  std::chrono::milliseconds io_timeout{10'000};  // per read/write/handshake on a connection
  bool only_tls_1_1 = false;                // speak TLS 1.0/1.1 only, as an outdated server does
  std::string server_header = "fake-quay";  // the Server: header of every answer; "": none
  // One line per request ("GET /path 200") and per failed TLS handshake; never contains the
  // query, headers or credentials. Called from server threads, possibly concurrently.
  std::function<void(const std::string&)> log;
};

class LoopbackHttpsServer {
 public:
  using Handler = std::function<std::optional<Reply>(const RecordedRequest&)>;
  using Responder = std::function<Reply(const RecordedRequest&)>;

  // Binds and listens before returning (port() is known); serves from start(). `pki` is only
  // read here. Throws std::runtime_error on failure (e.g. no IPv6 loopback, port in use).
  LoopbackHttpsServer(const TestPki& pki, HttpsServerOptions options);
  LoopbackHttpsServer(const LoopbackHttpsServer&) = delete;
  LoopbackHttpsServer& operator=(const LoopbackHttpsServer&) = delete;
  LoopbackHttpsServer(LoopbackHttpsServer&&) = delete;
  LoopbackHttpsServer& operator=(LoopbackHttpsServer&&) = delete;
  virtual ~LoopbackHttpsServer();

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::string host() const;      // "127.0.0.1:PORT" / "[::1]:PORT"
  [[nodiscard]] std::string base_url() const;  // "https://" + host()

  // Called for every request before the responder; nullopt falls through. Called without
  // internal locks held, so it may call members. Empty function: none.
  void set_handler(Handler handler);
  // true: accept TCP connections but never start TLS (for connect-vs-handshake timeout tests).
  void set_stall_handshakes(bool stall);
  // The next `connections` connections: read the ClientHello, then do `fault` instead of TLS.
  void fail_handshakes(HandshakeFault fault, std::size_t connections = 1);

  [[nodiscard]] std::vector<RecordedRequest> requests() const;
  [[nodiscard]] std::size_t request_count() const;
  void clear_requests();
  // Waits (without sleeping blindly) until at least n requests were recorded in total since
  // the last clear_requests(); false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  [[nodiscard]] std::size_t connections_accepted() const;
  [[nodiscard]] std::size_t handshakes_attempted() const;
  [[nodiscard]] std::size_t handshakes_completed() const;

 protected:
  // Starts accepting; `responder` answers what the handler leaves. Once only.
  void start(Responder responder);
  // Stops serving and joins every thread; idempotent. A subclass calls it first in its
  // destructor, before what its responder uses is gone.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qcp::test
