// A small REST client on a connection pool (docs/pool.md), against a local
// "venue" it starts: four keep-alive connections on one epoll loop, orders
// placed by several tasks at once, a quiet spell longer than the venue's
// keep-alive timeout (the pool's idle age refreshes the connections first,
// so no order meets a closed one), then the pool's metrics.
//
//   bazel run //docs/examples:pool_demo [-- orders]
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backends/epoll/backend.h"
#include "backends/pool/client_pool.h"
#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "core/http/request_reader.h"
#include "core/http/response_writer.h"

namespace {

using B = tern::epoll::Backend;
using Pool = tern::pool::ClientPool<B>;
using Task = tern::epoll::Task<absl::Status>;

// The venue: a thread per connection; GET .../time, POST .../order (needs
// the API key); closes a connection idle for 300 ms, as real servers do.
class Venue {
 public:
  Venue() : listener_(*tern::posix::Listener::bind("127.0.0.1", 0)) {
    thread_ = std::thread([this] { accept_loop(); });
  }
  // Each connection ends within the idle timeout once the client is gone.
  ~Venue() {
    stop_ = true;
    listener_.shutdown();
    thread_.join();
    for (std::thread& t : workers_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(listener_.port()); }
  std::atomic<int> idle_closes{0};

 private:
  void accept_loop() {
    while (!stop_) {
      auto s = listener_.accept();
      if (!s.ok()) return;
      workers_.emplace_back([this, stream = std::make_shared<tern::posix::Stream>(*std::move(s))] { serve(*stream); });
    }
  }
  void serve(tern::posix::Stream& stream) {
    (void)stream.socket().set_read_timeout(absl::Milliseconds(300));
    auto writer = tern::http::ResponseWriter::create({{{"Server", "demo-venue"}}});
    tern::ReadBuf in(16 * 1024);
    tern::WriteBuf out(16 * 1024);
    tern::http::RequestReader reader;
    for (int id = 1; !stop_;) {
      const tern::http::Progress p = reader.next(in);
      if (p == tern::http::Progress::Failed) return;
      if (p == tern::http::Progress::NeedMore) {
        auto n = stream.read(in);
        if (!n.ok() && absl::IsDeadlineExceeded(n.status())) ++idle_closes;
        if (!n.ok() || *n == 0) return;  // idle too long, or the client left
        continue;
      }
      out.clear();
      const std::string_view target = reader.target();
      if (target == "/api/v3/time") {
        (void)writer->start(out, 200).header("Content-Type", "application/json").body(R"({"serverTime":1732380000123})");
      } else if (target == "/api/v3/order" && reader.headers().get("X-API-KEY") == "demo-key") {
        const std::string body = R"({"orderId":)" + std::to_string(id++) + R"(,"status":"NEW"})";
        (void)writer->start(out, 201).header("Content-Type", "application/json").body(body);
      } else {
        (void)writer->start(out, 401).finish();
      }
      if (!stream.write(out.data()).ok()) return;
    }
  }

  tern::posix::Listener listener_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

// One trader task: places `orders` orders through the pool.
Task trade(Pool& pool, int orders, std::atomic<int>& placed) {
  for (int i = 0; i < orders; ++i) {
    absl::StatusOr<Pool::Reply> r = co_await pool.send([](const tern::http::RequestWriter& w, tern::WriteBuf& out) {
      return w.start(out, tern::http::Method::Post, "/order")
          .header("Content-Type", "application/json")
          .body(R"({"symbol":"BTC-USD","side":"BUY","qty":"0.01","price":"97000.5"})");
    });
    if (!r.ok()) co_return r.status();
    if (r->response.status != 201) co_return absl::InternalError("order refused");
    ++placed;
  }
  co_return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const int orders = argc > 1 ? std::atoi(argv[1]) : 400;
  Venue venue;
  tern::epoll::EventLoop loop;
  const absl::Status st = B::run(loop, [&]() -> Task {
    absl::StatusOr<Pool> pool = co_await Pool::builder()
                                    .url(venue.url())
                                    .base_path("/api/v3")
                                    .default_header("X-API-KEY", "demo-key")
                                    .connections(4)
                                    .read_timeout(absl::Seconds(2))
                                    .max_idle_age(absl::Milliseconds(200))  // below the venue's 300 ms
                                    .build(loop);
    if (!pool.ok()) co_return pool.status();

    // The fast path: a slot now or nothing, no I/O.
    if (std::optional<Pool::Lease> lease = pool->try_acquire()) {
      (void)lease->request(tern::http::Method::Get, "/time").finish();
      absl::StatusOr<tern::HttpResponse> t = co_await lease->send();
      if (!t.ok()) co_return t.status();
      std::printf("server time: %.*s\n", static_cast<int>(t->body.size()), t->body.data());
    }

    for (int round = 0; round < 2; ++round) {
      std::atomic<int> placed{0};
      std::atomic<int> finished{0};
      absl::Status failure;
      for (int t = 0; t < 8; ++t) {  // eight traders share the four connections
        B::spawn(loop, [&]() -> Task {
          absl::Status s = co_await trade(*pool, orders / 8, placed);
          if (!s.ok()) failure = s;
          ++finished;
          co_return absl::OkStatus();
        });
      }
      while (finished.load() < 8) (void)co_await B::sleep_for(loop, absl::Milliseconds(1));
      if (!failure.ok()) co_return failure;
      std::printf("%s: %d orders placed\n", round == 0 ? "first burst" : "after a quiet spell", placed.load());
      if (round == 0) (void)co_await B::sleep_for(loop, absl::Milliseconds(500));  // longer than the venue's 300 ms
    }

    const tern::pool::PoolMetrics m = pool->metrics();
    std::printf("metrics: %zu slots, %zu healthy, %llu idle refreshes, %llu poisoned, venue idle closes %d\n",
                m.slots, m.healthy, static_cast<unsigned long long>(m.idle_refreshes),
                static_cast<unsigned long long>(m.poisoned), venue.idle_closes.load());
    co_return absl::OkStatus();
  }());
  if (!st.ok()) {
    std::fprintf(stderr, "pool_demo: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
