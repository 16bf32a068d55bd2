// docs/backends.md's epoll, pool and session samples, compiled so the page
// cannot drift from the API (built by `bazel build //...`; not run: they
// need a network).
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "backends/epoll/backend.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/websocket.h"
#include "backends/pool/client_pool.h"
#include "backends/session/session.h"
#include "core/tls/tls_config.h"

namespace tern::doc_examples::epoll_samples {

void handle(ws::Opcode, std::span<const std::uint8_t>) {}

// ## epoll
void feed() {
  // --- from the page
  tern::epoll::EventLoop loop;
  loop.spawn([&]() -> tern::epoll::Task<absl::Status> {
    tern::WebSocketOptions o;
    o.socket.read_timeout = absl::Seconds(30);
    auto ws = co_await tern::epoll::WebSocket::connect(loop, "wss://feed.example/v1", o);
    if (!ws.ok()) co_return ws.status();
    if (auto st = co_await ws->send_text(R"({"op":"subscribe","channel":"trades"})"); !st.ok()) co_return st;
    for (;;) {
      auto m = co_await ws->recv();        // zero-copy view until the next recv()
      if (!m.ok()) co_return m.status();   // the same statuses as posix
      handle(m->opcode, m->payload);
    }
  });
  loop.run();
  // ---
}

// ## Pools
tern::epoll::Task<absl::Status> order(tern::epoll::EventLoop& loop, const tern::tls::TlsConfig& tls,
                                      std::string key, std::string json) {
  // --- from the page
  using Pool = tern::pool::ClientPool<tern::epoll::Backend>;
  absl::StatusOr<Pool> pool = co_await Pool::builder()
      .url("https://api.exchange.com").base_path("/api/v3")
      .default_header("X-API-KEY", key).connections(4).tls(&tls)
      .max_idle_age(absl::Seconds(50))                     // below the server's keep-alive
      .build(loop);                                         // every connect, or nothing
  absl::StatusOr<Pool::Lease> lease = co_await pool->acquire();   // try_acquire(): no I/O, no wait
  (void)lease->request(tern::http::Method::Post, "/order").body(json);
  absl::StatusOr<tern::HttpResponse> r = co_await lease->send();  // poisons the slot on failure
  // ---
  co_return r.status();
}

// ## Sessions
struct MyVenue {
  void on_open(tern::session::Out& out, tern::session::ConnectionId) {
    (void)out.add_text(R"({"op":"subscribe","channel":"trades"})");
  }
  bool on_message(const tern::ws::Message&, tern::session::ConnectionId, tern::session::Out&) { return true; }
  void on_close(const tern::session::Down&) {}
};

absl::Status session(tern::epoll::EventLoop& loop, MyVenue& venue, tern::session::SessionOptions options) {
  // --- from the page
  tern::session::Session<tern::epoll::Backend, MyVenue> session(loop, "wss://stream.venue.example/ws",
                                                                venue, options);
  absl::Status st = tern::epoll::Backend::run(loop, session.run());   // until session.stop()
  // ---
  return st;
}

}  // namespace tern::doc_examples::epoll_samples
