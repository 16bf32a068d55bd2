// tern example: the core's connection objects driven from your own loop.
//
// This is what a user who vendors tern into an io_uring loop, a
// kernel-bypass stack or a simulator writes: a few lines that move bytes
// between a file descriptor and a sans-IO connection object, and nothing
// else. The protocol (the opening handshake, Pong replies, the Close echo,
// close codes) is the core's: tern::ws::Connection and
// tern::http::ClientConnection decide, this loop only reads and writes.
//
// Both ends run in this one thread over socketpair(2), with poll(2) as the
// "event loop": a WebSocket client and server (handshake, text, a ping, the
// closing handshake), then an HTTP client against a canned server over a
// second pair (keep-alive, then Connection: close).
//
//   bazel run //docs/examples:own_loop
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/http/client_connection.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/url/url.h"
#include "core/ws/connection.h"

namespace {

// Writes what the connection has queued. A real loop would wait for
// POLLOUT on a short write; a socketpair takes these few bytes at once.
template <typename Conn>
bool flush(int fd, Conn& c) {
  for (std::span<const std::uint8_t> out = c.pending_output(); !out.empty(); out = c.pending_output()) {
    const ssize_t n = ::write(fd, out.data(), out.size());
    if (n <= 0) return false;
    c.consume_output(static_cast<std::size_t>(n));
  }
  return true;
}

// One read into the connection (EOF told to it); false on error.
template <typename Conn>
bool fill(int fd, Conn& c) {
  const std::span<std::uint8_t> space = c.read_space();
  const ssize_t n = ::read(fd, space.data(), space.size());
  if (n < 0) return false;
  if (n == 0) {
    c.receive_eof();
  } else {
    c.commit(static_cast<std::size_t>(n));
  }
  return true;
}

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// Runs both WebSocket ends until each has seen `want` events (bounded).
struct Side {
  const char* name;
  int fd;
  tern::ws::Connection c;
};

// Delivers events from one side until it has nothing more, printing them;
// the loop then flushes whatever the connection queued in answer.
void pump(Side& s) {
  for (;;) {
    const tern::ws::Event e = s.c.next();
    switch (e.type) {
      case tern::ws::EventType::None:
        (void)flush(s.fd, s.c);
        return;
      case tern::ws::EventType::Open:
        std::printf("%s: open (subprotocol \"%.*s\")\n", s.name, static_cast<int>(s.c.subprotocol().size()),
                    s.c.subprotocol().data());
        break;
      case tern::ws::EventType::Message:
        std::printf("%s: message opcode %d \"%.*s\"\n", s.name, static_cast<int>(e.message.opcode),
                    static_cast<int>(e.message.payload.size()),
                    reinterpret_cast<const char*>(e.message.payload.data()));
        if (s.c.role() == tern::ws::Role::Server && e.message.opcode == tern::ws::Opcode::Text) {
          (void)s.c.send_text(e.message.text());  // echo; the loop flushes it
        }
        break;
      case tern::ws::EventType::Closed:
        std::printf("%s: peer closed with %d (state %.*s)\n", s.name, static_cast<int>(e.message.close_code),
                    static_cast<int>(tern::ws::name(s.c.state()).size()), tern::ws::name(s.c.state()).data());
        break;
      case tern::ws::EventType::Failed:
        std::printf("%s: failed (%.*s)\n", s.name, static_cast<int>(tern::ws::name(s.c.failure().cause).size()),
                    tern::ws::name(s.c.failure().cause).data());
        break;
    }
  }
}

// One round: each side reads what arrived and reacts.
bool round(Side& a, Side& b) {
  bool any = false;
  for (Side* s : {&a, &b}) {
    if (s->c.finished()) continue;
    if (readable(s->fd, 10)) {
      if (!fill(s->fd, s->c)) return false;
      any = true;
    }
    pump(*s);
  }
  return any;
}

int websocket() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;
  tern::Url url;
  if (tern::parse_url("ws://example.test/feed", url) != tern::UrlError::kNone) return 1;
  tern::ws::ConnectionOptions client_options;
  client_options.subprotocols = {"v1"};
  tern::ws::ConnectionOptions server_options;
  server_options.subprotocols = {"v1"};
  auto client = tern::ws::Connection::client(url, client_options);  // the upgrade GET is queued
  auto server = tern::ws::Connection::server(server_options);
  if (!client.ok() || !server.ok()) return 1;
  Side c{"client", fds[0], *std::move(client)};
  Side s{"server", fds[1], *std::move(server)};
  if (!flush(c.fd, c.c)) return 1;

  bool said_hello = false, pinged = false, closing = false;
  for (int i = 0; i < 200 && !(c.c.finished() && s.c.finished()); ++i) {
    if (!round(c, s) && c.c.is_open()) {
      // Idle: the client's script.
      if (!said_hello) {
        said_hello = c.c.send_text("hello").ok();
      } else if (!pinged) {
        pinged = c.c.send_ping(tern::ws::as_bytes("hb")).ok();  // the server's core answers it
      } else if (!closing) {
        closing = c.c.close(tern::ws::CloseCode::Normal, "done").ok();
      }
      (void)flush(c.fd, c.c);
    }
    // After its Close is out, each side ends its direction; the peer sees EOF.
    for (Side* side : {&c, &s}) {
      if (side->c.finished()) ::shutdown(side->fd, SHUT_WR);
    }
  }
  ::close(fds[0]);
  ::close(fds[1]);
  std::printf("websocket: client %s, server %s\n", tern::ws::name(c.c.state()).data(),
              tern::ws::name(s.c.state()).data());
  return c.c.state() == tern::ws::State::Closed && s.c.state() == tern::ws::State::Closed ? 0 : 1;
}

int http() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;
  tern::http::ClientConnection conn({.read_buffer_size = 64 << 10, .write_buffer_size = 4 << 10});
  auto writer = tern::http::RequestWriter::create({.host = "api.example.test"});
  if (!writer.ok()) return 1;
  tern::http::ResponseReader reader;
  const std::string_view canned[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
      "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecond",
  };
  for (int i = 0; i < 3; ++i) {
    if (!conn.reusable()) {
      std::printf("http: not reusable (%.*s): reconnect before request %d\n",
                  static_cast<int>(tern::http::name(conn.end_reason()).size()),
                  tern::http::name(conn.end_reason()).data(), i + 1);
      break;
    }
    (void)writer->start(conn.request_buffer(), tern::http::Method::Get, "/time").finish();
    if (conn.queue_request() != tern::http::QueueError::None || !flush(fds[0], conn)) return 1;
    // The "server": read the request, answer with a canned response.
    char request[4096];
    if (::read(fds[1], request, sizeof request) <= 0) return 1;
    if (::write(fds[1], canned[i].data(), canned[i].size()) < 0) return 1;
    tern::http::Progress p = conn.next(reader);
    while (p == tern::http::Progress::NeedMore && readable(fds[0], 1000) && fill(fds[0], conn)) {
      p = conn.next(reader);
    }
    if (p != tern::http::Progress::Complete) return 1;
    std::printf("http: %d \"%.*s\" (keep-alive %d)\n", reader.status(), static_cast<int>(reader.body().size()),
                reader.body().data(), reader.keep_alive() ? 1 : 0);
  }
  ::close(fds[0]);
  ::close(fds[1]);
  return conn.end_reason() == tern::http::EndReason::ConnectionClose ? 0 : 1;
}

}  // namespace

int main() {
  const int ws = websocket();
  const int h = http();
  std::printf("%s\n", ws == 0 && h == 0 ? "own_loop: ok" : "own_loop: FAILED");
  return ws == 0 && h == 0 ? 0 : 1;
}
