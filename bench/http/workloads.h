// File: workloads.h
//
// The HTTP benchmark workloads, shared by http_bench (Google Benchmark, wall
// time and allocations) and http_instr (fixed work for callgrind). Each
// workload object sets up once; run() does one operation and returns a value
// that depends on the result so it cannot be optimized away.
//
//   http_write_post             build + write a POST: Host, X-MBX-APIKEY,
//                               User-Agent, Content-Type, Content-Length and
//                               a 105-byte JSON body
//   http_parse_response_cl      parse a 200 OK with 6 fields + 60-byte JSON
//   http_parse_response_chunked the same response, chunked (30 + 30 bytes)
//   http_rest_cycle             write the POST, then receive and parse the
//                               Content-Length response
//
// Libraries: tern; beast (http::request<string_body> + serializer, and
// http::response_parser<string_body>, i.e. what a Beast user writes); and
// beast_views (Beast's basic_parser with a subclass that only records views
// into the input: its zero-allocation floor; writing as "beast").
#ifndef TERN_BENCH_HTTP_WORKLOADS_H_
#define TERN_BENCH_HTTP_WORKLOADS_H_

#include <utility>  // before Boost headers (Boost 1.74 + C++20)

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"

namespace bench_http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

inline constexpr std::string_view kHost = "api.exchange.com";
inline constexpr std::string_view kApiKey =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
inline constexpr std::string_view kUserAgent = "tern-bench/1.0";
inline constexpr std::string_view kPath = "/api/v3/order";
inline constexpr std::string_view kJson =
    R"({"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"43125.10"})";
inline constexpr std::string_view kBody60 =
    R"({"orderId":284571,"status":"NEW","executedQty":"0.00000000"})";
static_assert(kBody60.size() == 60);

inline constexpr std::string_view kResponseCl =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json;charset=UTF-8\r\n"
    "Content-Length: 60\r\n"
    "Connection: keep-alive\r\n"
    "Date: Mon, 23 Nov 2026 17:00:00 GMT\r\n"
    "Server: nginx\r\n"
    "X-MBX-USED-WEIGHT-1M: 1\r\n"
    "\r\n"
    R"({"orderId":284571,"status":"NEW","executedQty":"0.00000000"})";

inline constexpr std::string_view kResponseChunked =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json;charset=UTF-8\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Connection: keep-alive\r\n"
    "Date: Mon, 23 Nov 2026 17:00:00 GMT\r\n"
    "Server: nginx\r\n"
    "X-MBX-USED-WEIGHT-1M: 1\r\n"
    "\r\n"
    "1e\r\n"
    R"({"orderId":284571,"status":"NE)"
    "\r\n1e\r\n"
    R"(W","executedQty":"0.00000000"})"
    "\r\n0\r\n\r\n";

// ---------------------------------------------------------------- tern

inline tern::http::RequestWriter make_tern_writer() {
  return *tern::http::RequestWriter::create(
      {.host = std::string(kHost),
       .default_headers = {{"X-MBX-APIKEY", std::string(kApiKey)},
                           {"User-Agent", std::string(kUserAgent)}}});
}

struct TernWritePost {
  tern::http::RequestWriter writer = make_tern_writer();
  tern::WriteBuf out{4096};
  std::size_t run() {
    out.clear();
    tern::http::WriteResult r = writer.start(out, tern::http::Method::Post, kPath)
                                    .header("Content-Type", "application/json")
                                    .body(kJson);
    return r.bytes.size();
  }
};

inline void fill(tern::ReadBuf& buf, std::string_view wire) {
  buf.clear();
  std::memcpy(buf.spare().data(), wire.data(), wire.size());
  (void)buf.commit(wire.size());
}

// Content-Length: the bytes are parsed where they lie (no copy per round:
// the reader does not modify them), then the reader is reset.
struct TernParseCl {
  tern::ReadBuf buf{4096};
  tern::http::ResponseReader reader;
  TernParseCl() { fill(buf, kResponseCl); }
  std::size_t run() {
    reader.reset();
    if (reader.next(buf) != tern::http::Progress::Complete) std::abort();
    return reader.body().size() + reader.headers().size();
  }
};

// Chunked: decoding is in place, so each round first restores the wire bytes
// (a 271-byte memcpy, counted in tern's time).
struct TernParseChunked {
  tern::ReadBuf buf{4096};
  tern::http::ResponseReader reader;
  std::size_t run() {
    fill(buf, kResponseChunked);
    reader.reset();
    if (reader.next(buf) != tern::http::Progress::Complete) std::abort();
    return reader.body().size() + reader.headers().size();
  }
};

// The client cycle: write the request, "receive" the response (memcpy into
// the ReadBuf, as recv would), parse it, consume it.
struct TernRestCycle {
  TernWritePost post;
  tern::ReadBuf in{4096};
  tern::http::ResponseReader reader;
  std::size_t run() {
    std::size_t n = post.run();
    std::memcpy(in.spare().data(), kResponseCl.data(), kResponseCl.size());
    (void)in.commit(kResponseCl.size());
    reader.set_request_method(tern::http::Method::Post);
    if (reader.next(in) != tern::http::Progress::Complete) std::abort();
    n += reader.body().size();
    reader.consume(in);
    return n;
  }
};

// --------------------------------------------------------------- Beast

// Serializes a Beast message into a flat array (what a socket write would
// gather), with Beast's own serializer.
template <bool isRequest, class Body, class Fields>
std::size_t beast_serialize(bhttp::message<isRequest, Body, Fields>& m, char* out) {
  bhttp::serializer<isRequest, Body, Fields> sr{m};
  std::size_t n = 0;
  beast::error_code ec;
  do {
    sr.next(ec, [&](beast::error_code&, auto const& buffers) {
      std::size_t used = 0;
      for (auto it = net::buffer_sequence_begin(buffers);
           it != net::buffer_sequence_end(buffers); ++it) {
        net::const_buffer b = *it;
        std::memcpy(out + n, b.data(), b.size());
        n += b.size();
        used += b.size();
      }
      sr.consume(used);
    });
    if (ec) std::abort();
  } while (!sr.is_done());
  return n;
}

struct BeastWritePost {
  std::array<char, 4096> out;
  std::size_t run() {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post,
                                           beast::string_view(kPath.data(), kPath.size()), 11};
    req.set(bhttp::field::host, beast::string_view(kHost.data(), kHost.size()));
    req.set("X-MBX-APIKEY", beast::string_view(kApiKey.data(), kApiKey.size()));
    req.set(bhttp::field::user_agent, beast::string_view(kUserAgent.data(), kUserAgent.size()));
    req.set(bhttp::field::content_type, "application/json");
    req.body().assign(kJson.data(), kJson.size());
    req.prepare_payload();
    return beast_serialize(req, out.data());
  }
};

inline std::size_t beast_parse(std::string_view wire) {
  bhttp::response_parser<bhttp::string_body> p;
  p.eager(true);
  beast::error_code ec;
  p.put(net::buffer(wire.data(), wire.size()), ec);
  if (ec || !p.is_done()) std::abort();
  return p.get().body().size() + p.get().result_int();
}

// Beast's floor: a basic_parser that keeps views of the status, fields and
// body pieces into the input and allocates nothing.
class ViewParser : public bhttp::basic_parser<false> {
 public:
  int status = 0;
  std::array<std::pair<beast::string_view, beast::string_view>, 32> fields;
  std::size_t n_fields = 0;
  std::size_t body_bytes = 0;
  beast::string_view last_piece;

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    status = code;
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    if (n_fields < fields.size()) fields[n_fields++] = {name, value};
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const&, beast::error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    body_bytes += body.size();
    last_piece = body;
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    body_bytes += body.size();
    last_piece = body;
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}
};

inline std::size_t beast_views_parse(std::string_view wire) {
  ViewParser p;
  p.eager(true);
  beast::error_code ec;
  p.put(net::buffer(wire.data(), wire.size()), ec);
  if (ec || !p.is_done()) std::abort();
  return p.body_bytes + p.n_fields + p.status;
}

struct BeastParseCl {
  std::size_t run() { return beast_parse(kResponseCl); }
};
struct BeastViewsParseCl {
  std::size_t run() { return beast_views_parse(kResponseCl); }
};
struct BeastParseChunked {
  std::size_t run() { return beast_parse(kResponseChunked); }
};
struct BeastViewsParseChunked {
  std::size_t run() { return beast_views_parse(kResponseChunked); }
};
// The response is "received" into a buffer first, as tern's cycle copies it
// into its ReadBuf: both libraries do the same work around the parse.
template <std::size_t (*kParse)(std::string_view)>
struct BeastCycle {
  BeastWritePost post;
  std::array<char, 4096> in;
  std::size_t run() {
    const std::size_t n = post.run();
    std::memcpy(in.data(), kResponseCl.data(), kResponseCl.size());
    return n + kParse({in.data(), kResponseCl.size()});
  }
};
using BeastRestCycle = BeastCycle<beast_parse>;
using BeastViewsRestCycle = BeastCycle<beast_views_parse>;

}  // namespace bench_http

#endif  // TERN_BENCH_HTTP_WORKLOADS_H_
