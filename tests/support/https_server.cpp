#include "https_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "http_message.hpp"
#include "http_text.hpp"
#include "ossl.hpp"
#include "tls_conn.hpp"

namespace qcp::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxHeaderBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxRequestBodyBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxConnections = 128;
constexpr int kMaxRequestsPerConnection = 1000;
constexpr std::size_t kChunk = std::size_t{16} * 1024;

// A streamed reply's chunks, on one connection.
class ConnectionChunks final : public ChunkSink {
 public:
  explicit ConnectionChunks(TlsConn& conn) : conn_(conn) {}
  bool send(std::string_view bytes) override {
    if (bytes.empty()) {
      return open_;  // an empty chunk would end the body
    }
    std::ostringstream size;
    size << std::hex << bytes.size();
    open_ = open_ && conn_.write_all(size.str() + "\r\n" + std::string(bytes) + "\r\n");
    return open_;
  }
  bool pause(std::chrono::milliseconds duration) override {
    open_ = open_ && conn_.pause(duration);
    return open_;
  }
  [[nodiscard]] bool open() const { return open_; }

 private:
  TlsConn& conn_;
  bool open_ = true;
};

}  // namespace

// ------------------------------------------------------------------------------------------

struct LoopbackHttpsServer::Impl {
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  enum class After { kKeepAlive, kClose, kDone };

  HttpsServerOptions options;
  detail::SslCtxPtr ssl_ctx;
  detail::Fd listen_fd;
  detail::Fd stop_fd;
  std::uint16_t port = 0;
  std::string host;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  Handler handler;
  Responder responder;
  std::vector<RecordedRequest> recorded;

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

  Impl(const TestPki& pki, HttpsServerOptions opts) : options(std::move(opts)) {
    make_ssl_ctx(pki);
    listen_on_loopback();
    stop_fd = detail::Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_fd.valid()) {
      throw std::runtime_error(std::string("eventfd: ") + errno_text());
    }
    host = (options.ipv6 ? "[::1]:" : "127.0.0.1:") + std::to_string(port);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;
  ~Impl() { stop(); }

  void start(Responder answer) {
    responder = std::move(answer);
    acceptor = std::thread([this] { accept_loop(); });
  }

  void stop() {
    const std::uint64_t one = 1;
    const ssize_t n = ::write(stop_fd.get(), &one, sizeof one);
    static_cast<void>(n);
    if (acceptor.joinable()) {
      acceptor.join();
    }
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
      req.body = buf.substr(0, content_length);
      buf.erase(0, content_length);
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
    if (!chosen) {
      chosen = responder(req);
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
    if (!options.server_header.empty()) {
      head += "Server: " + options.server_header + "\r\n";
    }
    head += "Date: " + http_date(std::chrono::system_clock::now()) + "\r\n";
    if (!no_body && body_size > 0 && !has_header(reply.headers, "Content-Type")) {
      head += "Content-Type: text/plain; charset=utf-8\r\n";
    }
    const bool chunked = reply.generated_trailer_bytes.has_value();
    const bool streamed = static_cast<bool>(reply.stream);
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\nTrailer: X-Filler\r\n";
    } else if (streamed) {
      head += "Transfer-Encoding: chunked\r\n";
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
    if (streamed) {
      ConnectionChunks chunks(conn);
      reply.stream(chunks);
      if (!chunks.open() || !conn.write_all("0\r\n\r\n")) {
        return After::kDone;
      }
      return close ? After::kClose : After::kKeepAlive;
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
};

// ------------------------------------------------------------------------------------------

LoopbackHttpsServer::LoopbackHttpsServer(const TestPki& pki, HttpsServerOptions options)
    : impl_(std::make_unique<Impl>(pki, std::move(options))) {}

LoopbackHttpsServer::~LoopbackHttpsServer() = default;

void LoopbackHttpsServer::start(Responder responder) {
  impl_->start(std::move(responder));
}

void LoopbackHttpsServer::stop() {
  impl_->stop();
}

std::uint16_t LoopbackHttpsServer::port() const {
  return impl_->port;
}
std::string LoopbackHttpsServer::host() const {
  return impl_->host;
}
std::string LoopbackHttpsServer::base_url() const {
  return "https://" + impl_->host;
}

void LoopbackHttpsServer::set_handler(Handler handler) {
  const std::lock_guard lock(impl_->mu);
  impl_->handler = std::move(handler);
}

void LoopbackHttpsServer::fail_handshakes(HandshakeFault fault, std::size_t connections) {
  const std::lock_guard lock(impl_->fault_mutex);
  impl_->handshake_faults.insert(impl_->handshake_faults.end(), connections, fault);
}

void LoopbackHttpsServer::set_stall_handshakes(bool stall) {
  impl_->stall_handshakes.store(stall);
}

std::vector<RecordedRequest> LoopbackHttpsServer::requests() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::size_t LoopbackHttpsServer::request_count() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->recorded.size();
}

void LoopbackHttpsServer::clear_requests() {
  const std::lock_guard lock(impl_->mu);
  impl_->recorded.clear();
}

bool LoopbackHttpsServer::wait_for_requests(std::size_t n,
                                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->recorded.size() >= n; });
}

std::size_t LoopbackHttpsServer::connections_accepted() const {
  return impl_->accepted.load();
}
std::size_t LoopbackHttpsServer::handshakes_attempted() const {
  return impl_->attempted.load();
}
std::size_t LoopbackHttpsServer::handshakes_completed() const {
  return impl_->completed.load();
}

}  // namespace qcp::test
