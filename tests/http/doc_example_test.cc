// The examples of docs/http.md, compiled and run: a REST client cycle and the
// server side of a WebSocket upgrade, in memory. Also checks that every Error
// has a distinct name (the docs' error table lists them by name).
#include <cstring>
#include <set>
#include <string>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/request_reader.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/http/response_writer.h"
#include "core/http/tokens.h"
#include "gtest/gtest.h"

namespace tern::http {
namespace {

void deliver(std::span<const std::uint8_t> bytes, ReadBuf& to) {
  std::memcpy(to.spare().data(), bytes.data(), bytes.size());
  ASSERT_TRUE(to.commit(bytes.size()));
}

TEST(DocExample, RestClientCycle) {
  auto writer = RequestWriter::create({.host = "api.exchange.com",
                                       .base_path = "/api/v3",
                                       .default_headers = {{"X-MBX-APIKEY", "key"},
                                                           {"User-Agent", "tern/1"}}});
  ASSERT_TRUE(writer.ok());
  WriteBuf out(4096);
  WriteResult r = writer->start(out, Method::Post, "/order")
                      .query("symbol", "BTCUSDT")
                      .query("recvWindow", 5000)
                      .header("Content-Type", "application/json")
                      .body(std::string_view(R"({"side":"BUY"})"));
  ASSERT_TRUE(r.ok()) << name(r.error);

  // The "server": parse the request, answer it.
  ReadBuf server_in(4096);
  deliver(r.bytes, server_in);
  RequestReader server;
  ASSERT_EQ(server.next(server_in), Progress::Complete);
  EXPECT_EQ(server.target(), "/api/v3/order?symbol=BTCUSDT&recvWindow=5000");
  auto responder = ResponseWriter::create({});
  ASSERT_TRUE(responder.ok());
  WriteBuf reply(4096);
  WriteResult resp = responder->start(reply, 200)
                         .header("Content-Type", "application/json")
                         .body(std::string_view(R"({"orderId":1})"));
  ASSERT_TRUE(resp.ok());

  // The client reads the response, trickled in two pieces.
  ReadBuf buf(4096);
  ResponseReader reader;
  reader.set_request_method(Method::Post);
  deliver(resp.bytes.first(10), buf);
  EXPECT_EQ(reader.next(buf), Progress::NeedMore);
  deliver(resp.bytes.subspan(10), buf);
  ASSERT_EQ(reader.next(buf), Progress::Complete);
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.body(), R"({"orderId":1})");
  EXPECT_EQ(reader.headers().get("content-type"), "application/json");
  EXPECT_TRUE(reader.keep_alive());
  reader.consume(buf);
  EXPECT_TRUE(buf.empty());
}

TEST(DocExample, WebSocketUpgradeServerSide) {
  const std::string wire =
      "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
      "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n\x81\x85";  // a frame follows at once
  ReadBuf buf(1024);
  deliver({reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()}, buf);
  RequestReader req;
  ASSERT_EQ(req.next(buf), Progress::Complete);
  ASSERT_EQ(req.method(), Method::Get);
  ASSERT_TRUE(req.headers().has_token("Connection", "upgrade"));
  ASSERT_TRUE(iequals(req.headers().get("Upgrade"), "websocket"));
  EXPECT_EQ(req.message_size(), wire.size() - 2);
  req.consume(buf);
  EXPECT_EQ(buf.size(), 2u) << "frame bytes stay for the FrameReader";

  auto w = ResponseWriter::create({});
  ASSERT_TRUE(w.ok());
  WriteBuf out(512);
  WriteResult r = w->start(out, 101)
                      .header("Upgrade", "websocket")
                      .header("Connection", "Upgrade")
                      .header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
                      .finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size()),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

// docs/http.md, "head_only": the reply to HEAD carries the GET's length.
TEST(DocExample, HeadOnlyReply) {
  auto writer = ResponseWriter::create({});
  ASSERT_TRUE(writer.ok());
  WriteBuf out(512);
  // GET /file returns 60 bytes of JSON; HEAD /file the same head, no content.
  tern::http::WriteResult r = writer->start(out, 200)
                                  .header("Content-Type", "application/json")
                                  .head_only(60);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size()),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n");
}

TEST(Errors, EveryCauseHasADistinctName) {
  std::set<std::string_view> names;
  for (int e = 0; e <= static_cast<int>(Error::ReservedHeader); ++e) {
    const std::string_view n = name(static_cast<Error>(e));
    EXPECT_NE(n, "Unknown") << e;
    EXPECT_TRUE(names.insert(n).second) << n;
  }
  EXPECT_EQ(name(static_cast<Error>(static_cast<int>(Error::ReservedHeader) + 1)), "Unknown");
}

}  // namespace
}  // namespace tern::http
