// Zero allocations after construction: 100 000 full request/response cycles
// (RequestWriter -> RequestReader -> ResponseWriter -> ResponseReader), with
// Content-Length and chunked responses.
#include <cstring>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/request_reader.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/http/response_writer.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::http {
namespace {

void move_into(ReadBuf& in, std::span<const std::uint8_t> bytes) {
  ASSERT_GE(in.spare().size(), bytes.size());
  std::memcpy(in.spare().data(), bytes.data(), bytes.size());
  ASSERT_TRUE(in.commit(bytes.size()));
}

TEST(Allocations, ZeroPerCycleAfterConstruction) {
  auto rw = RequestWriter::create({.host = "api.example.com",
                                   .base_path = "/api/v3",
                                   .default_headers = {{"X-API-KEY", "key"}}});
  auto sw = ResponseWriter::create({.default_headers = {{"Server", "tern"}}});
  ASSERT_TRUE(rw.ok() && sw.ok());
  WriteBuf req_out(4096), resp_out(4096);
  ReadBuf server_in(4096), client_in(4096);
  RequestReader server;
  ResponseReader client;
  static constexpr std::string_view kChunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "7\r\n{\"a\":1}\r\n3;x=y\r\n...\r\n0\r\nT: z\r\n\r\n";
  constexpr std::string_view kBody = R"({"symbol":"BTC-USD","side":"buy","qty":"0.01"})";

  tern::testing::AllocCounter count;
  for (int i = 0; i < 100000; ++i) {
    req_out.clear();
    WriteResult req = rw->start(req_out, Method::Post, "/order")
                          .query("symbol", "BTC-USD")
                          .query("seq", i)
                          .header("Content-Type", "application/json")
                          .body(kBody);
    ASSERT_TRUE(req.ok());
    move_into(server_in, req.bytes);
    ASSERT_EQ(server.next(server_in), Progress::Complete);
    ASSERT_EQ(server.body(), kBody);
    server.consume(server_in);

    resp_out.clear();
    if (i % 2 == 0) {
      WriteResult resp = sw->start(resp_out, 200)
                             .header("Content-Type", "application/json")
                             .body(kBody);
      ASSERT_TRUE(resp.ok());
      move_into(client_in, resp.bytes);
    } else {
      move_into(client_in, std::span<const std::uint8_t>(
                               reinterpret_cast<const std::uint8_t*>(kChunked.data()),
                               kChunked.size()));
    }
    client.set_request_method(Method::Post);
    ASSERT_EQ(client.next(client_in), Progress::Complete);
    ASSERT_TRUE(client.keep_alive());
    ASSERT_FALSE(client.headers().get("content-type").empty() &&
                 client.trailers().get("t").empty());
    client.consume(client_in);
  }
  EXPECT_EQ(count.allocations(), 0u);
}

}  // namespace
}  // namespace tern::http
