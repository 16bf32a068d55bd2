// ws_echo_server --port P [--host H] [--tls-cert F --tls-key F]
//                [--timeout MS] [--backend=posix|epoll]
//
// Accepts any number of WebSocket clients (posix: one thread each; epoll:
// every client a task on one loop thread) and echoes every
// Text and Binary message back unchanged; answers pings and closes. Messages
// up to 64 MiB. With --port 0 the kernel picks a port. Once listening it
// prints "listening on PORT" on stdout (flushed), so a test can read the
// port; everything else goes to stderr. Runs until killed.
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/interop/backend.h"
#include "tests/interop/cli.h"

namespace tern::interop {
namespace {

constexpr std::string_view kUsage =
    "usage: ws_echo_server --port P [--host H] [--tls-cert FILE --tls-key FILE]\n"
    "                      [--timeout MS] [--backend=NAME]\n"
    "  --port      TCP port, 0 = any free one (printed as \"listening on PORT\")\n"
    "  --host      address to bind (default 127.0.0.1)\n"
    "  --tls-cert  PEM certificate chain: serve wss:// (needs --tls-key)\n"
    "  --timeout   per-read timeout in ms for each client, 0 = none (default 0)\n"
    "  --backend   one of: posix, epoll (default posix)";

constexpr std::size_t kMaxMessage = 64u << 20;

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::optional<tls::TlsConfig> tls;
  absl::Duration timeout = absl::InfiniteDuration();
};

template <typename B>
typename B::template Task<absl::Status> serve_client(typename B::Context& ctx, typename B::Socket socket,
                                                     WebSocketOptions o, unsigned long id) {
  // The TLS and upgrade handshakes run in the client's own thread or task,
  // so a slow client does not hold up the others.
  absl::StatusOr<typename B::WebSocket> ws = co_await B::accept_websocket(ctx, std::move(socket), o);
  if (!ws.ok()) {
    std::fprintf(stderr, "client %lu: handshake: %s\n", id, ws.status().ToString().c_str());
    co_return absl::OkStatus();
  }
  for (;;) {
    absl::StatusOr<ws::Message> m = co_await B::recv(*ws);
    if (!m.ok()) {
      std::fprintf(stderr, "client %lu: %s\n", id, m.status().ToString().c_str());
      co_return absl::OkStatus();
    }
    absl::Status st;
    if (m->opcode == ws::Opcode::Text) {
      st = co_await B::send_text(*ws, m->text());
    } else if (m->opcode == ws::Opcode::Binary) {
      st = co_await B::send_binary(*ws, m->payload);
    } else if (m->opcode == ws::Opcode::Close) {
      std::fprintf(stderr, "client %lu: closed with %d\n", id, static_cast<int>(m->close_code));
      co_return absl::OkStatus();
    }
    if (!st.ok()) {
      std::fprintf(stderr, "client %lu: %s\n", id, st.ToString().c_str());
      co_return absl::OkStatus();
    }
  }
}

template <typename B>
typename B::template Task<absl::Status> run(typename B::Context& ctx, const Config& c) {
  absl::StatusOr<typename B::Listener> listener = B::listen(ctx, c.host, c.port);
  if (!listener.ok()) co_return listener.status();
  std::printf("listening on %u\n", static_cast<unsigned>(B::port(*listener)));
  std::fflush(stdout);

  WebSocketOptions o;
  o.tls = c.tls ? &*c.tls : nullptr;
  o.limits = {kMaxMessage, kMaxMessage};
  o.write_buffer_size = kMaxMessage + 64;
  o.socket.read_timeout = c.timeout;
  for (unsigned long id = 1;; ++id) {
    absl::StatusOr<typename B::Socket> s = co_await B::accept(*listener, o.socket);
    if (!s.ok()) {
      std::fprintf(stderr, "accept: %s\n", s.status().ToString().c_str());
      (void)co_await B::sleep_for(ctx, absl::Milliseconds(10));  // e.g. EMFILE: do not spin
      continue;
    }
    B::spawn(ctx, [&ctx, o, id, sock = *std::move(s)]() mutable {
      return serve_client<B>(ctx, std::move(sock), o, id);
    });
  }
}

int main_impl(int argc, char** argv) {
  CommandLine cl = parse_command_line(argc, argv, {"port", "host", "tls-cert", "tls-key", "timeout", "backend"});
  if (!cl.error.empty()) return usage(kUsage, cl.error);
  if (!cl.positional.empty()) return usage(kUsage, absl::StrCat("unexpected argument \"", cl.positional[0], "\""));
  Config c;
  if (!cl.flag("port")) return usage(kUsage, "--port is required");
  absl::StatusOr<std::uint64_t> port = parse_size(*cl.flag("port"));
  if (!port.ok() || *port > 65535) return usage(kUsage, "--port must be 0..65535");
  c.port = static_cast<std::uint16_t>(*port);
  if (auto h = cl.flag("host")) c.host = std::string(*h);
  absl::StatusOr<absl::Duration> t = parse_timeout(cl.flag("timeout"), absl::InfiniteDuration());
  if (!t.ok()) return usage(kUsage, sv(t.status().message()));
  c.timeout = *t;
  if (cl.flag("tls-cert").has_value() != cl.flag("tls-key").has_value()) {
    return usage(kUsage, "--tls-cert and --tls-key go together");
  }
  if (cl.flag("tls-cert")) {
    absl::StatusOr<tls::TlsConfig> tls = server_tls(*cl.flag("tls-cert"), *cl.flag("tls-key"));
    if (!tls.ok()) return fail(tls.status());
    c.tls = *std::move(tls);
  }
  return run_selected_backend(cl, kUsage, [&](auto b, auto& ctx) {
    using B = decltype(b);
    return fail(B::run(ctx, run<B>(ctx, c)));
  });
}

}  // namespace
}  // namespace tern::interop

int main(int argc, char** argv) { return tern::interop::main_impl(argc, argv); }
