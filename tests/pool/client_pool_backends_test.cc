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
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/pool/client_pool.h"
#include "backends/posix/backend.h"
#include "core/http/request_writer.h"
#include "gtest/gtest.h"
#include "tests/support/all_backends.h"
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
  // Bounded wait until every slot is healthy again.
  template <typename P>
  TaskOf<typename P::Backend> healed(P& pool) {
    return eventually(pool, [&pool] { return pool.metrics().healthy == pool.size(); });
  }
  // A builder with quick reconnects (20 ms doubling to 100 ms), so a
  // poisoned slot heals within the test's patience.
  template <typename P = Pool>
  static typename P::Builder quick(const std::string& url, std::size_t connections) {
    typename P::Builder b = P::builder();
    b.url(url).connections(connections).reconnect_backoff(absl::Milliseconds(20), 2.0, absl::Milliseconds(100), 0.2);
    return b;
  }

  typename B::Context ctx;
};

// Both pools on every backend of the shared list (a new backend joins).
template <typename List>
struct BothPoolsOn;
template <typename... Bs>
struct BothPoolsOn<::testing::Types<Bs...>> {
  using type = ::testing::Types<Flavor<Bs, false>..., Flavor<Bs, true>...>;
};
using Flavors = BothPoolsOn<::tern::testing::AllBackends>::type;
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

// A clean end of a connection reconnects at once with no error, and the
// slot's writer settings are those of the new connection too.
TYPED_TEST(ClientPoolSuite, ConnectionCloseReconnectsAtOnceWithoutAnError) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder()
                                    .url(server.url())
                                    .base_path("/api/v3")
                                    .default_header("X-API-KEY", "k3y")
                                    .connections(1)
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    {
      absl::StatusOr<typename Pool::Reply> bye = co_await get(*pool, "/close");
      if (!bye.ok()) co_return bye.status();
      EXPECT_EQ(bye->response.body, "bye");
    }
    absl::StatusOr<typename Pool::Reply> next = co_await get(*pool, "/echo");
    if (!next.ok()) co_return next.status();
    EXPECT_EQ(next->response.body, "conn=2 target=/api/v3/echo key=k3y");
    const SlotMetrics s = pool->slot_metrics(0);
    EXPECT_EQ(s.reconnects, 1u);
    EXPECT_EQ(s.poisoned, 0u);
    EXPECT_TRUE(s.last_error.ok()) << s.last_error;
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TYPED_TEST(ClientPoolSuite, APoisonedSlotIsNeverHandedOutAndHeals) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder()
                                    .url(server.url())
                                    .connections(2)
                                    .reconnect_backoff(absl::Milliseconds(50), 2.0, absl::Milliseconds(200), 0.2)
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    std::size_t bad = 0;
    {
      std::optional<typename Pool::Lease> lease = pool->try_acquire();
      if (!lease) co_return absl::InternalError("no slot");
      bad = lease->slot();
      (void)lease->request(http::Method::Get, "/truncate").header("X-Request-Id", "7").finish();
      absl::StatusOr<HttpResponse> r = co_await lease->send();
      EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
      EXPECT_FALSE(lease->nothing_sent());
    }
    const SlotMetrics poisoned = pool->slot_metrics(bad);
    EXPECT_EQ(poisoned.poisoned, 1u);
    EXPECT_NE(poisoned.state, SlotState::Free);
    EXPECT_TRUE(contains(message(poisoned.last_error), "UnexpectedEof")) << poisoned.last_error;
    EXPECT_EQ(pool->metrics().poisoned, 1u);
    EXPECT_EQ(server.times_seen(7), 1) << "no retry by default";
    // While it backs off, only the other slot is handed out, and it is usable.
    for (int i = 0; i < 5; ++i) {
      std::optional<typename Pool::Lease> lease = pool->try_acquire();
      if (!lease) co_return absl::InternalError("the healthy slot was not handed out");
      EXPECT_NE(lease->slot(), bad);
      EXPECT_TRUE(B::usable(lease->connection()));
    }
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    const SlotMetrics healed = pool->slot_metrics(bad);
    EXPECT_EQ(healed.reconnects, 1u);
    EXPECT_FALSE(healed.last_error.ok()) << "the last error is kept after healing";
    absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo");
    EXPECT_TRUE(r.ok()) << r.status();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// A response the core cannot parse poisons the slot like an I/O error: the
// connection is not reused (its framing is lost), the other slot serves,
// the poisoned one reconnects by itself.
TYPED_TEST(ClientPoolSuite, AMalformedResponsePoisonsTheSlot) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await TestFixture::quick(server.url(), 2).build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    std::size_t bad = 0;
    {
      std::optional<typename Pool::Lease> lease = pool->try_acquire();
      if (!lease) co_return absl::InternalError("no slot");
      bad = lease->slot();
      (void)lease->request(http::Method::Get, "/malformed").finish();
      absl::StatusOr<HttpResponse> r = co_await lease->send();
      EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
      EXPECT_TRUE(contains(message(r.status()), "InvalidContentLength")) << r.status();
    }
    const SlotMetrics poisoned = pool->slot_metrics(bad);
    EXPECT_EQ(poisoned.poisoned, 1u);
    EXPECT_NE(poisoned.state, SlotState::Free);
    EXPECT_EQ(pool->metrics().poisoned, 1u);
    {
      std::optional<typename Pool::Lease> lease = pool->try_acquire();
      if (!lease) co_return absl::InternalError("the healthy slot was not handed out");
      EXPECT_NE(lease->slot(), bad);
    }
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    EXPECT_EQ(pool->slot_metrics(bad).reconnects, 1u);
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo");
      EXPECT_TRUE(r.ok()) << r.status();
    }
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(server.connections.load(), 3);
}

TYPED_TEST(ClientPoolSuite, AnUnsentRequestIsDroppedAtRelease) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder().url(server.url()).connections(1).build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    {
      absl::StatusOr<typename Pool::Lease> lease = co_await pool->acquire();
      if (!lease.ok()) co_return lease.status();
      (void)lease->request(http::Method::Post, "/echo").body("never sent");
    }
    absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo", 1);
    if (!r.ok()) co_return r.status();
    EXPECT_TRUE(contains(r->response.body, "target=/echo")) << r->response.body;
    EXPECT_EQ(server.requests.load(), 1);
    EXPECT_EQ(pool->metrics().poisoned, 0u);
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// Retry is off by default; retry_unsent resends a request that provably
// put nothing on the wire (here: a fault injected before the send), on
// another slot, and says so.
TYPED_TEST(ClientPoolSuite, RetryUnsentOnlyWhenAskedAndSaysSo) {
  using B = typename TestFixture::B;
  using FB = testing::Faulty<B>;
  using FaultyPool = typename TestFixture::FaultyPool;
  PoolTestServer server;
  FB::disarm();
  absl::Status st = this->run([&]() -> TaskOf<B> {
    for (const bool retry : {false, true}) {
      absl::StatusOr<FaultyPool> pool =
          co_await FaultyPool::builder().url(server.url()).connections(2).retry_unsent(retry).build(this->ctx);
      if (!pool.ok()) co_return pool.status();
      const std::uint64_t id = retry ? 21 : 20;
      FB::arm(0);  // the next counted operation: this request's send
      absl::StatusOr<typename FaultyPool::Reply> r = co_await get(*pool, "/echo", id);
      EXPECT_TRUE(FB::fired());
      FB::disarm();
      if (retry) {
        EXPECT_TRUE(r.ok()) << r.status();
        if (r.ok()) {
          EXPECT_EQ(r->retries, 1);
        }
        EXPECT_EQ(pool->retries(), 1u);
        EXPECT_EQ(server.times_seen(id), 1);
      } else {
        EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
        EXPECT_TRUE(contains(message(r.status()), "injected fault")) << r.status();
        EXPECT_EQ(pool->retries(), 0u);
        EXPECT_EQ(server.times_seen(id), 0);
      }
      EXPECT_EQ(pool->metrics().poisoned, 1u);
    }
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// retry_idempotent: an idempotent method that fails on a reused connection
// goes out once more; a POST, or a failure on a fresh connection, does not.
TYPED_TEST(ClientPoolSuite, RetryIdempotentOnlyForIdempotentMethodsOnReusedConnections) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder()
                                    .url(server.url())
                                    .connections(2)
                                    .retry_idempotent()
                                    .reconnect_backoff(absl::Milliseconds(5), 2.0, absl::Milliseconds(20), 0.2)
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    if (absl::StatusOr<typename Pool::Reply> warm = co_await get(*pool, "/echo", 1); !warm.ok()) {
      co_return warm.status();
    }
    // GET on the reused (warm) slot: retried on the other, which fails too.
    absl::StatusOr<typename Pool::Reply> get_twice = co_await get(*pool, "/truncate", 10);
    EXPECT_TRUE(absl::IsUnavailable(get_twice.status())) << get_twice.status();
    EXPECT_EQ(server.times_seen(10), 2);
    EXPECT_EQ(pool->retries(), 1u);
    // Both slots reconnected: fresh connections. A GET failing there is not retried.
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    absl::StatusOr<typename Pool::Reply> fresh = co_await get(*pool, "/truncate", 11);
    EXPECT_FALSE(fresh.ok());
    EXPECT_EQ(server.times_seen(11), 1);
    // A POST on a reused connection is not retried either.
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    if (absl::StatusOr<typename Pool::Reply> warm = co_await get(*pool, "/echo", 2); !warm.ok()) {
      co_return warm.status();
    }
    absl::StatusOr<typename Pool::Reply> post = co_await get(*pool, "/truncate", 12, http::Method::Post);
    EXPECT_FALSE(post.ok());
    EXPECT_EQ(server.times_seen(12), 1);
    EXPECT_EQ(pool->retries(), 1u);
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// AtomicClientPool: leases travel to other threads and come back from
// there without a lock (run under TSan), while yet another thread reads the
// metrics. Posix threads also send on their lease; on a loop the loop's
// thread sends and the other thread reads the response and releases.
TYPED_TEST(ClientPoolSuite, LeasesReturnFromOtherThreadsWhileMetricsAreRead) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  if constexpr (!Pool::kAtomicReturns) {
    GTEST_SKIP() << "ClientPool belongs to one thread";
  } else {
    PoolTestServer server;
    std::atomic<bool> done{false};
    std::atomic<int> bad_metrics{0};
    std::atomic<int> answered{0};
    absl::Status st = this->run([&]() -> TaskOf<B> {
      absl::StatusOr<Pool> pool = co_await Pool::builder().url(server.url()).connections(4).build(this->ctx);
      if (!pool.ok()) co_return pool.status();
      std::thread reader([&] {
        for (int i = 0; i < 100'000 && !done.load(); ++i) {
          const PoolMetrics m = pool->metrics();
          if (m.free + m.in_use + m.connecting + m.backoff != m.slots) ++bad_metrics;
        }
      });
      for (int round = 0; round < 40; ++round) {
        std::vector<std::thread> holders;
        for (int i = 0; i < 4; ++i) {
          std::optional<typename Pool::Lease> lease = pool->try_acquire();
          if (!lease) break;
          (void)lease->request(http::Method::Get, "/echo").finish();
          if constexpr (B::kBlocking) {
            holders.emplace_back([&answered, l = *std::move(lease)]() mutable {
              absl::StatusOr<HttpResponse> r = l.send().get();
              if (r.ok() && r->status == 200) ++answered;
            });
          } else {
            absl::StatusOr<HttpResponse> r = co_await lease->send();
            holders.emplace_back([&answered, r, l = *std::move(lease)]() mutable {
              if (r.ok() && contains(r->body, "target=/echo")) ++answered;
              l.release();
            });
          }
        }
        for (std::thread& t : holders) t.join();
      }
      done = true;
      reader.join();
      // Slots a holder returned count as in use until the acquirer collects
      // them (a slot returned early in a round may have gone out again).
      EXPECT_GE(pool->metrics().in_use, 1u);
      std::optional<typename Pool::Lease> l = pool->try_acquire();  // collects them
      EXPECT_TRUE(l.has_value());
      EXPECT_EQ(pool->metrics().in_use, 1u);
      co_return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_EQ(answered.load(), 160);
    EXPECT_EQ(server.requests.load(), 160);
    EXPECT_EQ(bad_metrics.load(), 0);
  }
}

TYPED_TEST(ClientPoolSuite, Https) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  const tls::TlsConfig good = tls::testing::server_tls_config(tls::testing::test_pki().good);
  const tls::TlsConfig client = tls::testing::client_tls_config();
  testing::CannedHttpServer server(&good);  // one connection at a time
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool =
        co_await Pool::builder().url(server.url("https")).tls(&client).connections(1).build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    for (int i = 0; i < 20; ++i) {
      absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/json");
      if (!r.ok()) co_return r.status();
      EXPECT_TRUE(contains(r->response.body, "BTC-USD"));
    }
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(server.connections.load(), 1);
}

// Steady state allocates nothing, at either end: acquire, build, send,
// release, by lease and through send(); with a max idle age too (on a loop,
// each release moves the idle deadline: no sleeper task is spawned for it
// while an earlier one covers it). (Asio's own recycled memory comes from
// aligned_alloc, which this operator new counter does not see.)
TYPED_TEST(ClientPoolSuite, NoAllocationsPerRequestAtEitherEnd) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  std::size_t allocations[2] = {1, 1};
  const std::string_view json = R"({"side":"buy","symbol":"BTC-USD","qty":"0.01","px":"97000.5","tif":"IOC"})";
  auto order = [json](const http::RequestWriter& w, WriteBuf& out) {
    return w.start(out, http::Method::Post, "/json").header("Content-Type", "application/json").body(json);
  };
  for (const bool idle_age : {false, true}) {
    absl::Status st = this->run([&]() -> TaskOf<B> {
      auto builder = Pool::builder();
      builder.url(server.url()).base_path("/api/v3").default_header("X-API-KEY", "k3y-0123456789abcdef");
      builder.connections(2);
      if (idle_age) builder.max_idle_age(absl::Seconds(30));
      absl::StatusOr<Pool> pool = co_await builder.build(this->ctx);
      if (!pool.ok()) co_return pool.status();
      // The server's threads for these connections allocate as they start;
      // on a loaded machine that can come after the warm-up.
      const int want = idle_age ? 4 : 2;
      if (absl::Status s = co_await this->eventually(*pool, [&] { return server.serving.load() == want; }); !s.ok()) {
        co_return s;
      }
      std::optional<testing::AllocCounter> count;
      for (int i = 0; i < 2050; ++i) {
        if (i == 50) count.emplace();  // after the warm-up
        {
          absl::StatusOr<typename Pool::Lease> lease = co_await pool->acquire();
          if (!lease.ok()) co_return lease.status();
          (void)lease->request(http::Method::Post, "/json").header("Content-Type", "application/json").body(json);
          absl::StatusOr<HttpResponse> r = co_await lease->send();
          if (!r.ok() || r->status != 200) co_return absl::InternalError("lease request");
        }
        absl::StatusOr<typename Pool::Reply> r = co_await pool->send(order);
        if (!r.ok() || r->response.status != 200) co_return absl::InternalError("pool send");
      }
      allocations[idle_age] = count->allocations();
      co_return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
  }
  EXPECT_EQ(allocations[0], 0u);
  EXPECT_EQ(allocations[1], 0u) << "with max_idle_age";
}

// A pool's background tasks (reconnects, sleepers) hold its state, not the
// loop: once the pool is gone they end within a nap (100 ms), even with a
// backoff and an idle deadline seconds away, so the loop can finish.
TYPED_TEST(ClientPoolSuite, ADestroyedPoolsBackgroundTasksEndSoon) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  if constexpr (B::kBlocking) {
    GTEST_SKIP() << "posix runs nothing in the background";
  } else {
    PoolTestServer server;
    absl::Status st = this->run([&]() -> TaskOf<B> {
      absl::StatusOr<Pool> pool = co_await Pool::builder()
                                      .url(server.url())
                                      .connections(2)
                                      .max_idle_age(absl::Seconds(30))
                                      .reconnect_backoff(absl::Seconds(5), 2.0, absl::Seconds(10), 0.0)
                                      .build(this->ctx);
      if (!pool.ok()) co_return pool.status();
      absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/truncate");  // poisoned: 5 s backoff
      EXPECT_FALSE(r.ok());
      EXPECT_EQ(pool->metrics().backoff, 1u);
      co_return absl::OkStatus();  // the pool goes here
    });
    EXPECT_TRUE(st.ok()) << st;
    const absl::Time start = absl::Now();
    if constexpr (std::is_same_v<B, epoll::Backend>) {
      this->ctx.run();  // until no task is left
    } else {
      this->ctx.restart();
      this->ctx.run();
    }
    const absl::Duration took = absl::Now() - start;
    EXPECT_LT(took, absl::Seconds(2)) << "the background tasks outlived the pool by " << took;
  }
}

// AtomicClientPool stamps releases made on other threads with
// detail::monotonic_now(): it must be the clock of B::now().
TYPED_TEST(ClientPoolSuite, TheBackendsClockIsTheMonotonicClock) {
  using B = typename TestFixture::B;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    (void)co_await B::sleep_for(this->ctx, absl::Milliseconds(1));
    const absl::Duration gap = absl::AbsDuration(B::now(this->ctx) - detail::monotonic_now());
    EXPECT_LT(gap, absl::Milliseconds(500)) << gap;
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// ------------------------------------------------------- fault injection

// Faulty<B>: the n-th transport operation (connect or send) fails, for
// n = 0, 1, 2, ... until the scenario runs without the fault firing. The
// scenario builds a pool, sends six requests (one of them answered with
// Connection: close, so a reconnect happens) and waits for the pool to be
// whole. Every time: no slot handed out is unusable, no request reaches
// the server twice, a fault surfaces once (a failed build, one failed
// request, or one failed reconnect in the metrics) and never as any other
// failure, and the pool heals.
TYPED_TEST(ClientPoolSuite, FailingTheNthOperationForEveryN) {
  using B = typename TestFixture::B;
  using FB = testing::Faulty<B>;
  using FaultyPool = typename TestFixture::FaultyPool;
  PoolTestServer server;
  std::uint64_t next_id = 1;
  int n = 0;
  for (; n < 40; ++n) {
    SCOPED_TRACE("fault at operation " + std::to_string(n));
    FB::arm(n);
    int ok = 0, failed = 0;
    bool build_failed = false;
    std::uint64_t failed_connects = 0;
    const std::uint64_t first_id = next_id;
    absl::Status st = this->run([&]() -> TaskOf<B> {
      absl::StatusOr<FaultyPool> pool =
          co_await FaultyPool::builder()
              .url(server.url())
              .connections(2)
              .reconnect_backoff(absl::Milliseconds(5), 2.0, absl::Milliseconds(20), 0.2)
              .acquire_backoff(absl::Milliseconds(1), 2.0, absl::Milliseconds(20), 40)
              .build(this->ctx);
      if (!pool.ok()) {
        build_failed = true;
        EXPECT_TRUE(contains(message(pool.status()), "injected fault")) << pool.status();
        co_return absl::OkStatus();
      }
      for (int k = 0; k < 6; ++k) {
        absl::StatusOr<typename FaultyPool::Lease> lease = co_await pool->acquire();
        if (!lease.ok()) co_return lease.status();
        EXPECT_TRUE(FB::usable(lease->connection())) << "a poisoned slot was handed out";
        char id[24];
        const auto end = std::to_chars(id, id + sizeof id, next_id++).ptr;
        (void)lease->request(http::Method::Get, k == 2 ? "/close" : "/echo")
            .header("X-Request-Id", std::string_view(id, static_cast<std::size_t>(end - id)))
            .finish();
        absl::StatusOr<HttpResponse> r = co_await lease->send();
        if (r.ok()) {
          ++ok;
        } else {
          ++failed;
          EXPECT_TRUE(contains(message(r.status()), "injected fault")) << r.status();
        }
      }
      if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
      failed_connects = pool->metrics().failed_connects;
      co_return absl::OkStatus();
    });
    const bool fired = FB::fired();
    FB::disarm();
    EXPECT_TRUE(st.ok()) << st;
    for (std::uint64_t id = first_id; id < next_id; ++id) EXPECT_LE(server.times_seen(id), 1) << "request " << id;
    if (!build_failed) {
      EXPECT_EQ(ok + failed, 6);
    }
    EXPECT_EQ(static_cast<int>(build_failed) + failed + static_cast<int>(failed_connects), fired ? 1 : 0);
    if (!fired) break;
  }
  EXPECT_LT(n, 40) << "the scenario never completed without a fault";
  EXPECT_GE(n, 9) << "2 build connects, 6 sends and a reconnect are counted";
}

// ----------------------------------------------------------- real faults

// The server dies and comes back on the same port: the pool's requests
// fail while it is gone (each failure returned once), and once it is back
// every slot heals within the reconnect backoff's current delay.
TYPED_TEST(ClientPoolSuite, ServerKilledAndRestartedOnTheSamePort) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  const absl::Duration max_delay = absl::Milliseconds(200);
  absl::Duration healed_after;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await Pool::builder()
                                    .url(server.url())
                                    .connections(2)
                                    .reconnect_backoff(absl::Milliseconds(50), 2.0, max_delay, 0.2)
                                    .acquire_backoff(absl::Milliseconds(1), 2.0, absl::Milliseconds(20), 5)
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    if (absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo"); !r.ok()) co_return r.status();
    server.stop();
    int failures = 0;
    for (int i = 0; i < 10 && pool->metrics().healthy > 0; ++i) {
      absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo");
      EXPECT_FALSE(r.ok());
      if (!r.ok()) ++failures;
    }
    EXPECT_GE(failures, 1);
    EXPECT_EQ(pool->metrics().healthy, 0u);
    (void)co_await B::sleep_for(this->ctx, absl::Milliseconds(300));  // the backoff grows to its max
    if (!server.start()) co_return absl::InternalError("could not listen on the same port again");
    const absl::Time back = absl::Now();
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    healed_after = absl::Now() - back;
    absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo");
    EXPECT_TRUE(r.ok()) << r.status();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  std::printf("[ %s ] healed %s after the server came back (backoff max %s)\n", std::string(TypeParam::B::kName).c_str(),
              absl::FormatDuration(healed_after).c_str(), absl::FormatDuration(max_delay).c_str());
  // Liveness, not a timing test: the bound is the delay plus slack for this VM.
  EXPECT_LT(healed_after, max_delay + absl::Seconds(2));
}

// A proxy stops forwarding: the read deadline fires, the slot is poisoned,
// and it heals through a new (forwarded) connection.
TYPED_TEST(ClientPoolSuite, BlackHoleReadDeadlineFiresAndTheSlotHeals) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  testing::TcpProxy proxy(server.port());
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await this->quick(proxy.url(), 1)
                                    .read_timeout(absl::Milliseconds(200))
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    if (absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo"); !r.ok()) co_return r.status();
    proxy.black_hole();
    absl::StatusOr<typename Pool::Reply> lost = co_await get(*pool, "/echo");
    EXPECT_TRUE(absl::IsDeadlineExceeded(lost.status())) << lost.status();
    EXPECT_TRUE(absl::IsDeadlineExceeded(pool->slot_metrics(0).last_error)) << pool->slot_metrics(0).last_error;
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo");
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(proxy.connections.load(), 2);
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TYPED_TEST(ClientPoolSuite, ResetMidResponsePoisonsAndHeals) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await this->quick(server.url(), 1).build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    absl::StatusOr<typename Pool::Reply> reset = co_await get(*pool, "/reset", 30);
    EXPECT_TRUE(absl::IsUnavailable(reset.status())) << reset.status();
    EXPECT_EQ(pool->metrics().poisoned, 1u);
    EXPECT_EQ(server.times_seen(30), 1);
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo");
    EXPECT_TRUE(r.ok()) << r.status();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// A slow answer within the read timeout is an answer; beyond it the slot is
// poisoned and heals. On an event loop, more callers than slots wait their
// turn in acquire().
TYPED_TEST(ClientPoolSuite, SlowServer) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  PoolTestServer server;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<Pool> pool = co_await this->quick(server.url(), 2)
                                    .read_timeout(absl::Milliseconds(300))
                                    .build(this->ctx);
    if (!pool.ok()) co_return pool.status();
    absl::StatusOr<typename Pool::Reply> slow = co_await get(*pool, "/slow?ms=100");
    EXPECT_TRUE(slow.ok()) << slow.status();
    if (slow.ok()) {
      EXPECT_EQ(slow->response.body, "slow");
    }
    absl::StatusOr<typename Pool::Reply> too_slow = co_await get(*pool, "/slow?ms=600");
    EXPECT_TRUE(absl::IsDeadlineExceeded(too_slow.status())) << too_slow.status();
    if (absl::Status s = co_await this->healed(*pool); !s.ok()) co_return s;
    if constexpr (!B::kBlocking) {
      std::atomic<int> answered{0};
      for (int i = 0; i < 5; ++i) {
        B::spawn(this->ctx, [&pool, &answered]() -> TaskOf<B> {
          absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/slow?ms=50");
          if (r.ok() && r->response.body == "slow") ++answered;
          co_return absl::OkStatus();
        });
      }
      if (absl::Status s = co_await this->eventually(*pool, [&] { return answered.load() == 5; }); !s.ok()) {
        co_return s;
      }
    }
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// The idle keep-alive race: the server closes connections idle for 1 s
// while the client sends at random intervals around that. With a maximum
// idle age below the server's, no request fails; without it, a request
// meets a connection the server has just closed.
TYPED_TEST(ClientPoolSuite, IdleAgeBelowTheServersKeepAliveBeatsTheRace) {
  using B = typename TestFixture::B;
  using Pool = typename TestFixture::Pool;
  if constexpr (Pool::kAtomicReturns) {
    GTEST_SKIP() << "the same driver as ClientPool here; run once per backend (about 15 s)";
  } else {
    std::mt19937 rng(20261202);
    std::vector<absl::Duration> gaps;
    int long_gaps = 0;
    for (int i = 0; i < 8; ++i) {
      gaps.push_back(absl::Milliseconds(std::uniform_int_distribution<int>(300, 1600)(rng)));
      if (gaps.back() > absl::Milliseconds(1100)) ++long_gaps;
    }
    ASSERT_GE(long_gaps, 2) << "the seed must give some gaps beyond the server's 1 s";
    int failures[2] = {0, 0};
    for (const bool idle_age : {true, false}) {
      PoolTestServer server({.idle_close = absl::Seconds(1)});
      absl::Status st = this->run([&]() -> TaskOf<B> {
        auto builder = Pool::builder();
        builder.url(server.url()).connections(1);
        if (idle_age) builder.max_idle_age(absl::Milliseconds(700));
        absl::StatusOr<Pool> pool = co_await builder.build(this->ctx);
        if (!pool.ok()) co_return pool.status();
        for (const absl::Duration gap : gaps) {
          (void)co_await B::sleep_for(this->ctx, gap);
          absl::StatusOr<typename Pool::Reply> r = co_await get(*pool, "/echo");
          if (!r.ok()) ++failures[idle_age];
        }
        if (idle_age) {
          EXPECT_GE(pool->metrics().idle_refreshes, static_cast<std::uint64_t>(long_gaps));
        }
        co_return absl::OkStatus();
      });
      EXPECT_TRUE(st.ok()) << st;
      // On a loop the pool closes idle connections ahead of the server; on
      // posix it replaces them when it next needs one.
      if (idle_age && !B::kBlocking) {
        EXPECT_EQ(server.idle_closes.load(), 0) << "the pool closed them first";
      }
    }
    std::printf("[ %s ] failed requests: %d with max_idle_age 700ms, %d without (%d gaps over 1.1 s)\n",
                std::string(B::kName).c_str(), failures[1], failures[0], long_gaps);
    EXPECT_EQ(failures[1], 0);
    EXPECT_GE(failures[0], 1) << "without the idle age the race shows";
  }
}

}  // namespace
}  // namespace tern::pool
