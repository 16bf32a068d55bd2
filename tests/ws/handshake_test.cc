#include "core/ws/handshake.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/split_feed.h"

namespace tern::ws {
namespace {

using http::Progress;

std::string str(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

void put(ReadBuf& in, std::string_view s) {
  ASSERT_GE(in.spare().size(), s.size());
  std::memcpy(in.spare().data(), s.data(), s.size());
  ASSERT_TRUE(in.commit(s.size()));
}

Url parse(const char* text) {
  Url url;
  EXPECT_EQ(parse_url(text, url), UrlError::kNone);
  return url;
}

// RFC 6455 §1.3 and §4.2.2: the worked example.
TEST(HandshakeKey, Rfc6455Example) {
  EXPECT_EQ(view(compute_accept("dGhlIHNhbXBsZSBub25jZQ==")), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
}

TEST(HandshakeKey, ClientKeysAreFreshValidNonces) {
  ClientKey a, b;
  ASSERT_TRUE(make_client_key(a));
  ASSERT_TRUE(make_client_key(b));
  EXPECT_TRUE(is_valid_client_key(view(a)));
  EXPECT_NE(view(a), view(b));
}

TEST(HandshakeKey, RejectsKeysThatAreNotSixteenBytes) {
  EXPECT_FALSE(is_valid_client_key(""));
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ="));     // 23 chars
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ=x"));    // bad padding
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZ==="));    // 15 bytes
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25j*Q=="));    // not base64
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQZm"));    // 18 bytes
}

struct Pair {
  ClientHandshake client;
  ServerHandshake server;
};

Pair make_pair(const char* url, ClientHandshake::Options co = {}) {
  auto c = ClientHandshake::create(parse(url), std::move(co));
  auto s = ServerHandshake::create({});
  EXPECT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(s.ok()) << s.status();
  return {*std::move(c), *std::move(s)};
}

TEST(Handshake, ClientRequestHasTheRequiredFields) {
  Pair p = make_pair("ws://[::1]:9001/feed?x=1",
                     {.subprotocols = {"v2.json", "v1.json"}, .extra_headers = {{"Origin", "https://app"}}});
  WriteBuf out(1024);
  ASSERT_EQ(p.client.write_request(out), HandshakeError::None);
  const std::string req = str(out.data());
  EXPECT_EQ(req.rfind("GET /feed?x=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Host: [::1]:9001\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Upgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(req.find("Connection: Upgrade\r\n"), std::string::npos);
  EXPECT_NE(req.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(req.find("Sec-WebSocket-Protocol: v2.json, v1.json\r\n"), std::string::npos);
  EXPECT_NE(req.find("Origin: https://app\r\n"), std::string::npos);
  EXPECT_NE(req.find("Sec-WebSocket-Key: " + std::string(p.client.key()) + "\r\n"), std::string::npos);
  EXPECT_EQ(req.find("Content-Length"), std::string::npos);
  EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
}

TEST(Handshake, DefaultPortIsNotInHost) {
  Pair p = make_pair("wss://feed.example:443");
  WriteBuf out(1024);
  ASSERT_EQ(p.client.write_request(out), HandshakeError::None);
  EXPECT_NE(str(out.data()).find("Host: feed.example\r\n"), std::string::npos);
  EXPECT_EQ(str(out.data()).rfind("GET / HTTP/1.1\r\n", 0), 0u);
}

// Feeds `bytes` to `step` per `plan`; returns the first non-NeedMore result
// and appends the rest of the bytes afterwards (they must stay untouched).
template <typename Step>
Progress feed(ReadBuf& in, std::string_view bytes, const testing::SplitPlan& plan, Step step) {
  std::size_t off = 0;
  Progress pr = Progress::NeedMore;
  for (std::size_t piece : plan.pieces) {
    put(in, bytes.substr(off, piece));
    off += piece;
    pr = step();
    if (pr != Progress::NeedMore) break;
  }
  put(in, bytes.substr(off));
  return pr;
}

std::string reply_for(std::string_view key, std::string_view extra = {}) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
         "Connection: keep-alive, UPGRADE\r\nSec-WebSocket-Accept: " +
         std::string(view(compute_accept(key))) + "\r\n" + std::string(extra) + "\r\n";
}

// Client request → server, fed in every split, with early frame bytes after
// it that must be left in the buffer by accept().
TEST(Handshake, ServerParsesRequestInEverySplit) {
  const std::string early = "\x81\x85\x01\x02\x03\x04";
  auto c = ClientHandshake::create(parse("ws://example.com/chat"), {.subprotocols = {"chat", "superchat"}});
  ASSERT_TRUE(c.ok());
  WriteBuf req(1024);
  ASSERT_EQ(c->write_request(req), HandshakeError::None);
  const std::string request = str(req.data());
  auto s = ServerHandshake::create({});
  ASSERT_TRUE(s.ok());
  for (const auto& plan : testing::split_plans(request.size())) {
    SCOPED_TRACE(plan.name);
    s->reset();
    ReadBuf in(4096);
    ASSERT_EQ(feed(in, request + early, plan, [&] { return s->read_request(in); }), Progress::Complete)
        << name(s->error()) << " " << http::name(s->http_error());
    EXPECT_EQ(s->target(), "/chat");
    EXPECT_TRUE(s->offers_subprotocol("superchat"));
    EXPECT_FALSE(s->offers_subprotocol("other"));
    EXPECT_EQ(s->headers().get("Host"), "example.com");
    WriteBuf out(1024);
    ASSERT_EQ(s->accept(in, out, "superchat"), HandshakeError::None);
    EXPECT_EQ(str(in.data()), early);
    const std::string reply = str(out.data());
    EXPECT_EQ(reply.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << reply;
    EXPECT_NE(reply.find("Sec-WebSocket-Accept: " + std::string(view(compute_accept(c->key()))) + "\r\n"),
              std::string::npos) << reply;
    EXPECT_NE(reply.find("Sec-WebSocket-Protocol: superchat\r\n"), std::string::npos);
    EXPECT_EQ(reply.find("Content-Length"), std::string::npos) << "101 has no content";
  }
}

// The server's 101 → client, fed in every split, with frames after it.
TEST(Handshake, ClientValidatesReplyInEverySplit) {
  const std::string frames = "\x89\x00\x81\x02hi";
  const auto plans = testing::split_plans(reply_for("dGhlIHNhbXBsZSBub25jZQ==").size() + frames.size());
  for (const auto& plan : plans) {
    SCOPED_TRACE(plan.name);
    auto c = ClientHandshake::create(parse("ws://h/"), {.subprotocols = {"a", "b"}});
    ASSERT_TRUE(c.ok());
    WriteBuf out(1024);
    ASSERT_EQ(c->write_request(out), HandshakeError::None);
    // Every reply has the same length: only the 28-byte accept differs.
    const std::string reply = reply_for(c->key(), "Sec-WebSocket-Protocol: b\r\n");
    testing::SplitPlan fitted = plan;
    std::size_t total = 0;
    for (auto& n : fitted.pieces) total += n;
    fitted.pieces.back() += reply.size() + frames.size() - total;  // extra header
    ReadBuf in(1024);
    ASSERT_EQ(feed(in, reply + frames, fitted, [&] { return c->read_response(in); }), Progress::Complete);
    EXPECT_EQ(c->error(), HandshakeError::None) << name(c->error());
    EXPECT_EQ(c->status(), 101);
    EXPECT_EQ(c->subprotocol(), "b");
    EXPECT_EQ(str(in.data()), frames);
  }
}

struct ReplyCase {
  const char* name;
  std::string (*reply)(std::string_view key);
  HandshakeError error;
};

const ReplyCase kBadReplies[] = {
    {"200 instead of 101",
     [](std::string_view) { return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno"); },
     HandshakeError::NotSwitchingProtocols},
    {"401 without body",
     [](std::string_view) { return std::string("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"); },
     HandshakeError::NotSwitchingProtocols},
    {"no Upgrade",
     [](std::string_view k) {
       return "HTTP/1.1 101 X\r\nConnection: upgrade\r\nSec-WebSocket-Accept: " +
              std::string(view(compute_accept(k))) + "\r\n\r\n";
     },
     HandshakeError::MissingUpgrade},
    {"Upgrade: h2c",
     [](std::string_view k) {
       return "HTTP/1.1 101 X\r\nUpgrade: h2c\r\nConnection: upgrade\r\nSec-WebSocket-Accept: " +
              std::string(view(compute_accept(k))) + "\r\n\r\n";
     },
     HandshakeError::MissingUpgrade},
    {"no Connection upgrade",
     [](std::string_view k) {
       return "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: " +
              std::string(view(compute_accept(k))) + "\r\n\r\n";
     },
     HandshakeError::MissingConnectionUpgrade},
    {"wrong accept",
     [](std::string_view) {
       return std::string(
           "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
     },
     HandshakeError::BadAccept},
    {"missing accept",
     [](std::string_view) {
       return std::string("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
     },
     HandshakeError::BadAccept},
    {"accept twice",
     [](std::string_view k) {
       const std::string a(view(compute_accept(k)));
       return "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + a +
              "\r\nSec-WebSocket-Accept: " + a + "\r\n\r\n";
     },
     HandshakeError::BadAccept},
    {"extension not offered",
     [](std::string_view k) { return reply_for(k, "Sec-WebSocket-Extensions: permessage-deflate\r\n"); },
     HandshakeError::UnrequestedExtension},
    {"subprotocol not offered",
     [](std::string_view k) { return reply_for(k, "Sec-WebSocket-Protocol: c\r\n"); },
     HandshakeError::UnrequestedSubprotocol},
    {"subprotocol list instead of one",
     [](std::string_view k) { return reply_for(k, "Sec-WebSocket-Protocol: a, b\r\n"); },
     HandshakeError::UnrequestedSubprotocol},
};

TEST(Handshake, ClientRejectsEachBadReply) {
  for (const ReplyCase& rc : kBadReplies) {
    SCOPED_TRACE(rc.name);
    auto c = ClientHandshake::create(parse("ws://h/"), {.subprotocols = {"a", "b"}});
    ASSERT_TRUE(c.ok());
    WriteBuf out(1024);
    ASSERT_EQ(c->write_request(out), HandshakeError::None);
    ReadBuf in(1024);
    put(in, rc.reply(c->key()));
    EXPECT_EQ(c->read_response(in), Progress::Complete);
    EXPECT_EQ(c->error(), rc.error) << name(c->error());
  }
}

TEST(Handshake, ClientReportsMalformedHttp) {
  auto c = ClientHandshake::create(parse("ws://h/"), {});
  ASSERT_TRUE(c.ok());
  WriteBuf out(1024);
  ASSERT_EQ(c->write_request(out), HandshakeError::None);
  ReadBuf in(1024);
  put(in, "HTTP/1.1 101 OK\r\nBad Header: x\r\n\r\n");
  EXPECT_EQ(c->read_response(in), Progress::Failed);
  EXPECT_EQ(c->error(), HandshakeError::Http);
  EXPECT_EQ(c->http_error(), http::Error::BadHeaderName);
}

TEST(Handshake, CreateRejectsBadConfiguration) {
  EXPECT_FALSE(ClientHandshake::create(parse("http://h/"), {}).ok());
  EXPECT_FALSE(ClientHandshake::create(parse("ws://h/"), {.subprotocols = {"a b"}}).ok());
  auto injected = ClientHandshake::create(parse("ws://h/"), {.extra_headers = {{"X", "a\r\nEvil: 1"}}});
  ASSERT_FALSE(injected.ok());
  EXPECT_NE(injected.status().message().find("InvalidHeader"), absl::string_view::npos);
  EXPECT_FALSE(ServerHandshake::create({.extra_headers = {{"Bad Name", "x"}}}).ok());
}

struct RequestCase {
  const char* name;
  const char* request;
  HandshakeError error;
  int status;
};

#define KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
const RequestCase kBadRequests[] = {
    {"POST", "POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY
             "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
     HandshakeError::NotGet, 400},
    {"HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY
                 "Sec-WebSocket-Version: 13\r\n\r\n",
     HandshakeError::NotHttp11, 400},
    {"no Host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY
                "Sec-WebSocket-Version: 13\r\n\r\n",
     HandshakeError::MissingHost, 400},
    {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY
                  "Sec-WebSocket-Version: 13\r\n\r\n",
     HandshakeError::MissingHost, 400},
    {"plain GET", "GET /health HTTP/1.1\r\nHost: h\r\n\r\n", HandshakeError::NotUpgradeRequest, 400},
    {"no Connection upgrade", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n" KEY
                              "Sec-WebSocket-Version: 13\r\n\r\n",
     HandshakeError::NotUpgradeRequest, 400},
    {"version 8", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY
                  "Sec-WebSocket-Version: 8\r\n\r\n",
     HandshakeError::UnsupportedVersion, 426},
    {"no version", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY "\r\n",
     HandshakeError::UnsupportedVersion, 426},
    {"no key", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n",
     HandshakeError::MissingKey, 400},
    {"short key", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
     HandshakeError::BadKey, 400},
    {"body", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY
             "Sec-WebSocket-Version: 13\r\nContent-Length: 2\r\n\r\nhi",
     HandshakeError::RequestHasBody, 400},
    {"malformed", "GET / HTTP/1.1\r\nHost h\r\n\r\n", HandshakeError::Http, 400},
};
#undef KEY

TEST(Handshake, ServerRejectsEachBadRequestWithItsStatus) {
  auto s = ServerHandshake::create({});
  ASSERT_TRUE(s.ok());
  for (const RequestCase& rc : kBadRequests) {
    SCOPED_TRACE(rc.name);
    s->reset();
    ReadBuf in(1024);
    put(in, rc.request);
    EXPECT_EQ(s->read_request(in), Progress::Failed);
    EXPECT_EQ(s->error(), rc.error) << name(s->error());
    WriteBuf out(1024);
    ASSERT_EQ(s->reject(in, out), HandshakeError::None);
    const std::string reply = str(out.data());
    EXPECT_EQ(reply.rfind("HTTP/1.1 " + std::to_string(rc.status) + " ", 0), 0u) << reply;
    EXPECT_NE(reply.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(reply.find("Sec-WebSocket-Version: 13") != std::string::npos, rc.status == 426) << reply;
    // accept() after a failure changes nothing.
    WriteBuf none(1024);
    EXPECT_EQ(s->accept(in, none), rc.error);
    EXPECT_TRUE(none.empty());
  }
}

TEST(Handshake, OversizedRequestGets431) {
  http::Limits limits;
  limits.max_header_bytes = 256;
  auto s = ServerHandshake::create({.limits = limits});
  ASSERT_TRUE(s.ok());
  ReadBuf in(4096);
  put(in, "GET / HTTP/1.1\r\nHost: h\r\nCookie: " + std::string(400, 'c') + "\r\n\r\n");
  EXPECT_EQ(s->read_request(in), Progress::Failed);
  EXPECT_EQ(s->http_error(), http::Error::HeaderTooLarge);
  WriteBuf out(1024);
  ASSERT_EQ(s->reject(in, out), HandshakeError::None);
  EXPECT_EQ(str(out.data()).rfind("HTTP/1.1 431 ", 0), 0u) << str(out.data());
}

TEST(Handshake, ServerRefusesSubprotocolTheClientDidNotOffer) {
  auto s = ServerHandshake::create({});
  ASSERT_TRUE(s.ok());
  ReadBuf in(1024);
  put(in, "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b, c\r\n\r\n");
  ASSERT_EQ(s->read_request(in), Progress::Complete);
  EXPECT_TRUE(s->offers_subprotocol("c"));
  WriteBuf out(1024);
  EXPECT_EQ(s->accept(in, out, "d"), HandshakeError::SubprotocolNotOffered);
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(s->accept(in, out), HandshakeError::None);
  // The RFC 6455 §1.3 example's accept value.
  EXPECT_NE(str(out.data()).find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_TRUE(in.empty());
}

TEST(Handshake, BufferTooSmallIsReportedAndLeavesNothing) {
  auto c = ClientHandshake::create(parse("ws://h/"), {});
  ASSERT_TRUE(c.ok());
  WriteBuf tiny(32);
  EXPECT_EQ(c->write_request(tiny), HandshakeError::BufferFull);
  EXPECT_TRUE(tiny.empty());
}

TEST(Handshake, NoAllocationsAfterCreate) {
  auto c = ClientHandshake::create(parse("ws://example.com/feed"), {.subprotocols = {"v1"}});
  auto s = ServerHandshake::create({});
  ASSERT_TRUE(c.ok() && s.ok());
  WriteBuf out(2048);
  ReadBuf in(2048);
  testing::AllocCounter count;
  for (int i = 0; i < 1000; ++i) {
    out.clear();
    ASSERT_EQ(c->write_request(out), HandshakeError::None);
    std::memcpy(in.spare().data(), out.data().data(), out.size());
    ASSERT_TRUE(in.commit(out.size()));
    s->reset();
    ASSERT_EQ(s->read_request(in), Progress::Complete);
    out.clear();
    ASSERT_EQ(s->accept(in, out, "v1"), HandshakeError::None);
    std::memcpy(in.spare().data(), out.data().data(), out.size());
    ASSERT_TRUE(in.commit(out.size()));
    ASSERT_EQ(c->read_response(in), Progress::Complete);
    ASSERT_EQ(c->error(), HandshakeError::None);
    ASSERT_TRUE(in.empty());
  }
  EXPECT_EQ(count.allocations(), 0u);
}

}  // namespace
}  // namespace tern::ws
