// WebSocket frame codec benchmarks: tern vs Boost.Beast 1.74 vs websocketpp
// 0.8.2 on the same bytes, registered as "<workload>/<library>".
//
// How each library is driven, and where its API forces extra work:
//   tern:  FrameReader::next() over a ReadBuf. Per round the frame bytes are
//          committed to the buffer (for unmasked frames the bytes are already
//          in the slab because the reader does not modify them; masked frames
//          are copied in again, since unmasking happens in place: see
//          tern_parse_masked), then
//          next() returns the message view and a second next() returns
//          NeedMore, as a receive loop does. Encode: FrameWriter into a span.
//          ws_parse_masked_text_128_key0 is the masked workload with a zero
//          key: same parse work, nothing to restore (see masked_text_128_key0).
//   beast: websocket::stream over an in-memory SyncReadStream (Beast has no
//          sans-IO reader). Per read() Beast copies the frame from the
//          stream into its own buffer and then into the caller's
//          flat_buffer, and runs its composed read operation: that is
//          Beast's real cost. Client role comes from a real handshake
//          answered in memory; server role from accept() of a canned
//          request. Encode: write() into a stream that discards the bytes.
//   websocketpp: processor::hybi13::consume(), the closest to sans-IO; it
//          unmasks in place, so masked input is copied back every round, and
//          every message is a heap-allocated message object (2 allocations
//          per message). Encode: prepare_data_frame() with a message object
//          in and out, as connection::send() does; its client draws each key
//          from std::random_device under a mutex.
#include <utility>  // before Boost headers (std::exchange in Boost 1.74)

#include <cstring>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "bench/ws/workloads.h"
#include "bench/ws/wspp_driver.h"
#include "benchmark/benchmark.h"
#include "core/buf/read_buf.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using Bytes = std::vector<std::uint8_t>;
using tern::ws::Role;

using tern::ws::bench::frame;
using tern::ws::bench::kZeroKey;
using tern::ws::bench::payload;

struct Workload {
  Bytes wire;
  bool server;          // reader role: server reads masked frames
  bool restore = true;  // masked frames: parsing changes the bytes
};

Workload text_128() { return {frame(0x81, payload(128), false), false}; }
Workload binary_128() { return {frame(0x82, payload(128), false), false}; }
Workload binary_40() { return {frame(0x82, payload(40), false), false}; }
Workload text_2048() { return {frame(0x81, payload(2048), false), false}; }
Workload masked_text_128() { return {frame(0x81, payload(128), true), true}; }
// The same frame masked with the key 00 00 00 00 (a valid key, RFC 6455
// §5.3): unmasking XORs, stores and validates exactly as with any key, but
// leaves the bytes unchanged, so no library needs its input restored and
// the figure is the parse alone. Kernels have no zero-key shortcut.
Workload masked_text_128_key0() {
  return {frame(0x81, payload(128), true, kZeroKey), true, false};
}

// ---------------------------------------------------------------- tern

// Masked frames are unmasked in place, so the bytes must be written again
// for every round (the transport's copy into spare()). They are restored
// right after each parse into one of kSlots buffers used round-robin, so the
// copy is paid but its stores have retired before the reader loads them, as
// after a real recv().
void tern_parse_masked(benchmark::State& state, Workload w) {
  constexpr int kSlots = 8;
  std::vector<tern::ReadBuf> bufs;
  std::vector<tern::ws::FrameReader> readers;
  const std::size_t n = w.wire.size();
  for (int i = 0; i < kSlots; ++i) {
    bufs.emplace_back(1 << 12);
    readers.emplace_back(w.server ? Role::Server : Role::Client);
    std::memcpy(bufs.back().spare().data(), w.wire.data(), n);
    (void)bufs.back().commit(n);
  }
  int k = 0;
  for (auto _ : state) {
    tern::ReadBuf& buf = bufs[k];
    tern::ws::FrameReader& reader = readers[k];
    k = (k + 1) & (kSlots - 1);
    tern::ws::ReadResult r = reader.next(buf);
    if (r.status != tern::ws::ReadStatus::Message) {
      state.SkipWithError("tern: no message");
      break;
    }
    benchmark::DoNotOptimize(r.message.payload.data());
    benchmark::DoNotOptimize(r.message.payload.size());
    tern::ws::ReadResult more = reader.next(buf);
    benchmark::DoNotOptimize(more.status);
    std::memcpy(buf.spare().data(), w.wire.data(), n);
    (void)buf.commit(n);
  }
  state.SetBytesProcessed(state.iterations() * n);
}

void tern_parse(benchmark::State& state, Workload w) {
  if (w.server && w.restore) return tern_parse_masked(state, w);
  tern::ReadBuf buf(1 << 16);
  tern::ws::FrameReader reader(w.server ? Role::Server : Role::Client);
  const std::size_t n = w.wire.size();
  std::memcpy(buf.spare().data(), w.wire.data(), n);
  for (auto _ : state) {
    (void)buf.commit(n);
    tern::ws::ReadResult r = reader.next(buf);
    if (r.status != tern::ws::ReadStatus::Message) {
      state.SkipWithError("tern: no message");
      break;
    }
    benchmark::DoNotOptimize(r.message.payload.data());
    benchmark::DoNotOptimize(r.message.payload.size());
    tern::ws::ReadResult more = reader.next(buf);
    benchmark::DoNotOptimize(more.status);
  }
  state.SetBytesProcessed(state.iterations() * n);
}

void tern_parse_batch(benchmark::State& state, Workload w) {
  constexpr int kBatch = 100;
  Bytes all;
  for (int i = 0; i < kBatch; ++i) all.insert(all.end(), w.wire.begin(), w.wire.end());
  tern::ReadBuf buf(1 << 16);
  tern::ws::FrameReader reader(Role::Client);
  std::memcpy(buf.spare().data(), all.data(), all.size());
  (void)buf.commit(all.size());
  for (auto _ : state) {
    tern::ws::ReadResult r = reader.next(buf);
    if (r.status != tern::ws::ReadStatus::Message) {  // batch drained: refill
      (void)buf.commit(all.size());
      r = reader.next(buf);
    }
    benchmark::DoNotOptimize(r.message.payload.data());
    benchmark::DoNotOptimize(r.message.payload.size());
  }
  state.SetItemsProcessed(state.iterations());
}

void tern_encode(benchmark::State& state, Role role) {
  tern::ws::FrameWriter writer(role);
  const std::string p = payload(128);
  std::uint8_t out[256];
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.data());
    tern::ws::EncodeResult r = writer.text(out, p);
    benchmark::DoNotOptimize(r.size);
    benchmark::ClobberMemory();
  }
}

// ---------------------------------------------------------------- Beast

// A SyncStream over memory: read_some() serves the current input, write_some()
// discards (or, during the client handshake, records the request so the
// 101 response can carry the matching Sec-WebSocket-Accept).
class MemStream {
 public:
  using executor_type = net::io_context::executor_type;
  explicit MemStream(net::io_context& ioc) : ioc_(&ioc) {}
  executor_type get_executor() { return ioc_->get_executor(); }

  void set_input(const std::uint8_t* p, std::size_t n) {
    in_ = p;
    left_ = n;
  }
  void set_input(const std::string& s) {
    owned_ = s;
    set_input(reinterpret_cast<const std::uint8_t*>(owned_.data()), owned_.size());
  }
  bool recording = false;
  std::string written;

  template <class Buffers>
  std::size_t read_some(const Buffers& b, beast::error_code& ec) {
    ec = {};
    if (left_ == 0 && recording) answer_handshake();
    if (left_ == 0) {
      ec = net::error::eof;
      return 0;
    }
    const std::size_t n = net::buffer_copy(b, net::const_buffer(in_, left_));
    in_ += n;
    left_ -= n;
    return n;
  }
  template <class Buffers>
  std::size_t read_some(const Buffers& b) {
    beast::error_code ec;
    const std::size_t n = read_some(b, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& b, beast::error_code& ec) {
    ec = {};
    const std::size_t n = net::buffer_size(b);
    if (recording) {
      for (auto it = net::buffer_sequence_begin(b); it != net::buffer_sequence_end(b); ++it) {
        written.append(static_cast<const char*>(net::const_buffer(*it).data()),
                       net::const_buffer(*it).size());
      }
    }
    return n;
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& b) {
    beast::error_code ec;
    return write_some(b, ec);
  }

 private:
  void answer_handshake() {
    recording = false;
    const std::string tag = "Sec-WebSocket-Key: ";
    const std::size_t at = written.find(tag) + tag.size();
    const std::string key = written.substr(at, written.find("\r\n", at) - at);
    websocket::detail::sec_ws_accept_type accept;
    websocket::detail::make_sec_ws_accept(accept, key);
    set_input("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
              std::string(accept.data(), accept.size()) + "\r\n\r\n");
  }

  net::io_context* ioc_;
  const std::uint8_t* in_ = nullptr;
  std::size_t left_ = 0;
  std::string owned_;
};

void teardown(beast::role_type, MemStream&, beast::error_code& ec) { ec = {}; }
template <class Handler>
void async_teardown(beast::role_type, MemStream&, Handler&&) {}

struct BeastEndpoint {
  net::io_context ioc;
  websocket::stream<MemStream> ws{ioc};
  explicit BeastEndpoint(bool server) {
    if (server) {
      ws.next_layer().set_input(
          "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\n\r\n");
      ws.accept();
    } else {
      ws.next_layer().recording = true;
      ws.handshake("localhost", "/");
    }
    ws.read_message_max(1 << 20);
  }
};

void beast_parse(benchmark::State& state, Workload w) {
  BeastEndpoint ep(w.server);
  beast::flat_buffer fb;
  for (auto _ : state) {
    ep.ws.next_layer().set_input(w.wire.data(), w.wire.size());
    fb.consume(fb.size());
    ep.ws.read(fb);
    benchmark::DoNotOptimize(fb.data().data());
  }
  state.SetBytesProcessed(state.iterations() * w.wire.size());
}

void beast_parse_batch(benchmark::State& state, Workload w) {
  constexpr int kBatch = 100;
  Bytes all;
  for (int i = 0; i < kBatch; ++i) all.insert(all.end(), w.wire.begin(), w.wire.end());
  BeastEndpoint ep(false);
  beast::flat_buffer fb;
  int left = 0;
  for (auto _ : state) {
    if (left == 0) {
      ep.ws.next_layer().set_input(all.data(), all.size());
      left = kBatch;
    }
    fb.consume(fb.size());
    ep.ws.read(fb);
    --left;
    benchmark::DoNotOptimize(fb.data().data());
  }
  state.SetItemsProcessed(state.iterations());
}

void beast_encode(benchmark::State& state, Role role) {
  BeastEndpoint ep(role == Role::Server);
  ep.ws.text(true);
  const std::string p = payload(128);
  for (auto _ : state) {
    ep.ws.write(net::buffer(p));
    benchmark::ClobberMemory();
  }
}

// ---------------------------------------------------------------- websocketpp

void wspp_parse(benchmark::State& state, Workload w) {
  tern::bench::wspp::Parser parser(w.server);
  Bytes work = w.wire;
  std::size_t bytes = 0;
  for (auto _ : state) {
    if (w.server && w.restore) std::memcpy(work.data(), w.wire.data(), work.size());
    if (parser.parse(work.data(), work.size(), &bytes) != 1) {
      state.SkipWithError("websocketpp: no message");
      break;
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.SetBytesProcessed(state.iterations() * w.wire.size());
}

void wspp_parse_batch(benchmark::State& state, Workload w) {
  constexpr int kBatch = 100;
  Bytes all;
  for (int i = 0; i < kBatch; ++i) all.insert(all.end(), w.wire.begin(), w.wire.end());
  tern::bench::wspp::Parser parser(false);
  std::size_t bytes = 0;
  // consume() returns at each message boundary, so one frame per iteration.
  std::size_t at = 0;
  const std::size_t n = w.wire.size();
  for (auto _ : state) {
    if (at == all.size()) at = 0;
    if (parser.parse(all.data() + at, n, &bytes) != 1) {
      state.SkipWithError("websocketpp: no message");
      break;
    }
    at += n;
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}

void wspp_encode(benchmark::State& state, Role role) {
  tern::bench::wspp::Encoder enc(role == Role::Server);
  const std::string p = payload(128);
  for (auto _ : state) {
    benchmark::DoNotOptimize(enc.text(p.data(), p.size()));
  }
}

// ---------------------------------------------------------------- registry

#define PARSE(workload, make)                                              \
  BENCHMARK_CAPTURE(tern_parse, workload, make())->Name(#workload "/tern"); \
  BENCHMARK_CAPTURE(beast_parse, workload, make())->Name(#workload "/beast"); \
  BENCHMARK_CAPTURE(wspp_parse, workload, make())->Name(#workload "/websocketpp")

PARSE(ws_parse_text_128, text_128);
PARSE(ws_parse_binary_128, binary_128);
PARSE(ws_parse_binary_40, binary_40);
PARSE(ws_parse_text_2048, text_2048);
PARSE(ws_parse_masked_text_128, masked_text_128);
PARSE(ws_parse_masked_text_128_key0, masked_text_128_key0);

BENCHMARK_CAPTURE(tern_parse_batch, b, binary_128())->Name("ws_parse_binary_128_batch100/tern");
BENCHMARK_CAPTURE(beast_parse_batch, b, binary_128())->Name("ws_parse_binary_128_batch100/beast");
BENCHMARK_CAPTURE(wspp_parse_batch, b, binary_128())
    ->Name("ws_parse_binary_128_batch100/websocketpp");

BENCHMARK_CAPTURE(tern_encode, s, Role::Server)->Name("ws_encode_text_128_server/tern");
BENCHMARK_CAPTURE(beast_encode, s, Role::Server)->Name("ws_encode_text_128_server/beast");
BENCHMARK_CAPTURE(wspp_encode, s, Role::Server)->Name("ws_encode_text_128_server/websocketpp");
BENCHMARK_CAPTURE(tern_encode, c, Role::Client)->Name("ws_encode_text_128_client/tern");
BENCHMARK_CAPTURE(beast_encode, c, Role::Client)->Name("ws_encode_text_128_client/beast");
BENCHMARK_CAPTURE(wspp_encode, c, Role::Client)->Name("ws_encode_text_128_client/websocketpp");

}  // namespace
