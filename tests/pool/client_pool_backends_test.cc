// ClientPool and AtomicClientPool on every backend, tested once: each test
// is a coroutine over the Backend concept, instantiated for posix, epoll and
// Asio, each with both pools. Against real loopback servers
// (tests/support/pool): build and its failure, LIFO, the slot's writer
// settings, try_acquire/acquire, Connection: close, poisoning and healing,
// retry off and on, releases from other threads, metrics, HTTPS, zero
// allocations per request; deterministic fault injection (Faulty<B>: the
// n-th transport operation fails, n = 0, 1, 2, ...); and real faults: a
// killed and restarted server, a black hole, a reset mid-response, a slow
// server, and the idle keep-alive race.
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/pool/client_pool.h"
#include "backends/posix/backend.h"
#include "core/http/request_writer.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/canned_http_server.h"
#include "tests/support/faulty_backend.h"
#include "tests/support/pool/pool_test_server.h"
#include "tests/support/pool/tcp_proxy.h"
#include "tests/tls/test_pki.h"

namespace tern::pool {
namespace {

using testing::PoolTestServer;

// A backend and which of the two pools.
template <typename Backend, bool kAtomicPool>
struct Flavor {
  using B = Backend;
  static constexpr bool kAtomic = kAtomicPool;
};

template <typename B>
using TaskOf = typename B::template Task<absl::Status>;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }
std::string message(const absl::Status& s) { return std::string(s.message()); }

// GET `path` with an X-Request-Id, through pool.send().
template <typename Pool>
auto get(Pool& pool, std::string path, std::uint64_t id = 0,
         http::Method method = http::Method::Get) {
  return pool.send([path, id, method](const http::RequestWriter& w, WriteBuf& out) {
    char text[24];
    const auto end = std::to_chars(text, text + sizeof text, id).ptr;
    const std::string_view id_text(text, static_cast<std::size_t>(end - text));
    if (method == http::Method::Post) return w.start(out, method, path).header("X-Request-Id", id_text).body("{}");
    return w.start(out, method, path).header("X-Request-Id", id_text).finish();
  });
}

template <typename F>
class ClientPoolSuite : public ::testing::Test {
 protected:
  using B = typename F::B;
  using Pool = BasicClientPool<B, F::kAtomic>;
  using FaultyPool = BasicClientPool<testing::Faulty<B>, F::kAtomic>;

  template <typename Body>
  absl::Status run(Body body) {
    return B::run(ctx, body());
  }

  // Bounded wait until done() (posix: due reconnects run meanwhile, as a
  // caller of acquire() would make them). False if it never came.
  template <typename P, typename Done>
  TaskOf<typename P::Backend> eventually(P& pool, Done done, absl::Duration limit = absl::Seconds(10)) {
    using PB = typename P::Backend;
    const absl::Time give_up = absl::Now() + limit;
    while (!done()) {
      if (absl::Now() > give_up) co_return absl::DeadlineExceededError("condition never held");
      (void)co_await pool.reconnect_due();
      (void)co_await PB::sleep_for(ctx, absl::Milliseconds(2));
    }
    co_return absl::OkStatus();
  }

  typename B::Context ctx;
};

using Flavors = ::testing::Types<Flavor<posix::Backend, false>, Flavor<posix::Backend, true>,
                                 Flavor<epoll::Backend, false>, Flavor<epoll::Backend, true>,
                                 Flavor<asio::Backend, false>, Flavor<asio::Backend, true>>;
struct FlavorNames {
  template <typename F>
  static std::string GetName(int) {
    return std::string(F::B::kName) + (F::kAtomic ? "_atomic" : "");
  }
};
TYPED_TEST_SUITE(ClientPoolSuite, Flavors, FlavorNames);

// ------------------------------------------------------------- the basics

TYPED_TEST(ClientPoolSuite, BuildsEverySlotServesLifoWithTheWritersSettings) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder()
                                    .url(server.url())
                                    .base_path("/api/v3")
                                    .default_header("X-API-KEY", "k3y")
                                    .connections(4)
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    PoolMetrics m = pool->metrics();
    EXPECT_EQ(m.slots, 4u);
    EXPECT_EQ(m.healthy, 4u);
    EXPECT_EQ(m.free, 4u);
    if (absl::Status s = co_await this->eventually(*pool, [&] { return server.connections.load() == 4; }); !s.ok()) {
      co_return s;
    }
    // LIFO: one caller at a time always gets the warmest slot back.
    std::string first;
    for (int i = 0; i < 20; ++i) {
      absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo", 0);
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->response.status, 200);
      EXPECT_EQ(r->retries, 0);
      const std::string body(r->response.body);
      EXPECT_TRUE(contains(body, "target=/api/v3/echo key=k3y")) << body;
      if (i == 0) first = body.substr(0, body.find(' '));
      EXPECT_EQ(body.substr(0, body.find(' ')), first) << "LIFO: the same connection every time";
    }
    EXPECT_EQ(server.connections.load(), 4) << "no reconnects";
    // Every slot at once, then nothing, without waiting.
    std::vector<typename Pool::Lease> held;
    for (int i = 0; i < 4; ++i) {
      std::optional<typename Pool::Lease> l = pool->try_acquire();
      if (!l) co_return absl::InternalError("a free slot was not handed out");
      held.push_back(*std::move(l));
    }
    EXPECT_FALSE(pool->try_acquire().has_value());
    EXPECT_EQ(pool->metrics().in_use, 4u);
    // A lease sends what its writer builds; the connection it names serves it.
    (void)held[2].request(http::Method::Get, "/echo").finish();
    absl::StatusOr<HttpResponse> r = co_await held[2].send();
    if (!r.ok()) co_return r.status();
    EXPECT_TRUE(contains(r->body, "target=/api/v3/echo")) << r->body;
    held.clear();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TYPED_TEST(ClientPoolSuite, AcquireWaitsWithItsScheduleThenFailsClearly) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder()
                                    .url(server.url())
                                    .connections(1)
                                    .acquire_backoff(absl::Milliseconds(1), 2.0, absl::Milliseconds(4), 3)
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    absl::StatusOr<typename Pool::Lease> held = co_await pool->acquire();
    if (!held.ok()) co_return held.status();
    const absl::Time start = absl::Now();
    absl::StatusOr<typename Pool::Lease> none = co_await pool->acquire();
    EXPECT_TRUE(absl::IsDeadlineExceeded(none.status())) << none.status();
    EXPECT_TRUE(contains(message(none.status()), "pool acquire timed out after 4 tries")) << none.status();
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(1 + 2 + 4));  // the three waits were made
    held->release();
    absl::StatusOr<typename Pool::Lease> again = co_await pool->acquire();
    EXPECT_TRUE(again.ok()) << again.status();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TYPED_TEST(ClientPoolSuite, BuildFailsCreatingNothingAndRefusesBadOptions) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  std::uint16_t closed_port = 0;
  {
    auto l = posix::Listener::bind("127.0.0.1", 0);
    ASSERT_TRUE(l.ok());
    closed_port = l->port();
  }
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> refused = co_await Pool::builder()
                                       .url("http://127.0.0.1:" + std::to_string(closed_port))
                                       .connections(3)
                                       .build(this->ctx);
    EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
    EXPECT_TRUE(contains(message(refused.status()), "pool build: connection ")) << refused.status();
    for (ClientPoolOptions bad : {ClientPoolOptions{.url = "http://127.0.0.1:1/api"},
                                  ClientPoolOptions{.url = "ws://127.0.0.1:1"},
                                  ClientPoolOptions{.url = "http://127.0.0.1:1", .base_path = "api"},
                                  ClientPoolOptions{.url = "http://127.0.0.1:1", .config = {.connections = 0}},
                                  ClientPoolOptions{.url = "http://127.0.0.1:1",
                                                    .limits = {.max_body_size = 4u << 20}}}) {
      absl::StatusOr<Pool> p = co_await Pool::create(this->ctx, bad);
      EXPECT_TRUE(absl::IsInvalidArgument(p.status())) << bad.url << ": " << p.status();
    }
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TYPED_TEST(ClientPoolSuite, ConnectionCloseReconnectsAtOnceWithoutAnError) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder().url(server.url()).connections(1).build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    {
      absl::StatusOr<typename Pool::Reply> bye = co_await get(*pool, "/close");
      if (!bye.ok()) co_return bye.status();
      EXPECT_EQ(bye->response.body, "bye");
    }
    absl::StatusOr<typename Pool::Reply> next = co_await get(*pool, "/echo");
    if (!next.ok()) co_return next.status();
    EXPECT_TRUE(next->response.body.starts_with("conn=2 ")) << next->response.body;
    const SlotMetrics s = pool->slot_metrics(0);
    EXPECT_EQ(s.reconnects, 1u);
    EXPECT_EQ(s.poisoned, 0u);
    EXPECT_TRUE(s.last_error.ok()) << s.last_error;
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

}  // namespace
}  // namespace tern::pool
