// RequestReader against RFC 9112 rows, each fed whole, byte by byte, cut at
// every offset and in random pieces, with a pipelined request after it.
#include "core/http/request_reader.h"

#include <string>

#include "core/buf/read_buf.h"
#include "core/http/tokens.h"
#include "gtest/gtest.h"
#include "tests/http/feed.h"
#include "tests/support/split_feed.h"

namespace tern::http {
namespace {

using testing::Fields;
using testing::Outcome;

constexpr std::string_view kTrailing = "GET /next HTTP/1.1\r\n\r\n";

struct Case {
  std::string name;
  std::string input;
  Error error = Error::None;
  std::string method;
  std::string target;
  int minor = 1;
  std::string body;
  bool keep_alive = true;
  Fields headers = {};
  Fields trailers = {};
  Limits limits = {};
};

const Case kCases[] = {
    {.name = "websocket upgrade GET RFC 6455 §4.1",
     .input = "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
              "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              "Sec-WebSocket-Version: 13\r\n\r\n",
     .method = "GET", .target = "/chat?x=1",
     .headers = {{"Host", "example.com"}, {"Upgrade", "websocket"},
                 {"Connection", "keep-alive, Upgrade"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                 {"Sec-WebSocket-Version", "13"}}},
    {.name = "POST with content-length §6.3¶6",
     .input = "POST /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"qty\":100}",
     .method = "POST", .target = "/api/v3/order", .body = "{\"qty\":100}"},
    {.name = "PUT chunked with trailer §7.1",
     .input = "PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
              "4\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n",
     .method = "PUT", .target = "/f", .body = "Wikipedia", .trailers = {{"X-T", "1"}}},
    {.name = "no framing means no body §6.3¶7",
     .input = "DELETE /o/1 HTTP/1.1\r\n\r\n", .method = "DELETE", .target = "/o/1"},
    {.name = "leading empty lines ignored §2.2",
     .input = "\r\n\r\nGET / HTTP/1.1\r\n\r\n", .method = "GET", .target = "/"},
    {.name = "HTTP/1.0 closes by default §9.3",
     .input = "GET / HTTP/1.0\r\n\r\n", .method = "GET", .target = "/", .minor = 0,
     .keep_alive = false},
    {.name = "extension method, absolute-form target §3.2.2",
     .input = "PURGE http://h/p?q HTTP/1.1\r\n\r\n", .method = "PURGE",
     .target = "http://h/p?q"},
    {.name = "asterisk-form §3.2.4",
     .input = "OPTIONS * HTTP/1.1\r\n\r\n", .method = "OPTIONS", .target = "*"},
    // --- errors ---
    {.name = "BadMethod non-token", .input = "G(T / HTTP/1.1\r\n\r\n", .error = Error::BadMethod},
    {.name = "BadMethod empty", .input = " / HTTP/1.1\r\n\r\n", .error = Error::BadMethod},
    {.name = "BadTarget empty", .input = "GET  HTTP/1.1\r\n\r\n", .error = Error::BadTarget},
    {.name = "BadTarget obs-text", .input = "GET /\xE9 HTTP/1.1\r\n\r\n", .error = Error::BadTarget},
    {.name = "BadTarget HTAB", .input = "GET /\ta HTTP/1.1\r\n\r\n", .error = Error::BadTarget},
    {.name = "BadStartLine no version", .input = "GET /\r\n\r\n", .error = Error::BadStartLine},
    {.name = "BadVersion", .input = "GET / HTTP/1.10\r\n\r\n", .error = Error::BadVersion},
    {.name = "BadVersion HTTP/2", .input = "GET / HTTP/2.0\r\n\r\n", .error = Error::BadVersion},
    {.name = "BadTransferEncoding final coding not chunked §6.3¶4",
     .input = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     .error = Error::BadTransferEncoding},
    {.name = "TransferEncodingWithContentLength smuggling §6.3¶3",
     .input = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
     .error = Error::TransferEncodingWithContentLength},
    {.name = "ConflictingContentLength",
     .input = "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     .error = Error::ConflictingContentLength},
    {.name = "ObsoleteLineFolding", .input = "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n",
     .error = Error::ObsoleteLineFolding},
    {.name = "BadLineEnding", .input = "GET / HTTP/1.1\n\n", .error = Error::BadLineEnding},
    {.name = "TooManyHeaders", .input = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n",
     .error = Error::TooManyHeaders, .limits = {.max_headers = 1}},
    {.name = "BodyTooLarge", .input = "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789",
     .error = Error::BodyTooLarge, .limits = {.max_body_size = 8}},
};

void run_case(const Case& c) {
  SCOPED_TRACE(c.name);
  const bool trailing = c.error == Error::None;
  const std::string input = trailing ? c.input + std::string(kTrailing) : c.input;
  auto run = [&](const std::vector<std::size_t>& pieces) {
    ReadBuf buf(4096);
    RequestReader reader(c.limits);
    return testing::feed(reader, buf, input, c.input.size(), pieces, false);
  };
  const Outcome whole = run({input.size()});
  if (c.error != Error::None) {
    EXPECT_EQ(whole.progress, Progress::Failed);
    EXPECT_EQ(name(whole.error), name(c.error));
  } else {
    ASSERT_EQ(whole.progress, Progress::Complete) << name(whole.error);
    EXPECT_EQ(whole.method, c.method);
    EXPECT_EQ(whole.target, c.target);
    EXPECT_EQ(whole.minor, c.minor);
    EXPECT_EQ(whole.body, c.body);
    EXPECT_EQ(whole.keep_alive, c.keep_alive);
    if (!c.headers.empty()) { EXPECT_EQ(whole.headers, c.headers); }
    if (!c.trailers.empty()) { EXPECT_EQ(whole.trailers, c.trailers); }
    EXPECT_EQ(whole.leftover, kTrailing);
    EXPECT_EQ(whole.message_size, c.input.size());
    EXPECT_FALSE(whole.early);
  }
  for (const auto& plan : tern::testing::split_plans(input.size(), 11)) {
    EXPECT_EQ(run(plan.pieces), whole) << plan.name;
  }
}

TEST(RequestReader, Rfc9112Table) {
  for (const Case& c : kCases) run_case(c);
}

TEST(RequestReader, HeaderLookupAndTokens) {
  const std::string wire =
      "GET / HTTP/1.1\r\nconnection: keep-alive\r\nCONNECTION: Upgrade\r\n"
      "Upgrade: WebSocket\r\nSec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Protocol: c\r\n\r\n";
  ReadBuf buf(1024);
  std::memcpy(buf.spare().data(), wire.data(), wire.size());
  ASSERT_TRUE(buf.commit(wire.size()));
  RequestReader r;
  ASSERT_EQ(r.next(buf), Progress::Complete);
  EXPECT_EQ(r.method(), Method::Get);
  HeaderList h = r.headers();
  EXPECT_TRUE(h.has_token("Connection", "upgrade"));
  EXPECT_TRUE(h.has_token("Connection", "Keep-Alive"));
  EXPECT_FALSE(h.has_token("Connection", "close"));
  EXPECT_EQ(h.count("sec-websocket-protocol"), 2u);
  EXPECT_EQ(h.get("upgrade"), "WebSocket");
  EXPECT_EQ(h.find("missing"), nullptr);
  std::vector<std::string_view> protocols;
  for (const Header& f : h) {
    if (iequals(f.name, "Sec-WebSocket-Protocol")) protocols.push_back(f.value);
  }
  EXPECT_EQ(protocols, (std::vector<std::string_view>{"a, b", "c"}));
  EXPECT_EQ(r.message_size(), wire.size());
}

TEST(Tokens, HeaderHasToken) {
  EXPECT_TRUE(header_has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(header_has_token(" ,, Upgrade ,", "UPGRADE"));
  EXPECT_TRUE(header_has_token("chunked;q=1", "chunked"));
  EXPECT_FALSE(header_has_token("upgrades", "upgrade"));
  EXPECT_FALSE(header_has_token("", "upgrade"));
  EXPECT_FALSE(header_has_token("a,b", ""));
  EXPECT_EQ(last_token("gzip, chunked"), "chunked");
  EXPECT_EQ(last_token("chunked, gzip ,"), "gzip");
  EXPECT_EQ(last_token(""), "");
  EXPECT_TRUE(is_token("X-Custom_1.~"));
  EXPECT_FALSE(is_token("a b"));
  EXPECT_FALSE(is_token(""));
}

}  // namespace
}  // namespace tern::http
