// ws_echo_client URL [--ca FILE] [--timeout MS] [--backend=posix|epoll]
//
// Connects to a ws:// or wss:// URL and echoes every Text and Binary message
// back unchanged until the peer closes (pings are answered by the backend).
// Exit 0 after the peer's Close has been answered; otherwise prints
// "ERROR <reason>" on stdout and exits 1 (2 for bad usage). This is the
// Autobahn|Testsuite client convention: one run per case, e.g.
//   ws_echo_client 'ws://127.0.0.1:9001/runCase?case=7&agent=tern'
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/interop/backend.h"
#include "tests/interop/cli.h"

namespace tern::interop {
namespace {

constexpr std::string_view kUsage =
    "usage: ws_echo_client URL [--ca FILE] [--timeout MS] [--backend=NAME]\n"
    "  URL        ws://host[:port]/path or wss://...\n"
    "  --ca       trust only this PEM CA file (default: the system store)\n"
    "  --timeout  connect and per-read timeout in ms, 0 = none (default 10000)\n"
    "  --backend  one of: posix, epoll (default posix)";

// Autobahn's largest cases are 16 MiB; leave room.
constexpr std::size_t kMaxMessage = 64u << 20;

struct Config {
  std::string url;
  std::optional<tls::TlsConfig> tls;
  absl::Duration timeout;
};

template <typename B>
typename B::template Task<absl::Status> run(typename B::Context& ctx, const Config& c) {
  WebSocketOptions o;
  o.tls = c.tls ? &*c.tls : nullptr;
  o.limits = {kMaxMessage, kMaxMessage};
  o.write_buffer_size = kMaxMessage + 64;
  o.socket.connect_timeout = c.timeout == absl::InfiniteDuration() ? absl::Seconds(60) : c.timeout;
  o.socket.read_timeout = c.timeout;
  absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(ctx, c.url, o);
  if (!ws.ok()) co_return ws.status();
  for (;;) {
    absl::StatusOr<ws::Message> m = co_await B::recv(*ws);
    if (!m.ok()) co_return m.status();
    absl::Status st;
    switch (m->opcode) {
      case ws::Opcode::Text:
        st = co_await B::send_text(*ws, m->text());
        break;
      case ws::Opcode::Binary:
        st = co_await B::send_binary(*ws, m->payload);
        break;
      case ws::Opcode::Close:
        // The backend has already echoed the Close (RFC 6455 §5.5.1).
        std::fprintf(stderr, "ws_echo_client: peer closed with %d\n", static_cast<int>(m->close_code));
        co_return absl::OkStatus();
      default:  // Ping (answered by the backend) and Pong.
        break;
    }
    if (!st.ok()) co_return st;
  }
}

int main_impl(int argc, char** argv) {
  CommandLine cl = parse_command_line(argc, argv, {"ca", "timeout", "backend"});
  if (!cl.error.empty()) return usage(kUsage, cl.error);
  if (cl.positional.size() != 1) return usage(kUsage, "expected exactly one URL");
  Config c;
  c.url = cl.positional[0];
  absl::StatusOr<absl::Duration> t = parse_timeout(cl.flag("timeout"), absl::Seconds(10));
  if (!t.ok()) return usage(kUsage, sv(t.status().message()));
  c.timeout = *t;
  if (absl::StartsWithIgnoreCase(c.url, "wss:")) {
    absl::StatusOr<tls::TlsConfig> tls = client_tls(cl.flag("ca"));
    if (!tls.ok()) return fail(tls.status());
    c.tls = *std::move(tls);
  }
  return run_selected_backend(cl, kUsage, [&](auto b, auto& ctx) {
    using B = decltype(b);
    const absl::Status st = B::run(ctx, run<B>(ctx, c));
    return st.ok() ? 0 : fail(st);
  });
}

}  // namespace
}  // namespace tern::interop

int main(int argc, char** argv) { return tern::interop::main_impl(argc, argv); }
