#include "backends/posix/http_connection.h"

#include <string>

#include "core/http/request_writer.h"
#include "gtest/gtest.h"
#include "tests/support/canned_http_server.h"

// What only the blocking backend's HttpConnection has (a request sent from
// the caller's own span, the write/read halves, authority()); the behaviour
// every backend shares is in tests/backends/conformance_test.cc.
namespace tern::posix {
namespace {

TEST(PosixHttp, RequestFromACallerSpanAndTheTwoHalves) {
  testing::CannedHttpServer server;
  auto conn = HttpConnection::connect(server.url() + "/ignored");
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->authority(), "127.0.0.1:" + server.url().substr(server.url().rfind(':') + 1));
  EXPECT_FALSE(conn->secure());
  http::ResponseReader reader;
  const std::string request = "GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  auto resp = conn->send({reinterpret_cast<const std::uint8_t*>(request.data()), request.size()}, reader);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  // Pipelining: two requests written, then their responses read in order.
  auto w = http::RequestWriter::create({.host = "127.0.0.1"});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->start(conn->request_buffer(), http::Method::Head, "/json").finish().ok());
  ASSERT_TRUE(conn->write_request().ok());
  ASSERT_TRUE(w->start(conn->request_buffer(), http::Method::Get, "/chunked").finish().ok());
  ASSERT_TRUE(conn->write_request().ok());
  auto head = conn->read_response(reader);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_TRUE(head->body.empty()) << "HEAD: the connection knew the method";
  auto chunked = conn->read_response(reader, http::Method::Get);
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_EQ(chunked->body, "hello, world");
  EXPECT_FALSE(conn->read_response(reader).ok()) << "nothing in flight";
  EXPECT_TRUE(conn->reusable());
}

}  // namespace
}  // namespace tern::posix
