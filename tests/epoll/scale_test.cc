// Scale on the epoll backend: 1,000 concurrent WebSocket clients on one
// loop against an epoll server on another thread, every message checked;
// and the resident memory of 10,000 idle server connections (clients in a
// child process, so only the server's memory is measured).
#include <sys/resource.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "backends/epoll/websocket.h"
#include "gtest/gtest.h"
#include "tests/tls/test_pki.h"

namespace tern::epoll {
namespace {

void raise_fd_limit(rlim_t want) {
  rlimit r;
  ::getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < want) {
    r.rlim_cur = std::min<rlim_t>(want, r.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// An echo server: every accepted client is a task on `loop`.
Task<absl::Status> serve_echo(EventLoop& loop, Listener& listener, WebSocketOptions o, std::size_t* served) {
  for (;;) {
    absl::StatusOr<Socket> s = co_await listener.accept();
    if (!s.ok()) co_return absl::OkStatus();
    loop.spawn([&loop, o, served, sock = *std::move(s)]() mutable -> Task<absl::Status> {
      absl::StatusOr<WebSocket> ws = co_await WebSocket::accept(loop, std::move(sock), o);
      if (!ws.ok()) co_return ws.status();
      ++*served;
      for (;;) {
        absl::StatusOr<ws::Message> m = co_await ws->recv();
        if (!m.ok()) co_return absl::OkStatus();
        if (m->opcode == ws::Opcode::Binary) {
          if (absl::Status st = co_await ws->send_binary(m->payload); !st.ok()) co_return st;
        }
        if (m->opcode == ws::Opcode::Close) co_return absl::OkStatus();
      }
    });
  }
}

TEST(EpollScale, AThousandClientsOnOneLoopEveryMessageChecked) {
  raise_fd_limit(8192);
  constexpr int kClients = 1000;
  constexpr int kMessages = 20;
  // The server: its own loop on its own thread.
  EventLoop server_loop;
  auto listener = Listener::bind(server_loop, "127.0.0.1", 0, 4096);
  ASSERT_TRUE(listener.ok());
  const std::string url = "ws://127.0.0.1:" + std::to_string(listener->port()) + "/";
  std::size_t served = 0;
  server_loop.spawn(serve_echo(server_loop, *listener, {}, &served));
  std::thread server([&] { server_loop.run(); });

  EventLoop loop;
  int ok = 0;
  std::string first_error;
  for (int c = 0; c < kClients; ++c) {
    loop.spawn([&, c]() -> Task<absl::Status> {
      absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, url);
      if (!ws.ok()) co_return ws.status();
      std::mt19937 rng(c);
      std::string payload;
      for (int i = 0; i < kMessages; ++i) {
        payload.resize(1 + rng() % 2000);
        for (char& ch : payload) ch = static_cast<char>(rng());
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(payload.data()),
                                                  payload.size());
        if (absl::Status st = co_await ws->send_binary(bytes); !st.ok()) co_return st;
        absl::StatusOr<ws::Message> m = co_await ws->recv();
        if (!m.ok()) co_return m.status();
        if (m->opcode != ws::Opcode::Binary || m->text() != payload) {
          co_return absl::DataLossError("echo differs");
        }
      }
      absl::Status closed = co_await ws->close();
      if (closed.ok()) ++ok;
      co_return closed;
    }, [&](absl::Status st) {
      if (!st.ok() && first_error.empty()) first_error = st.ToString();
    });
  }
  const std::uint64_t start = EventLoop::clock_ns();
  loop.run_until([&] { return EventLoop::clock_ns() - start > 60'000'000'000ull; });  // bounded
  server_loop.post([&] { listener->close(); });
  server_loop.stop();
  server.join();
  EXPECT_EQ(ok, kClients) << first_error;
  EXPECT_EQ(served, static_cast<std::size_t>(kClients));
  EXPECT_EQ(loop.tasks(), 0u);
}

// Resident memory per idle server connection. The clients run in a child
// process; the parent measures its own RSS before and after.
struct MemoryFigure {
  double bytes_per_connection = 0;
  std::size_t connections = 0;
};

MemoryFigure measure_idle_connections(int count, bool tls) {
  raise_fd_limit(count + 256);
  std::optional<tls::TlsConfig> server_tls, client_tls;
  if (tls) {
    using tls::testing::test_pki;
    server_tls = tls::testing::server_tls_config(test_pki().good);
    client_tls = tls::testing::client_tls_config();
  }
  EventLoop loop;
  auto listener = Listener::bind(loop, "127.0.0.1", 0, 4096);
  if (!listener.ok()) return {};
  const std::string url =
      std::string(tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(listener->port()) + "/";
  int ready[2], go[2];
  if (::pipe(ready) != 0 || ::pipe(go) != 0) return {};
  const pid_t child = ::fork();
  if (child == 0) {
    // Clients: connect in waves, exchange a few small messages, report,
    // then hold the connections until told to go.
    ::close(ready[0]);
    ::close(go[1]);
    EventLoop cl;
    std::vector<WebSocket> held;
    held.reserve(count);
    int in_flight = 0, done = 0;
    WebSocketOptions o;
    o.tls = tls ? &*client_tls : nullptr;
    o.limits = {4096, 4096};
    o.write_buffer_size = 4096;
    cl.spawn([&]() -> Task<absl::Status> {
      for (int i = 0; i < count; ++i) {
        while (in_flight >= 256) co_await cl.sleep_for(absl::Milliseconds(1));
        ++in_flight;
        cl.spawn([&]() -> Task<absl::Status> {
          absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(cl, url, o);
          --in_flight;
          if (!ws.ok()) co_return ws.status();
          const std::string small(40, 's');
          const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(small.data()), 40);
          for (int m = 0; m < 3; ++m) {
            if (absl::Status st = co_await ws->send_binary(bytes); !st.ok()) co_return st;
            if (absl::StatusOr<ws::Message> r = co_await ws->recv(); !r.ok()) co_return r.status();
          }
          held.push_back(*std::move(ws));
          ++done;
          co_return absl::OkStatus();
        });
      }
      while (done < count) co_await cl.sleep_for(absl::Milliseconds(5));
      co_return absl::OkStatus();
    });
    cl.run_for(absl::Seconds(120));
    const char c = done == count ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    char g;
    (void)!::read(go[0], &g, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  std::size_t served = 0;
  WebSocketOptions server_options;  // the server's defaults (1 MiB messages)
  server_options.tls = tls ? &*server_tls : nullptr;
  // Warm the frame pool and the allocator with the listener task itself.
  loop.spawn(serve_echo(loop, *listener, server_options, &served));
  loop.run_for(absl::Milliseconds(1));
  const std::size_t before = resident_bytes();
  char answer = 0;
  loop.spawn([&]() -> Task<absl::Status> {
    for (int i = 0; i < 24'000; ++i) {
      pollfd p{ready[0], POLLIN, 0};
      if (::poll(&p, 1, 0) == 1) {
        (void)!::read(ready[0], &answer, 1);
        break;
      }
      co_await loop.sleep_for(absl::Milliseconds(5));
    }
    co_return absl::OkStatus();
  });
  loop.run_until([&] { return answer != 0; });
  // Idle: past release_memory_when_idle (1 s by default), every connection
  // has given its buffers' pages back.
  loop.run_for(absl::Milliseconds(1500));
  const std::size_t after = resident_bytes();
  const char g = 'g';
  (void)!::write(go[1], &g, 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);
  ::close(go[1]);
  if (answer != 'y' || served != static_cast<std::size_t>(count)) return {};
  return {static_cast<double>(after - before) / count, served};
}

TEST(EpollScale, TenThousandIdleConnectionsResidentMemory) {
  const MemoryFigure plain = measure_idle_connections(10'000, /*tls=*/false);
  ASSERT_EQ(plain.connections, 10'000u);
  std::printf("resident memory per idle ws connection (server defaults): %.0f bytes\n",
              plain.bytes_per_connection);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Sanitizers' allocators add redzones and quarantine: the bar is for
  // the real allocator only.
  EXPECT_LE(plain.bytes_per_connection, 8 * 1024.0);
#endif
}

TEST(EpollScale, IdleTlsConnectionsResidentMemory) {
  const MemoryFigure secure = measure_idle_connections(2'000, /*tls=*/true);
  ASSERT_EQ(secure.connections, 2'000u);
  std::printf("resident memory per idle wss connection (server defaults): %.0f bytes\n",
              secure.bytes_per_connection);
}

}  // namespace
}  // namespace tern::epoll
