// ClientConnection without sockets: requests queued into its write buffer,
// responses delivered into its read buffer whole, byte by byte, at every cut
// and in random pieces; reuse and every EndReason; nothing_sent(); queue
// errors; zero allocations per request/response cycle.
#include "core/http/client_connection.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/error.h"
#include "core/http/method.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/split_feed.h"

namespace tern::http {

// GoogleTest prints these by name (found by ADL, so outside the anonymous
// namespace).
void PrintTo(EndReason r, std::ostream* os) { *os << name(r); }
void PrintTo(QueueError e, std::ostream* os) { *os << name(e); }
void PrintTo(Progress p, std::ostream* os) {
  *os << (p == Progress::Complete ? "Complete" : p == Progress::Failed ? "Failed" : "NeedMore");
}
void PrintTo(Error e, std::ostream* os) { *os << name(e); }

namespace {

using tern::testing::split_plans;
using tern::testing::SplitPlan;

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string hex(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

std::string text(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

const RequestWriter& writer() {
  static const RequestWriter w = *RequestWriter::create({.host = "example.com"});
  return w;
}

// Writes a request for `method` with the RequestWriter and queues it.
QueueError queue(ClientConnection& c, Method method, std::string_view path = "/") {
  WriteResult r = method == Method::Post || method == Method::Put
                      ? writer().start(c.request_buffer(), method, path).body("{}")
                      : writer().start(c.request_buffer(), method, path).finish();
  EXPECT_TRUE(r.ok()) << name(r.error);
  return c.queue_request();
}

// Copies `wire` into read_space() (as a transport would) and commits it;
// false if it does not all fit.
bool deliver(ClientConnection& c, std::string_view wire) {
  while (!wire.empty()) {
    std::span<std::uint8_t> space = c.read_space();
    if (space.empty()) return false;
    const std::size_t n = std::min(space.size(), wire.size());
    std::memcpy(space.data(), wire.data(), n);
    c.commit(n);
    wire.remove_prefix(n);
  }
  return true;
}

// The connection's whole output stream, as the transport would take it.
std::string take_output(ClientConnection& c) {
  std::string out = text(c.pending_output());
  c.consume_output(out.size());
  return out;
}

ClientConnectionOptions small_buffers() {
  return {.read_buffer_size = 4096, .write_buffer_size = 4096};
}

constexpr std::string_view kHello = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

// --- one response, every way of cutting it ----------------------------------

TEST(ClientConnection, ContentLengthResponseInEveryPlan) {
  for (const SplitPlan& plan : split_plans(kHello.size(), 11, 16)) {
    SCOPED_TRACE(plan.name);
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    EXPECT_EQ(take_output(c).substr(0, 16), "GET / HTTP/1.1\r\n");
    std::size_t fed = 0;
    for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
      ASSERT_TRUE(deliver(c, kHello.substr(fed, plan.pieces[i])));
      fed += plan.pieces[i];
      const Progress p = c.next(reader);
      if (fed < kHello.size()) {
        ASSERT_EQ(p, Progress::NeedMore) << "complete after " << fed << " bytes";
        continue;
      }
      ASSERT_EQ(p, Progress::Complete);
      EXPECT_EQ(reader.status(), 200);
      EXPECT_EQ(reader.body(), "hello");
    }
    EXPECT_EQ(c.in_flight(), 0u);
    EXPECT_TRUE(c.reusable());
    EXPECT_EQ(c.end_reason(), EndReason::None);
    // The response's bytes go at the next call, with nothing in flight.
    EXPECT_EQ(c.next(reader), Progress::NeedMore);
    EXPECT_TRUE(c.read_buffer().empty());
    EXPECT_TRUE(c.reusable());
  }
}

TEST(ClientConnection, ChunkedResponseInEveryPlan) {
  constexpr std::string_view kChunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n";
  for (const SplitPlan& plan : split_plans(kChunked.size(), 12, 16)) {
    SCOPED_TRACE(plan.name);
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    std::size_t fed = 0;
    Progress p = Progress::NeedMore;
    for (std::size_t piece : plan.pieces) {
      ASSERT_EQ(p, Progress::NeedMore);
      ASSERT_TRUE(deliver(c, kChunked.substr(fed, piece)));
      fed += piece;
      p = c.next(reader);
    }
    ASSERT_EQ(p, Progress::Complete);
    EXPECT_EQ(reader.body(), "hello world");
    EXPECT_EQ(reader.trailers().get("t"), "1");
    EXPECT_TRUE(c.reusable());
  }
}

// RFC 9112 §6.3 ¶1: a response to HEAD has no content, whatever its
// Content-Length says; the connection knows it from the request line alone.
TEST(ClientConnection, HeadResponseWithContentLengthHasNoBody) {
  constexpr std::string_view kHead = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  for (const SplitPlan& plan : split_plans(kHead.size() + kHello.size(), 13, 8)) {
    SCOPED_TRACE(plan.name);
    ClientConnection c(small_buffers());
    ResponseReader reader;
    reader.set_request_method(Method::Get);  // the connection overrides it
    ASSERT_EQ(queue(c, Method::Head), QueueError::None);
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    EXPECT_EQ(c.front_method(), Method::Head);
    const std::string wire = std::string(kHead) + std::string(kHello);
    std::size_t fed = 0;
    std::vector<std::string> bodies;
    std::vector<int> statuses;
    for (std::size_t piece : plan.pieces) {
      ASSERT_TRUE(deliver(c, std::string_view(wire).substr(fed, piece)));
      fed += piece;
      for (Progress p = c.next(reader); p != Progress::NeedMore; p = c.next(reader)) {
        ASSERT_EQ(p, Progress::Complete);
        statuses.push_back(reader.status());
        bodies.emplace_back(reader.body());
      }
    }
    EXPECT_EQ(statuses, (std::vector<int>{200, 200}));
    EXPECT_EQ(bodies, (std::vector<std::string>{"", "hello"}));
    EXPECT_TRUE(c.reusable());
  }
}

TEST(ClientConnection, MethodReadFromRequestLine) {
  ClientConnection c(small_buffers());
  const struct {
    std::string_view request;
    Method method;
  } rows[] = {
      {"HEAD /x HTTP/1.1\r\n\r\n", Method::Head},
      {"GET / HTTP/1.1\r\n\r\n", Method::Get},
      {"OPTIONS * HTTP/1.1\r\n\r\n", Method::Options},
      {"head / HTTP/1.1\r\n\r\n", Method::Other},  // methods are case-sensitive
      {"PROPFIND / HTTP/1.1\r\n\r\n", Method::Other},
      // Last: a 2xx to CONNECT makes the connection a tunnel.
      {"CONNECT h:443 HTTP/1.1\r\n\r\n", Method::Connect},
  };
  for (const auto& row : rows) {
    ASSERT_EQ(c.queue_request(bytes(row.request)), QueueError::None) << row.request;
  }
  for (const auto& row : rows) {
    ASSERT_GT(c.in_flight(), 0u);
    EXPECT_EQ(c.front_method(), row.method) << row.request;
    ResponseReader reader;
    ASSERT_TRUE(deliver(c, "HTTP/1.1 204 No Content\r\n\r\n"));
    ASSERT_EQ(c.next(reader), Progress::Complete) << row.request;
  }
  EXPECT_EQ(c.front_method(), Method::Get);  // none in flight
  EXPECT_EQ(c.end_reason(), EndReason::Upgraded);
}

// --- pipelining ----------------------------------------------------------

TEST(ClientConnection, PipelinedResponsesInOneReadCompleteInOrder) {
  ClientConnection c(small_buffers());
  ResponseReader reader;
  ASSERT_EQ(queue(c, Method::Get, "/a"), QueueError::None);
  ASSERT_EQ(queue(c, Method::Head, "/b"), QueueError::None);
  ASSERT_EQ(queue(c, Method::Post, "/c"), QueueError::None);
  EXPECT_EQ(c.in_flight(), 3u);
  const std::string out = take_output(c);
  EXPECT_EQ(out.find("GET /a "), 0u);
  EXPECT_NE(out.find("HEAD /b "), std::string::npos);
  EXPECT_NE(out.find("POST /c "), std::string::npos);

  ASSERT_TRUE(deliver(c,
                      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-N: 1\r\n\r\none"
                      "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nX-N: 2\r\n\r\n"
                      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-N: 3\r\n\r\n"
                      "5\r\nthree\r\n0\r\n\r\n"));
  const std::uint8_t* const buf_begin = c.read_buffer().data().data();
  const std::uint8_t* const buf_end = buf_begin + c.read_buffer().size();
  auto inside = [&](std::string_view v) {
    auto p = reinterpret_cast<const std::uint8_t*>(v.data());
    return v.empty() || (p >= buf_begin && p + v.size() <= buf_end);
  };

  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_EQ(c.in_flight(), 2u);
  EXPECT_EQ(c.front_method(), Method::Head);
  const std::string_view body1 = reader.body();
  const std::string_view n1 = reader.headers().get("x-n");
  EXPECT_TRUE(inside(body1) && inside(n1));
  // Nothing the caller can do with the connection's state kills the views.
  EXPECT_FALSE(c.nothing_sent());
  EXPECT_TRUE(c.reusable());
  EXPECT_EQ(body1, "one");
  EXPECT_EQ(n1, "1");

  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_EQ(reader.body(), "");  // HEAD: Content-Length 99, no content
  EXPECT_EQ(reader.headers().get("x-n"), "2");
  EXPECT_EQ(c.front_method(), Method::Post);

  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_EQ(reader.status(), 201);
  EXPECT_EQ(reader.body(), "three");
  EXPECT_EQ(reader.headers().get("x-n"), "3");
  EXPECT_TRUE(inside(reader.body()));
  EXPECT_EQ(c.in_flight(), 0u);

  EXPECT_EQ(c.next(reader), Progress::NeedMore);
  EXPECT_TRUE(c.read_buffer().empty());
  EXPECT_TRUE(c.reusable());
}

// The ring of requests in flight wraps: 32 deep, many times over.
TEST(ClientConnection, FullPipelineDrainsRepeatedly) {
  ClientConnection c({.read_buffer_size = 64 << 10, .write_buffer_size = 64 << 10});
  ResponseReader reader;
  std::size_t next_id = 0, done_id = 0;
  for (int round = 0; round < 10; ++round) {
    // Top up to the limit (from a different depth every round).
    while (c.in_flight() < ClientConnection::kMaxInFlight) {
      const Method m = next_id % 3 == 1 ? Method::Head : Method::Get;
      ASSERT_EQ(queue(c, m, "/" + std::to_string(next_id++)), QueueError::None);
    }
    EXPECT_EQ(queue(c, Method::Get), QueueError::TooManyInFlight);
    take_output(c);
    const std::size_t answer = 5 + round;
    for (std::size_t i = 0; i < answer; ++i) {
      const std::string id = std::to_string(done_id + i);
      ASSERT_TRUE(deliver(c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(id.size()) +
                                 "\r\n\r\n" + ((done_id + i) % 3 == 1 ? "" : id)));
    }
    for (std::size_t i = 0; i < answer; ++i, ++done_id) {
      ASSERT_EQ(c.next(reader), Progress::Complete);
      EXPECT_EQ(reader.body(), done_id % 3 == 1 ? "" : std::to_string(done_id));
    }
    EXPECT_EQ(c.next(reader), Progress::NeedMore);
    EXPECT_EQ(c.in_flight(), next_id - done_id);
  }
}

TEST(ClientConnection, DifferentReaderPerResponse) {
  ClientConnection c(small_buffers());
  ResponseReader lenient;
  ResponseReader strict({.max_header_bytes = 1024, .max_headers = 4, .max_body_size = 4});
  // A reader that last parsed a HEAD response, and one left failed: the
  // connection resets each and sets the method of its request.
  ResponseReader stale;
  stale.set_request_method(Method::Head);
  ReadBuf junk(64);
  std::memcpy(junk.spare().data(), "XYZ\r\n", 5);
  ASSERT_TRUE(junk.commit(5));
  ResponseReader failed;
  ASSERT_EQ(failed.next(junk), Progress::Failed);

  for (int i = 0; i < 4; ++i) ASSERT_EQ(queue(c, Method::Get), QueueError::None);
  ASSERT_TRUE(deliver(c, std::string(kHello) + std::string(kHello) + std::string(kHello) +
                             std::string(kHello)));
  ASSERT_EQ(c.next(stale), Progress::Complete);
  EXPECT_EQ(stale.body(), "hello");
  ASSERT_EQ(c.next(failed), Progress::Complete);
  EXPECT_EQ(failed.body(), "hello");
  ASSERT_EQ(c.next(lenient), Progress::Complete);
  EXPECT_EQ(lenient.body(), "hello");
  // The reader's own Limits apply: 5 bytes is over this one's body limit.
  EXPECT_EQ(c.next(strict), Progress::Failed);
  EXPECT_EQ(c.end_reason(), EndReason::BadResponse);
  EXPECT_EQ(c.response_error(), Error::BodyTooLarge);
}

// RFC 9110 §15.2: interim responses are skipped; the caller sees the final one.
TEST(ClientConnection, InterimResponsesSkipped) {
  constexpr std::string_view kWire =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  for (const SplitPlan& plan : split_plans(kWire.size(), 14, 8)) {
    SCOPED_TRACE(plan.name);
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Post), QueueError::None);
    std::size_t fed = 0;
    Progress p = Progress::NeedMore;
    for (std::size_t piece : plan.pieces) {
      ASSERT_EQ(p, Progress::NeedMore);
      ASSERT_TRUE(deliver(c, kWire.substr(fed, piece)));
      fed += piece;
      p = c.next(reader);
    }
    ASSERT_EQ(p, Progress::Complete);
    EXPECT_EQ(reader.status(), 200);
    EXPECT_EQ(reader.body(), "ok");
    EXPECT_TRUE(c.reusable());
  }
}

// --- the end of a connection -------------------------------------------------

TEST(ClientConnection, ConnectionCloseEndsReuse) {
  ClientConnection c(small_buffers());
  ResponseReader reader;
  ASSERT_EQ(queue(c, Method::Get), QueueError::None);
  ASSERT_EQ(queue(c, Method::Get), QueueError::None);  // behind it, pipelined
  take_output(c);
  ASSERT_TRUE(deliver(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_EQ(reader.body(), "ok");  // the last response is still delivered
  EXPECT_FALSE(c.reusable());
  EXPECT_EQ(c.end_reason(), EndReason::ConnectionClose);
  EXPECT_EQ(name(c.end_reason()), "ConnectionClose");

  // A new request is refused and its bytes dropped.
  const std::size_t before = c.request_buffer().size();
  EXPECT_EQ(queue(c, Method::Get), QueueError::NotReusable);
  EXPECT_EQ(c.request_buffer().size(), before);
  EXPECT_TRUE(c.pending_output().empty());
  EXPECT_EQ(c.queue_request(bytes("GET / HTTP/1.1\r\n\r\n")), QueueError::NotReusable);
  EXPECT_EQ(c.in_flight(), 1u);

  // The request already sent behind it will never be answered.
  EXPECT_EQ(c.next(reader), Progress::Failed);
  EXPECT_EQ(c.next(reader), Progress::Failed);
  EXPECT_EQ(c.in_flight(), 1u);
  EXPECT_FALSE(c.nothing_sent(0));  // it reached the transport
  EXPECT_EQ(c.end_reason(), EndReason::ConnectionClose);
}

TEST(ClientConnection, Http10WithAndWithoutKeepAlive) {
  {
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_TRUE(deliver(c, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ASSERT_EQ(c.next(reader), Progress::Complete);
    EXPECT_EQ(reader.version_minor(), 0);
    EXPECT_EQ(c.end_reason(), EndReason::ConnectionClose);
  }
  {
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_TRUE(deliver(c,
                        "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"
                        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nyes"));
    ASSERT_EQ(c.next(reader), Progress::Complete);
    EXPECT_TRUE(c.reusable());
    ASSERT_EQ(c.next(reader), Progress::Complete);
    EXPECT_EQ(reader.body(), "yes");
    EXPECT_TRUE(c.reusable());
    EXPECT_EQ(queue(c, Method::Get), QueueError::None);
  }
  {
    // HTTP/1.0 without a length: the body runs to the close.
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_TRUE(deliver(c, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nall of it"));
    ASSERT_EQ(c.next(reader), Progress::NeedMore);
    c.receive_eof();
    ASSERT_EQ(c.next(reader), Progress::Complete);
    EXPECT_EQ(reader.body(), "all of it");
    EXPECT_EQ(c.end_reason(), EndReason::CloseDelimited);
  }
}

TEST(ClientConnection, CloseDelimitedBodyCompletedAtEof) {
  constexpr std::string_view kWire = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the close";
  for (const SplitPlan& plan : split_plans(kWire.size(), 15, 8)) {
    SCOPED_TRACE(plan.name);
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    std::size_t fed = 0;
    for (std::size_t piece : plan.pieces) {
      ASSERT_TRUE(deliver(c, kWire.substr(fed, piece)));
      fed += piece;
      ASSERT_EQ(c.next(reader), Progress::NeedMore);
    }
    EXPECT_TRUE(c.reusable());  // not yet known
    c.receive_eof();
    ASSERT_EQ(c.next(reader), Progress::Complete);
    EXPECT_EQ(reader.body(), "until the close");
    EXPECT_EQ(c.end_reason(), EndReason::CloseDelimited);
    EXPECT_EQ(c.next(reader), Progress::Failed);  // the second never comes
    EXPECT_EQ(c.queue_request(bytes("GET / HTTP/1.1\r\n\r\n")), QueueError::NotReusable);
  }
}

TEST(ClientConnection, EofWhileIdleIsPeerClosedAtOnce) {
  {
    ClientConnection c(small_buffers());
    c.receive_eof();
    EXPECT_EQ(c.end_reason(), EndReason::PeerClosed);
    EXPECT_EQ(queue(c, Method::Get), QueueError::NotReusable);
  }
  {
    // The usual idle keep-alive close, after a response.
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_TRUE(deliver(c, kHello));
    ASSERT_EQ(c.next(reader), Progress::Complete);
    c.receive_eof();
    EXPECT_FALSE(c.reusable());
    EXPECT_EQ(c.end_reason(), EndReason::PeerClosed);
    EXPECT_EQ(reader.body(), "hello");  // views still valid until next()
    EXPECT_EQ(c.next(reader), Progress::NeedMore);
    EXPECT_EQ(c.end_reason(), EndReason::PeerClosed);
  }
}

// EOF that arrives while the last response is still in flight, with that
// response already whole in the buffer: next() completes it, and then the
// connection ends (PeerClosed): nothing more will be answered.
TEST(ClientConnection, EofWithLastResponseBufferedEndsAfterIt) {
  ClientConnection c(small_buffers());
  ResponseReader reader;
  ASSERT_EQ(queue(c, Method::Get), QueueError::None);
  take_output(c);
  ASSERT_TRUE(deliver(c, kHello));
  c.receive_eof();
  EXPECT_TRUE(c.reusable());  // a response is under way
  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_EQ(reader.body(), "hello");
  EXPECT_EQ(c.in_flight(), 0u);
  EXPECT_FALSE(c.reusable()) << "EOF seen and nothing in flight";
  EXPECT_EQ(c.end_reason(), EndReason::PeerClosed);
  EXPECT_EQ(queue(c, Method::Get), QueueError::NotReusable);
}

TEST(ClientConnection, EofMidResponseFails) {
  const std::string_view cuts[] = {
      "",                                                  // nothing yet
      "HTTP/1.1 200 O",                                    // status line
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",          // head
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",   // body
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
  };
  for (std::string_view wire : cuts) {
    SCOPED_TRACE(wire);
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    take_output(c);
    ASSERT_TRUE(deliver(c, wire));
    ASSERT_EQ(c.next(reader), Progress::NeedMore);
    c.receive_eof();
    EXPECT_TRUE(c.reusable());  // next() reports it
    EXPECT_EQ(c.next(reader), Progress::Failed);
    EXPECT_EQ(c.end_reason(), EndReason::BadResponse);
    EXPECT_EQ(c.response_error(), Error::UnexpectedEof);
    EXPECT_EQ(c.next(reader), Progress::Failed);  // sticky
    EXPECT_EQ(c.in_flight(), 1u);
  }
}

TEST(ClientConnection, MalformedResponseIsBadResponse) {
  const struct {
    std::string_view wire;
    Error error;
  } rows[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello", Error::InvalidContentLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       Error::TransferEncodingWithContentLength},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Error::InvalidChunkSize},
      {"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", Error::BadLineEnding},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.wire);
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_TRUE(deliver(c, row.wire));
    EXPECT_EQ(c.next(reader), Progress::Failed);
    EXPECT_EQ(c.end_reason(), EndReason::BadResponse);
    EXPECT_EQ(c.response_error(), row.error) << name(c.response_error());
    EXPECT_EQ(c.next(reader), Progress::Failed);
    EXPECT_EQ(c.in_flight(), 2u);
    EXPECT_EQ(c.queue_request(bytes("GET / HTTP/1.1\r\n\r\n")), QueueError::NotReusable);
  }
}

TEST(ClientConnection, BytesWithNothingInFlightAreUnsolicited) {
  {
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_TRUE(deliver(c, kHello));
    EXPECT_EQ(c.next(reader), Progress::NeedMore);
    EXPECT_EQ(c.end_reason(), EndReason::UnsolicitedResponse);
    EXPECT_EQ(queue(c, Method::Get), QueueError::NotReusable);
  }
  {
    // Two responses to one request: the second is nobody's.
    ClientConnection c(small_buffers());
    ResponseReader reader;
    ASSERT_EQ(queue(c, Method::Get), QueueError::None);
    ASSERT_TRUE(deliver(c, std::string(kHello) + "HTTP/1.1 200 OK\r\n"));
    ASSERT_EQ(c.next(reader), Progress::Complete);
    EXPECT_TRUE(c.reusable());  // not known until the next call
    EXPECT_EQ(c.next(reader), Progress::NeedMore);
    EXPECT_EQ(c.end_reason(), EndReason::UnsolicitedResponse);
  }
}

TEST(ClientConnection, SwitchingProtocolsEndsHttpAndKeepsTheRest) {
  ClientConnection c(small_buffers());
  ResponseReader reader;
  ASSERT_TRUE(c.queue_request(bytes("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")) ==
              QueueError::None);
  ASSERT_TRUE(deliver(c,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\n\r\n\x81\x02hi"));
  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_EQ(reader.status(), 101);
  EXPECT_EQ(c.end_reason(), EndReason::Upgraded);
  EXPECT_EQ(queue(c, Method::Get), QueueError::NotReusable);
  // The frames after the 101 stay for the next protocol.
  EXPECT_EQ(c.next(reader), Progress::NeedMore);
  EXPECT_EQ(text(c.read_buffer().data()), "\x81\x02hi");
  EXPECT_EQ(c.end_reason(), EndReason::Upgraded);
}

// RFC 9110 §9.3.6: after a 2xx to CONNECT the connection is a tunnel, no
// longer HTTP, like after a 101: it ends as Upgraded.
TEST(ClientConnection, ConnectTunnelEndsHttp) {
  ClientConnection c(small_buffers());
  ResponseReader reader;
  ASSERT_EQ(c.queue_request(bytes("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n")),
            QueueError::None);
  ASSERT_TRUE(deliver(c, "HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01"));
  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_EQ(reader.body(), "");
  EXPECT_FALSE(c.reusable()) << "a 2xx to CONNECT opens a tunnel";
  EXPECT_EQ(c.end_reason(), EndReason::Upgraded);
}

TEST(ClientConnection, AbortPoisons) {
  ClientConnection c(small_buffers());
  ResponseReader reader;
  ASSERT_EQ(queue(c, Method::Get), QueueError::None);
  take_output(c);
  ASSERT_TRUE(deliver(c, kHello.substr(0, 20)));
  ASSERT_EQ(c.next(reader), Progress::NeedMore);
  c.abort();
  EXPECT_EQ(c.end_reason(), EndReason::Aborted);
  ASSERT_TRUE(deliver(c, kHello.substr(20)));  // even if the rest arrives
  EXPECT_EQ(c.next(reader), Progress::Failed);
  EXPECT_EQ(c.next(reader), Progress::Failed);
  EXPECT_EQ(queue(c, Method::Get), QueueError::NotReusable);
  c.receive_eof();
  EXPECT_EQ(c.end_reason(), EndReason::Aborted);  // the first reason stays

  // After another end, abort() changes nothing.
  ClientConnection d(small_buffers());
  d.receive_eof();
  d.abort();
  EXPECT_EQ(d.end_reason(), EndReason::PeerClosed);
}

TEST(ClientConnection, AbortWithACompleteResponseWaitingFailsIt) {
  // The transport failed after the bytes arrived: poisoned means nothing
  // more is delivered, even what is buffered.
  ClientConnection c(small_buffers());
  ResponseReader reader;
  ASSERT_EQ(queue(c, Method::Get), QueueError::None);
  ASSERT_TRUE(deliver(c, kHello));
  c.abort();
  EXPECT_EQ(c.next(reader), Progress::Failed);
}

// --- requests ----------------------------------------------------------------

TEST(ClientConnection, NothingSentTracksTheTransport) {
  ClientConnection c(small_buffers());
  EXPECT_FALSE(c.nothing_sent());  // nothing in flight
  ASSERT_EQ(queue(c, Method::Get, "/first"), QueueError::None);
  const std::size_t first = c.pending_output().size();
  ASSERT_EQ(queue(c, Method::Get, "/second"), QueueError::None);
  const std::size_t both = c.pending_output().size();
  EXPECT_TRUE(c.nothing_sent(0));
  EXPECT_TRUE(c.nothing_sent(1));
  EXPECT_FALSE(c.nothing_sent(2));  // no such request

  c.consume_output(0);
  EXPECT_TRUE(c.nothing_sent(0));
  c.consume_output(1);  // one byte of the first
  EXPECT_FALSE(c.nothing_sent(0));
  EXPECT_TRUE(c.nothing_sent(1));
  c.consume_output(first - 1);  // the rest of the first, exactly
  EXPECT_FALSE(c.nothing_sent(0));
  EXPECT_TRUE(c.nothing_sent(1));
  EXPECT_EQ(c.pending_output().size(), both - first);
  c.consume_output(1);
  EXPECT_FALSE(c.nothing_sent(1));
  c.consume_output(1 << 20);  // clamped
  EXPECT_TRUE(c.pending_output().empty());

  // A request queued after everything was taken is unsent; the ones before
  // are not, also once the first response is in.
  ASSERT_EQ(queue(c, Method::Get, "/third"), QueueError::None);
  EXPECT_TRUE(c.nothing_sent(2));
  ResponseReader reader;
  ASSERT_TRUE(deliver(c, kHello));
  ASSERT_EQ(c.next(reader), Progress::Complete);
  EXPECT_FALSE(c.nothing_sent(0));  // /second
  EXPECT_TRUE(c.nothing_sent(1));   // /third
  EXPECT_FALSE(c.nothing_sent(2));

  // It is the connection ending that makes the caller ask: still answered.
  c.abort();
  EXPECT_FALSE(c.nothing_sent(0));
  EXPECT_TRUE(c.nothing_sent(1));
}

TEST(ClientConnection, PendingOutputExcludesUnqueuedBytes) {
  ClientConnection c(small_buffers());
  ASSERT_TRUE(writer().start(c.request_buffer(), Method::Get, "/a").finish().ok());
  EXPECT_TRUE(c.pending_output().empty());  // written, not queued
  ASSERT_EQ(c.queue_request(), QueueError::None);
  const std::string first = text(c.pending_output());
  EXPECT_EQ(first.find("GET /a "), 0u);

  ASSERT_TRUE(writer().start(c.request_buffer(), Method::Get, "/b").finish().ok());
  EXPECT_EQ(text(c.pending_output()), first);
  c.consume_output(1 << 20);  // the transport takes all it is offered
  EXPECT_TRUE(c.pending_output().empty());
  EXPECT_GT(c.request_buffer().size(), 0u);  // /b, still being written
  ASSERT_EQ(c.queue_request(), QueueError::None);
  EXPECT_EQ(text(c.pending_output()).find("GET /b "), 0u);
  EXPECT_EQ(c.in_flight(), 2u);
}

// Every refusal leaves the queued bytes and the requests in flight exactly
// as they were; the refused request's own bytes are dropped.
TEST(ClientConnection, QueueErrorsLeaveTheQueueAsItWas) {
  ClientConnection c({.read_buffer_size = 4096, .write_buffer_size = 512});
  ASSERT_EQ(queue(c, Method::Get, "/kept"), QueueError::None);
  c.consume_output(3);
  const std::string queued = text(c.pending_output());
  auto unchanged = [&](const char* what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(text(c.pending_output()), queued);
    EXPECT_EQ(c.request_buffer().size(), queued.size());
    EXPECT_EQ(c.in_flight(), 1u);
    EXPECT_TRUE(c.reusable());
  };

  EXPECT_EQ(c.queue_request(), QueueError::Empty);
  unchanged("Empty");
  EXPECT_EQ(c.queue_request(bytes("")), QueueError::Empty);
  unchanged("Empty span");

  for (std::string_view bad : {"GET", " GET / HTTP/1.1\r\n\r\n", "\r\n\r\n"}) {
    ASSERT_TRUE(c.request_buffer().append(bytes(bad)));
    EXPECT_EQ(c.queue_request(), QueueError::BadRequestLine) << bad;
    unchanged("BadRequestLine");
    EXPECT_EQ(c.queue_request(bytes(bad)), QueueError::BadRequestLine) << bad;
    unchanged("BadRequestLine span");
  }

  const std::string huge(600, 'x');
  EXPECT_EQ(c.queue_request(bytes("GET /" + huge)), QueueError::BufferFull);
  unchanged("BufferFull");
  // A half-written request does not ride along with one queued whole.
  ASSERT_TRUE(c.request_buffer().append(bytes("GET /half")));
  EXPECT_EQ(c.queue_request(bytes("GET /" + huge)), QueueError::BufferFull);
  unchanged("BufferFull after a half-written one");
  EXPECT_EQ(name(QueueError::BufferFull), "BufferFull");

  // TooManyInFlight at kMaxInFlight, for both forms.
  ClientConnection d({.read_buffer_size = 4096, .write_buffer_size = 64 << 10});
  for (std::size_t i = 0; i < ClientConnection::kMaxInFlight; ++i) {
    ASSERT_EQ(d.queue_request(bytes("GET / HTTP/1.1\r\n\r\n")), QueueError::None) << i;
  }
  const std::size_t full = d.pending_output().size();
  EXPECT_EQ(queue(d, Method::Get), QueueError::TooManyInFlight);
  EXPECT_EQ(d.queue_request(bytes("GET / HTTP/1.1\r\n\r\n")), QueueError::TooManyInFlight);
  EXPECT_EQ(d.pending_output().size(), full);
  EXPECT_EQ(d.request_buffer().size(), full);
  EXPECT_EQ(d.in_flight(), ClientConnection::kMaxInFlight);
  // One answered makes room for one.
  ResponseReader reader;
  ASSERT_TRUE(deliver(d, kHello));
  ASSERT_EQ(d.next(reader), Progress::Complete);
  EXPECT_EQ(queue(d, Method::Get), QueueError::None);
  EXPECT_EQ(queue(d, Method::Get), QueueError::TooManyInFlight);
}

// Regression (found by this test, fixed meanwhile in 7a6cf0a): the header
// says views live "until the next call to next()", but read_space()
// compacted the read buffer when its tail was full, moving a Complete
// response's bytes under its views (no crash, wrong data). It happens when a Complete response does not start at the
// buffer's front (an earlier pipelined one was consumed) and the tail
// fills: a transport reading ahead while the caller holds the response.
// read_space() now leaves the buffer alone while a response is held.
// Input: read_buffer_size 128; three GETs queued; deliver two 42-byte
// responses; next(), next() (the second Complete at offset 42); deliver 44
// more bytes (the tail is now full); read_space(); body() must be "body".
TEST(ClientConnection, ReadSpaceKeepsTheViewsOfAResponse) {
  constexpr std::string_view kBody = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";
  ASSERT_EQ(kBody.size(), 42u);
  ClientConnection c({.read_buffer_size = 128, .write_buffer_size = 1024});
  ResponseReader reader;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(queue(c, Method::Get), QueueError::None);
  ASSERT_TRUE(deliver(c, std::string(kBody) + std::string(kBody)));
  ASSERT_EQ(c.next(reader), Progress::Complete);
  ASSERT_EQ(c.next(reader), Progress::Complete);
  ASSERT_EQ(reader.body(), "body");
  // 44 bytes of the third response fill the tail exactly.
  const std::string third = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsix...";
  std::span<std::uint8_t> space = c.read_space();
  ASSERT_EQ(space.size(), 44u);
  std::memcpy(space.data(), third.data(), 44);
  c.commit(44);
  (void)c.read_space();  // the transport asks where to read next
  EXPECT_EQ(reader.body(), "body") << "read_space() moved the bytes under the views";
  EXPECT_EQ(reader.status(), 200);
}

// A transport that reads ahead into a small buffer: read_space() and the
// reader both compact it while responses are half parsed.
TEST(ClientConnection, SmallBufferCompactsWhileParsing) {
  std::string wire;
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    const std::string body(static_cast<std::size_t>(i % 7) * 5, static_cast<char>('a' + i % 26));
    expected.push_back(body);
    if (i % 4 == 3) {
      wire += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      if (!body.empty()) wire += hex(body.size()) + "\r\n" + body + "\r\n";
      wire += "0\r\n\r\n";
    } else {
      wire += "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }
  }
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    ClientConnection c({.read_buffer_size = 128, .write_buffer_size = 4096});
    ResponseReader reader;
    std::vector<std::string> got;
    std::size_t fed = 0, queued = 0;
    for (int step = 0; step < 100000 && got.size() < expected.size(); ++step) {
      while (queued < expected.size() && c.in_flight() < 8) {
        ASSERT_EQ(queue(c, Method::Get), QueueError::None);
        ++queued;
      }
      take_output(c);
      Progress p;
      while ((p = c.next(reader)) == Progress::Complete) got.emplace_back(reader.body());
      ASSERT_EQ(p, Progress::NeedMore);
      std::span<std::uint8_t> space = c.read_space();
      ASSERT_FALSE(space.empty()) << "NeedMore with no room to read into";
      const std::size_t n = std::min({space.size(), wire.size() - fed,
                                      static_cast<std::size_t>(1 + rng() % 50)});
      std::memcpy(space.data(), wire.data() + fed, n);
      c.commit(n);
      fed += n;
    }
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(c.reusable());
  }
}

TEST(ClientConnection, ResponseLargerThanTheReadBufferFails) {
  ClientConnection c({.read_buffer_size = 64, .write_buffer_size = 1024});
  ResponseReader reader;
  ASSERT_EQ(queue(c, Method::Get), QueueError::None);
  ASSERT_TRUE(deliver(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"));
  EXPECT_EQ(c.next(reader), Progress::Failed);
  EXPECT_EQ(c.end_reason(), EndReason::BadResponse);
  EXPECT_EQ(c.response_error(), Error::BufferFull);
}

TEST(ClientConnection, CommitIsClampedToTheSpace) {
  ClientConnection c({.read_buffer_size = 64, .write_buffer_size = 1024});
  const std::size_t space = c.read_space().size();
  c.commit(space + 100);
  EXPECT_EQ(c.read_buffer().size(), space);
}

// Bytes that arrive while nothing is in flight (a server's "408 Request
// Timeout" on an idle keep-alive connection, RFC 9110 §15.5.9) end the
// connection at commit(), so they never become the answer to the next
// request.
TEST(ClientConnection, BytesArrivedWhileIdleRefuseTheNextRequest) {
  ClientConnection c(small_buffers());
  ASSERT_TRUE(deliver(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(queue(c, Method::Get), QueueError::NotReusable);
  EXPECT_EQ(c.end_reason(), EndReason::UnsolicitedResponse);
}

// --- allocation ---------------------------------------------------------------

TEST(ClientConnection, TenThousandCyclesAllocateNothing) {
  ClientConnection c(small_buffers());
  ResponseReader reader;
  static constexpr std::string_view kChunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  static constexpr std::string_view kHeadResponse =
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  (void)writer();  // built once, before counting
  tern::testing::AllocCounter count;
  for (int i = 0; i < 10000; ++i) {
    const Method method = i % 3 == 0 ? Method::Head : i % 3 == 1 ? Method::Get : Method::Post;
    WriteResult w = method == Method::Post
                        ? writer().start(c.request_buffer(), method, "/order").query("seq", i).body("{}")
                        : writer().start(c.request_buffer(), method, "/time").finish();
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(c.queue_request(), QueueError::None);
    std::span<const std::uint8_t> out = c.pending_output();
    c.consume_output(out.size() / 2);  // a short write, then the rest
    c.consume_output(c.pending_output().size());
    ASSERT_TRUE(deliver(c, i % 3 == 0 ? kHeadResponse : i % 3 == 1 ? kHello : kChunked));
    ASSERT_EQ(c.next(reader), Progress::Complete);
    ASSERT_EQ(reader.body().size(), i % 3 == 0 ? 0u : i % 3 == 1 ? 5u : 3u);
    ASSERT_EQ(c.next(reader), Progress::NeedMore);
  }
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_TRUE(c.reusable());
}

TEST(ClientConnection, NamesAreDistinct) {
  std::vector<std::string_view> names;
  for (EndReason r : {EndReason::None, EndReason::ConnectionClose, EndReason::CloseDelimited,
                      EndReason::Upgraded, EndReason::PeerClosed, EndReason::BadResponse,
                      EndReason::UnsolicitedResponse, EndReason::Aborted}) {
    names.push_back(name(r));
  }
  for (QueueError e : {QueueError::None, QueueError::NotReusable, QueueError::Empty,
                       QueueError::BadRequestLine, QueueError::TooManyInFlight,
                       QueueError::BufferFull}) {
    if (e != QueueError::None) names.push_back(name(e));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_NE(names[i], "Unknown");
    for (std::size_t j = i + 1; j < names.size(); ++j) EXPECT_NE(names[i], names[j]);
  }
}

}  // namespace
}  // namespace tern::http
