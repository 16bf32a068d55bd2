// File: driver_workloads.h
//
// The pool driver's work on real backends (backends/pool/client_pool.h),
// for driver_bench (time) and driver_instr (instructions):
//
//   DriverCycle<Pool>  try_acquire() and the lease's release through the
//                      driver, no I/O: what ClientPool / AtomicClientPool
//                      add to the policy's cycle (pool_workloads.h): the
//                      backend's clock and usable() check, the lease, the
//                      release's outcome checks.
//   PoolRequests<B>    POST requests through a pool against PoolTestServer
//                      (tests/support/pool), `callers` callers sharing a
//                      pool of `connections` slots: each acquires, writes
//                      the order with its slot's writer, sends, releases.
//                      Event loops run the callers as tasks; posix has one
//                      caller (a ClientPool belongs to one thread).
//   BareRequests<B>    the same requests on one HttpConnection, no pool.
#ifndef TERN_BENCH_POOL_DRIVER_WORKLOADS_H_
#define TERN_BENCH_POOL_DRIVER_WORKLOADS_H_

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/pool/client_pool.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "tests/support/pool/pool_test_server.h"

namespace tern::pool::bench {

inline void die(const char* what, const absl::Status& st = absl::OkStatus()) {
  std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
  std::abort();
}

inline constexpr std::string_view kOrder =
    R"({"symbol":"BTC-USD","side":"buy","type":"limit","qty":"0.010","px":"97000.50","tif":"IOC","id":"c-42"})";

inline http::WriteResult write_order(const http::RequestWriter& w, WriteBuf& out) {
  return w.start(out, http::Method::Post, "/json")
      .header("Content-Type", "application/json")
      .header("Accept", "application/json")
      .body(kOrder);
}

// A pool of `connections` slots on `ctx`, built against `url`.
template <typename Pool>
Pool built_pool(typename Pool::Context& ctx, const std::string& url, std::size_t connections) {
  using B = typename Pool::Backend;
  std::optional<Pool> pool;
  const absl::Status st = B::run(ctx, [&]() -> typename B::template Task<absl::Status> {
    absl::StatusOr<Pool> p = co_await Pool::builder()
                                 .url(url)
                                 .base_path("/api/v3")
                                 .default_header("X-API-KEY", "k3y-0123456789abcdef")
                                 .connections(connections)
                                 .build(ctx);
    if (!p.ok()) co_return p.status();
    pool.emplace(*std::move(p));
    co_return absl::OkStatus();
  }());
  if (!st.ok()) die("pool build", st);
  return *std::move(pool);
}

template <typename Pool>
class DriverCycle {
 public:
  DriverCycle(typename Pool::Context& ctx, const std::string& url, std::size_t connections)
      : pool_(built_pool<Pool>(ctx, url, connections)) {}
  // One acquire + release; false if nothing was handed out (a bug here).
  bool run() noexcept {
    std::optional<typename Pool::Lease> lease = pool_.try_acquire();
    return lease.has_value();
  }

 private:
  Pool pool_;
};

template <typename B, bool kAtomic = false>
class PoolRequests {
 public:
  using Pool = BasicClientPool<B, kAtomic>;
  template <typename T>
  using Task = typename B::template Task<T>;

  PoolRequests(typename B::Context& ctx, const std::string& url, std::size_t connections)
      : ctx_(ctx), pool_(built_pool<Pool>(ctx, url, connections)), callers_(B::kBlocking ? 1 : connections) {}

  std::size_t callers() const noexcept { return callers_; }

  // `requests` requests in all, spread over the callers; returns them.
  long run(long requests) {
    const long each = requests / static_cast<long>(callers_);
    const absl::Status st = B::run(ctx_, all(each));
    if (!st.ok()) die("pool requests", st);
    return each * static_cast<long>(callers_);
  }

 private:
  Task<absl::Status> all(long each) {
    running_ = callers_ - 1;
    for (std::size_t i = 1; i < callers_; ++i) {
      B::spawn(ctx_, [this, each]() { return spawned(each); });
    }
    if (absl::Status st = co_await caller(&pool_, each); !st.ok()) co_return st;
    while (running_ != 0) (void)co_await B::sleep_for(ctx_, absl::Microseconds(50));
    co_return failure_;
  }
  Task<absl::Status> spawned(long each) {
    absl::Status st = co_await caller(&pool_, each);
    if (!st.ok()) failure_ = st;
    --running_;
    co_return absl::OkStatus();
  }
  static Task<absl::Status> caller(Pool* pool, long each) {
    for (long i = 0; i < each; ++i) {
      absl::StatusOr<typename Pool::Lease> lease = co_await pool->acquire();
      if (!lease.ok()) co_return lease.status();
      if (!write_order(lease->writer(), lease->request_buffer()).ok()) co_return absl::InternalError("request");
      absl::StatusOr<HttpResponse> r = co_await lease->send();
      if (!r.ok()) co_return r.status();
      if (r->status != 200) co_return absl::InternalError("status");
    }
    co_return absl::OkStatus();
  }

  typename B::Context& ctx_;
  Pool pool_;
  std::size_t callers_;
  std::size_t running_ = 0;
  absl::Status failure_;
};

template <typename B>
class BareRequests {
 public:
  template <typename T>
  using Task = typename B::template Task<T>;

  BareRequests(typename B::Context& ctx, const std::string& url)
      : ctx_(ctx), writer_(*http::RequestWriter::create({.host = "127.0.0.1", .base_path = "/api/v3",
                                                         .default_headers = {{"X-API-KEY", "k3y-0123456789abcdef"}}})) {
    const absl::Status st = B::run(ctx_, [&]() -> Task<absl::Status> {
      absl::StatusOr<typename B::HttpConnection> c = co_await B::connect_http(ctx_, url, {});
      if (!c.ok()) co_return c.status();
      conn_.emplace(*std::move(c));
      co_return absl::OkStatus();
    }());
    if (!st.ok()) die("connect", st);
  }

  long run(long requests) {
    const absl::Status st = B::run(ctx_, loop(requests));
    if (!st.ok()) die("bare requests", st);
    return requests;
  }

 private:
  Task<absl::Status> loop(long requests) {
    for (long i = 0; i < requests; ++i) {
      if (!write_order(writer_, conn_->request_buffer()).ok()) co_return absl::InternalError("request");
      absl::StatusOr<HttpResponse> r = co_await B::send(*conn_, reader_);
      if (!r.ok()) co_return r.status();
      if (r->status != 200) co_return absl::InternalError("status");
    }
    co_return absl::OkStatus();
  }

  typename B::Context& ctx_;
  http::RequestWriter writer_;
  http::ResponseReader reader_;
  std::optional<typename B::HttpConnection> conn_;
};

}  // namespace tern::pool::bench

#endif  // TERN_BENCH_POOL_DRIVER_WORKLOADS_H_
