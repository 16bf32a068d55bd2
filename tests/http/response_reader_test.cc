// ResponseReader against RFC 9112 rows, each fed whole, byte by byte, cut at
// every offset and in random pieces, with trailing bytes that must survive.
#include "core/http/response_reader.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

#include "core/buf/read_buf.h"
#include "core/http/request_reader.h"
#include "gtest/gtest.h"
#include "tests/http/feed.h"
#include "tests/support/split_feed.h"

namespace tern::http {
namespace {

using namespace std::string_literals;
using testing::Fields;
using testing::Outcome;

constexpr std::string_view kTrailing = "HTTP/1.1 204 Next\r\n\r\n";

struct Case {
  std::string name;
  std::string input;
  Method method = Method::Get;
  bool eof = false;  // close-delimited: the peer closes after input
  Error error = Error::None;
  int status = 200;
  std::string body;
  bool keep_alive = true;
  Fields headers = {};   // checked when non-empty
  Fields trailers = {};  // checked when non-empty
  Limits limits = {};
  std::size_t capacity = 4096;
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

const Case kCases[] = {
    // --- framing (RFC 9112 §6.3) ---
    {.name = "content-length §6.3¶6",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
     .body = "hello", .headers = {{"Content-Length", "5"}}},
    {.name = "content-length zero",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
    {.name = "identical duplicate content-length RFC9110 §8.6",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc",
     .body = "abc"},
    {.name = "chunked §7.1",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
     .body = "hello world"},
    {.name = "chunked upper/lower hex, leading zeros, extensions §7.1.1",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "000A;name=value;q=\"x\"\r\n0123456789\r\nb ; ext\r\nabcdefghijk\r\n"
              "00\r\n\r\n",
     .body = "0123456789abcdefghijk"},
    {.name = "chunked trailers exposed §7.1.2",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other:  v \r\n\r\n",
     .body = "abc", .trailers = {{"X-Checksum", "42"}, {"X-Other", "v"}}},
    {.name = "chunked empty body",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
    {.name = "transfer-encoding gzip, chunked: final chunked frames §6.3¶4",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"
              "2\r\nzz\r\n0\r\n\r\n",
     .body = "zz"},
    {.name = "transfer-encoding not chunked runs to close §6.3¶4",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw",
     .eof = true, .body = "raw", .keep_alive = false},
    {.name = "close-delimited HTTP/1.0 §6.3¶8",
     .input = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close",
     .eof = true, .body = "until close", .keep_alive = false},
    {.name = "close-delimited empty",
     .input = "HTTP/1.1 200 OK\r\n\r\n", .eof = true, .keep_alive = false},
    {.name = "no body for 204 §6.3¶1",
     .input = "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", .status = 204},
    {.name = "no body for 304 §6.3¶1",
     .input = "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
     .status = 304},
    {.name = "no body for HEAD §6.3¶1",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
     .method = Method::Head},
    {.name = "no body for 2xx to CONNECT §6.3¶2",
     .input = "HTTP/1.1 200 Connection established\r\n\r\n",
     .method = Method::Connect},
    {.name = "100 Continue skipped RFC9110 §15.2",
     .input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
     .body = "ok"},
    {.name = "103 Early Hints and 100 skipped",
     .input = "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
              "HTTP/1.1 100 Continue\r\n\r\n"
              "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!",
     .status = 201, .body = "!", .headers = {{"Content-Length", "1"}}},
    {.name = "101 reported, no body, following bytes kept RFC9110 §15.2.2",
     .input = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\n\r\n",
     .status = 101, .keep_alive = false},
    // --- keep-alive (RFC 9112 §9.3) ---
    {.name = "Connection: close",
     .input = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
     .keep_alive = false},
    {.name = "HTTP/1.0 keep-alive",
     .input = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
     .body = "x"},
    {.name = "HTTP/1.0 default close",
     .input = "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
     .body = "x", .keep_alive = false},
    {.name = "keep-alive and close in a list: close wins",
     .input = "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
     .keep_alive = false},
    // --- start line and fields (RFC 9112 §4, §5) ---
    {.name = "empty reason with SP §4",
     .input = "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", .status = 404},
    {.name = "no reason, no SP (tolerated)",
     .input = "HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n", .status = 599},
    // --- status codes outside 100..599 (RFC 9110 §15: processed as a 5xx) ---
    {.name = "status 600 accepted, body framed as a 5xx's",
     .input = "HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok", .status = 600, .body = "ok"},
    {.name = "status 999 to CONNECT is not a tunnel",
     .input = "HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\nok", .method = Method::Connect,
     .status = 999, .body = "ok"},
    {.name = "status 099 is not interim: final, with content",
     .input = "HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok", .status = 99, .body = "ok"},
    {.name = "status 000 without framing runs to close",
     .input = "HTTP/1.1 000\r\n\r\nuntil close", .eof = true, .status = 0,
     .body = "until close", .keep_alive = false},
    {.name = "1xx other than 100..103 is still interim RFC9110 §15.2",
     .input = "HTTP/1.1 199 Whatever\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
    // --- obs-fold in a response (RFC 9112 §5.2: each replaced by SP) ---
    {.name = "obs-fold replaced by SP in place §5.2",
     .input = "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
     .body = "ok", .headers = {{"X", "a   b"}, {"Content-Length", "2"}}},
    {.name = "obs-fold: OWS and RWS (SP or HTAB) become SP too",
     .input = "HTTP/1.1 200 OK\r\nX: a \t\r\n\t \tb\tc\r\nY: 1\r\nContent-Length: 0\r\n\r\n",
     .headers = {{"X", "a       b\tc"}, {"Y", "1"}, {"Content-Length", "0"}}},
    {.name = "obs-fold: several lines, empty ones, a value that starts on the next line",
     .input = "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\t\r\n c\r\nE:\r\n e\r\nZ: z\r\n \r\n"
              "Content-Length: 0\r\n\r\n",
     .headers = {{"X", "a   b      c"}, {"E", "e"}, {"Z", "z"}, {"Content-Length", "0"}}},
    {.name = "obs-fold in Content-Length: the unfolded value frames the body",
     .input = "HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\n\r\nhello", .body = "hello"},
    {.name = "obs-fold in Transfer-Encoding: the final coding after it frames",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n"
              "2\r\nzz\r\n0\r\n\r\n",
     .body = "zz"},
    {.name = "obs-fold in Connection: close after the fold counts",
     .input = "HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nContent-Length: 0\r\n\r\n",
     .keep_alive = false},
    {.name = "obs-fold in a trailer",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n0\r\nT: 1\r\n 2\r\nU: 3\r\n\r\n",
     .body = "abc", .trailers = {{"T", "1   2"}, {"U", "3"}}},
    {.name = "obs-fold in an interim response",
     .input = "HTTP/1.1 103 Early Hints\r\nLink: </a>;\r\n rel=preload\r\n\r\n"
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
    {.name = "HTTP/1.2 read as 1.1 RFC9110 §2.5",
     .input = "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n"},
    {.name = "OWS trimmed, empty value, obs-text kept §5.1",
     .input = "HTTP/1.1 200 OK\r\nA:  x y \t\r\nB:\r\nC: \xC3\xA9t\xE9\r\n"
              "Content-Length: 0\r\n\r\n",
     .headers = {{"A", "x y"}, {"B", ""}, {"C", "\xC3\xA9t\xE9"}, {"Content-Length", "0"}}},
    // --- one row per error cause ---
    {.name = "BadVersion HTTP/2.0",
     .input = "HTTP/2.0 200 OK\r\n\r\n", .error = Error::BadVersion},
    {.name = "BadVersion lowercase",
     .input = "http/1.1 200 OK\r\n\r\n", .error = Error::BadVersion},
    {.name = "BadStartLine no SP after version",
     .input = "HTTP/1.1_200 OK\r\n\r\n", .error = Error::BadStartLine},
    {.name = "BadStartLine control byte",
     .input = "HTTP/1.1 200 O\x01K\r\n\r\n", .error = Error::BadStartLine},
    {.name = "BadStatus letters",
     .input = "HTTP/1.1 2x0 OK\r\n\r\n", .error = Error::BadStatus},
    {.name = "BadStatus four digits",
     .input = "HTTP/1.1 2000 OK\r\n\r\n", .error = Error::BadStatus},
    {.name = "BadStatus two digits",
     .input = "HTTP/1.1 20 OK\r\n\r\n", .error = Error::BadStatus},
    {.name = "BadStatus no digits",
     .input = "HTTP/1.1 \r\n\r\n", .error = Error::BadStatus},
    {.name = "BadLineEnding bare LF §2.2",
     .input = "HTTP/1.1 200 OK\nContent-Length: 0\n\n", .error = Error::BadLineEnding},
    {.name = "BadLineEnding bare CR §2.2",
     .input = "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", .error = Error::BadLineEnding},
    {.name = "BadHeaderName space before colon §5.1",
     .input = "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
     .error = Error::BadHeaderName},
    {.name = "BadHeaderName empty",
     .input = "HTTP/1.1 200 OK\r\n: x\r\n\r\n", .error = Error::BadHeaderName},
    {.name = "BadHeaderName no colon",
     .input = "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", .error = Error::BadHeaderName},
    {.name = "BadHeaderName non-token",
     .input = "HTTP/1.1 200 OK\r\nX(y): z\r\n\r\n", .error = Error::BadHeaderName},
    {.name = "BadHeaderValue NUL",
     .input = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"s,
     .error = Error::BadHeaderValue},
    {.name = "BadHeaderValue DEL",
     .input = "HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", .error = Error::BadHeaderValue},
    {.name = "ObsoleteLineFolding: whitespace before the first field §2.2",
     .input = "HTTP/1.1 200 OK\r\n X: a\r\n\r\n", .error = Error::ObsoleteLineFolding},
    {.name = "ObsoleteLineFolding: whitespace before the first trailer §2.2",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n T: 1\r\n\r\n",
     .error = Error::ObsoleteLineFolding},
    {.name = "BadHeaderName: an obs-fold before the colon",
     .input = "HTTP/1.1 200 OK\r\nX\r\n : a\r\n\r\n", .error = Error::BadHeaderName},
    {.name = "BadLineEnding in a folded line",
     .input = "HTTP/1.1 200 OK\r\nX: a\r\n b\nc\r\n\r\n", .error = Error::BadLineEnding},
    {.name = "BadHeaderValue in a folded line",
     .input = "HTTP/1.1 200 OK\r\nX: a\r\n b\x01\r\n\r\n", .error = Error::BadHeaderValue},
    {.name = "InvalidContentLength: the unfolded value is judged",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 5\r\n\r\nhello",
     .error = Error::InvalidContentLength},
    {.name = "HeaderTooLarge counts the folds' bytes",
     .input = "HTTP/1.1 200 OK\r\nX: a\r\n" + repeat(' ', 40) + "b\r\n\r\n",
     .error = Error::HeaderTooLarge, .limits = {.max_header_bytes = 64}},
    {.name = "HeaderTooLarge",
     .input = "HTTP/1.1 200 OK\r\nX: " + repeat('a', 100) + "\r\n\r\n",
     .error = Error::HeaderTooLarge, .limits = {.max_header_bytes = 64}},
    {.name = "HeaderTooLarge no line end ever",
     .input = "HTTP/1.1 200 OK\r\nX: " + repeat('a', 100),
     .error = Error::HeaderTooLarge, .limits = {.max_header_bytes = 64}},
    {.name = "TooManyHeaders",
     .input = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
     .error = Error::TooManyHeaders, .limits = {.max_headers = 2}},
    {.name = "InvalidContentLength sign",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
     .error = Error::InvalidContentLength},
    {.name = "InvalidContentLength list",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
     .error = Error::InvalidContentLength},
    {.name = "InvalidContentLength empty",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
     .error = Error::InvalidContentLength},
    {.name = "ContentLengthOverflow",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
     .error = Error::ContentLengthOverflow},
    {.name = "ConflictingContentLength §6.3¶5",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
     .error = Error::ConflictingContentLength},
    {.name = "TransferEncodingWithContentLength §6.3¶3",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n0\r\n\r\n",
     .error = Error::TransferEncodingWithContentLength},
    {.name = "InvalidChunkSize not hex",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
     .error = Error::InvalidChunkSize},
    {.name = "InvalidChunkSize junk after size",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n",
     .error = Error::InvalidChunkSize},
    {.name = "InvalidChunkSize control byte in extension",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\x01\r\nhello\r\n",
     .error = Error::InvalidChunkSize},
    {.name = "ChunkSizeOverflow",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
     .error = Error::ChunkSizeOverflow},
    {.name = "ChunkLineTooLong",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + repeat('e', 1100) +
              "\r\nhello\r\n0\r\n\r\n",
     .error = Error::ChunkLineTooLong},
    {.name = "BadChunkTerminator",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
     .error = Error::BadChunkTerminator},
    {.name = "BodyTooLarge content-length",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
     .error = Error::BodyTooLarge, .limits = {.max_body_size = 4}},
    {.name = "BodyTooLarge chunked sum",
     .input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
     .error = Error::BodyTooLarge, .limits = {.max_body_size = 4}},
    {.name = "BodyTooLarge close-delimited",
     .input = "HTTP/1.1 200 OK\r\n\r\nabcde", .eof = true,
     .error = Error::BodyTooLarge, .limits = {.max_body_size = 4}},
    {.name = "UnexpectedEof in body",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", .eof = true,
     .error = Error::UnexpectedEof},
    {.name = "UnexpectedEof in head",
     .input = "HTTP/1.1 200 OK\r\nContent-Le", .eof = true, .error = Error::UnexpectedEof},
    {.name = "BufferFull content-length beyond capacity",
     .input = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + repeat('x', 100),
     .error = Error::BufferFull, .capacity = 128},
    {.name = "BufferFull head beyond capacity",
     .input = "HTTP/1.1 200 OK\r\nX: " + repeat('x', 100) + "\r\n\r\n",
     .error = Error::BufferFull, .capacity = 64},
};

void run_case(const Case& c) {
  SCOPED_TRACE(c.name);
  const bool trailing = !c.eof && c.error == Error::None;
  const std::string input = trailing ? c.input + std::string(kTrailing) : c.input;
  const std::size_t message_len = c.input.size();

  auto run = [&](const std::vector<std::size_t>& pieces) {
    ReadBuf buf(c.capacity);
    ResponseReader reader(c.limits);
    reader.set_request_method(c.method);
    return testing::feed(reader, buf, input, message_len, pieces, c.eof);
  };
  const Outcome whole = run({input.size()});
  if (c.error != Error::None) {
    EXPECT_EQ(whole.progress, Progress::Failed);
    EXPECT_EQ(name(whole.error), name(c.error));
  } else {
    ASSERT_EQ(whole.progress, Progress::Complete) << name(whole.error);
    EXPECT_EQ(whole.status, c.status);
    EXPECT_EQ(whole.body, c.body);
    EXPECT_EQ(whole.keep_alive, c.keep_alive);
    if (!c.headers.empty()) { EXPECT_EQ(whole.headers, c.headers); }
    if (!c.trailers.empty()) { EXPECT_EQ(whole.trailers, c.trailers); }
    EXPECT_EQ(whole.leftover, trailing ? kTrailing : "");
    EXPECT_FALSE(whole.early);
  }
  for (const auto& plan : tern::testing::split_plans(input.size(), 7)) {
    const Outcome split = run(plan.pieces);
    EXPECT_EQ(split, whole) << plan.name;
  }
}

TEST(ResponseReader, Rfc9112Table) {
  for (const Case& c : kCases) run_case(c);
}

TEST(ResponseReader, StickyErrorUntilReset) {
  ReadBuf buf(256);
  ResponseReader r;
  const std::string bad = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
  std::memcpy(buf.spare().data(), bad.data(), bad.size());
  ASSERT_TRUE(buf.commit(bad.size()));
  EXPECT_EQ(r.next(buf), Progress::Failed);
  EXPECT_EQ(r.error(), Error::InvalidContentLength);
  EXPECT_EQ(r.next(buf), Progress::Failed);
  EXPECT_EQ(r.error(), Error::InvalidContentLength);
  buf.clear();
  r.reset();
  EXPECT_EQ(r.error(), Error::None);
  const std::string good = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  std::memcpy(buf.spare().data(), good.data(), good.size());
  ASSERT_TRUE(buf.commit(good.size()));
  EXPECT_EQ(r.next(buf), Progress::Complete);
  EXPECT_EQ(r.message_size(), good.size());
}

TEST(ResponseReader, SwitchingProtocolsLeavesFramesInBuffer) {
  ReadBuf buf(256);
  ResponseReader r;
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  const std::string frame = "\x81\x02hi";
  const std::string all = head + frame;
  std::memcpy(buf.spare().data(), all.data(), all.size());
  ASSERT_TRUE(buf.commit(all.size()));
  ASSERT_EQ(r.next(buf), Progress::Complete);
  EXPECT_EQ(r.status(), 101);
  EXPECT_TRUE(r.body().empty());
  EXPECT_EQ(r.message_size(), head.size());
  EXPECT_TRUE(r.headers().has_token("connection", "UPGRADE"));
  EXPECT_EQ(r.headers().get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  r.consume(buf);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data().data()), buf.size()),
            frame);
}

// Keep-alive: a seeded sequence of mixed responses (CL, chunked with
// trailers, 204, HEAD, 100-then-200) through one reader and one small
// buffer, in random pieces, so the reader must compact and rebase its views.
TEST(ResponseReader, KeepAliveSequence) {
  struct Item { std::string wire; Method method; int status; std::string body; };
  const Item items[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", Method::Get, 200, "hello"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3;x\r\ncde\r\n0\r\nT: 1\r\n\r\n",
       Method::Post, 200, "abcde"},
      {"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n", Method::Delete, 204, ""},
      {"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", Method::Head, 200, ""},
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}",
       Method::Put, 201, "{}"},
  };
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 50; ++round) {
    std::vector<const Item*> seq;
    std::string wire;
    for (int i = 0; i < 20; ++i) {
      seq.push_back(&items[rng() % std::size(items)]);
      wire += seq.back()->wire;
    }
    ReadBuf buf(160);
    ResponseReader r;
    std::size_t fed = 0;
    for (const Item* it : seq) {
      r.set_request_method(it->method);
      Progress p;
      while ((p = r.next(buf)) == Progress::NeedMore) {
        ASSERT_LT(fed, wire.size());
        std::size_t k = 1 + rng() % 40;
        k = std::min({k, wire.size() - fed, buf.spare().size()});
        ASSERT_GT(k, 0u);
        std::memcpy(buf.spare().data(), wire.data() + fed, k);
        ASSERT_TRUE(buf.commit(k));
        fed += k;
      }
      ASSERT_EQ(p, Progress::Complete) << name(r.error());
      EXPECT_EQ(r.status(), it->status);
      EXPECT_EQ(r.body(), it->body);
      EXPECT_TRUE(r.keep_alive());
    }
  }
}

// The default Limits against heads a REST client meets on real venues (and
// the bounds just past them), fed whole, byte by byte, cut near both ends and
// in random pieces (every cut of a 64 KiB head would be slow for no gain).
Outcome feed_default_limits(const std::string& wire) {
  std::vector<std::vector<std::size_t>> plans = {{wire.size()},
                                                 std::vector<std::size_t>(wire.size(), 1)};
  for (std::size_t cut : {std::size_t{1}, std::size_t{17}, wire.size() / 2, wire.size() - 1}) {
    plans.push_back({cut, wire.size() - cut});
  }
  std::mt19937_64 rng(16);
  for (int r = 0; r < 4; ++r) {
    std::vector<std::size_t> p;
    for (std::size_t left = wire.size(); left > 0;) {
      const std::size_t k = std::min<std::size_t>(left, 1 + rng() % 3000);
      p.push_back(k);
      left -= k;
    }
    plans.push_back(std::move(p));
  }
  Outcome first;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    ReadBuf buf(128 * 1024);
    ResponseReader reader;  // Limits{}
    const Outcome o = testing::feed(reader, buf, wire, wire.size(), plans[i], false);
    if (i == 0) first = o;
    EXPECT_EQ(o, first) << "plan " << i;
  }
  return first;
}

std::string head_with(const std::string& fields) {
  return "HTTP/1.1 200 OK\r\n" + fields + "Content-Length: 2\r\n\r\nok";
}

TEST(ResponseReader, DefaultLimitsAcceptLargeFields) {
  // An 8 KiB cookie and a 16 KiB CSP header in one head (24 KiB).
  const std::string cookie = "session=" + repeat('c', 8 * 1024 - 8);
  const std::string csp = "default-src 'self'; " + repeat('s', 16 * 1024 - 20);
  const Outcome o = feed_default_limits(
      head_with("Set-Cookie: " + cookie + "\r\nContent-Security-Policy: " + csp + "\r\n"));
  ASSERT_EQ(o.progress, Progress::Complete) << name(o.error);
  ASSERT_EQ(o.headers.size(), 3u);
  EXPECT_EQ(o.headers[0].second, cookie);
  EXPECT_EQ(o.headers[1].second, csp);
  EXPECT_EQ(o.body, "ok");
}

TEST(ResponseReader, DefaultLimitsAcceptAHundredFields) {
  std::string fields;
  for (int i = 0; i < 120; ++i) fields += "X-Field-" + std::to_string(i) + ": v\r\n";
  const Outcome o = feed_default_limits(head_with(fields));  // 121 fields
  ASSERT_EQ(o.progress, Progress::Complete) << name(o.error);
  EXPECT_EQ(o.headers.size(), 121u);
  EXPECT_EQ(Limits{}.max_headers, 128u);
}

TEST(ResponseReader, DefaultLimitsStillBoundTheHead) {
  // One byte over 64 KiB of head, in one field line.
  const std::string base = head_with("X: \r\n");
  const std::size_t head_len = base.size() - 2;  // without the body
  const std::string big = head_with("X: " + repeat('v', 64 * 1024 - head_len + 1) + "\r\n");
  EXPECT_EQ(big.size() - 2, 64 * 1024 + 1u);
  Outcome o = feed_default_limits(big);
  EXPECT_EQ(o.progress, Progress::Failed);
  EXPECT_EQ(name(o.error), name(Error::HeaderTooLarge));
  // Exactly 64 KiB passes.
  o = feed_default_limits(head_with("X: " + repeat('v', 64 * 1024 - head_len) + "\r\n"));
  EXPECT_EQ(o.progress, Progress::Complete) << name(o.error);
  // 129 fields do not.
  std::string fields;
  for (int i = 0; i < 128; ++i) fields += "F" + std::to_string(i) + ": v\r\n";
  o = feed_default_limits(head_with(fields));
  EXPECT_EQ(o.progress, Progress::Failed);
  EXPECT_EQ(name(o.error), name(Error::TooManyHeaders));
}

// RFC 9110 §15: any three-digit code is reported as sent; status_class()
// says how to act on it (a code outside 100..599 as a 5xx).
TEST(ResponseReader, StatusClass) {
  const struct {
    const char* code;
    int status;
    int cls;
  } rows[] = {{"100", 100, 1}, {"101", 101, 1}, {"200", 200, 2}, {"204", 204, 2},
              {"301", 301, 3}, {"404", 404, 4}, {"418", 418, 4}, {"500", 500, 5},
              {"599", 599, 5}, {"600", 600, 5}, {"999", 999, 5}, {"000", 0, 5},
              {"099", 99, 5}};
  for (const auto& row : rows) {
    SCOPED_TRACE(row.code);
    const std::string wire = std::string("HTTP/1.1 ") + row.code + " X\r\nContent-Length: 0\r\n\r\n";
    ReadBuf buf(256);
    ResponseReader r;
    std::memcpy(buf.spare().data(), wire.data(), wire.size());
    ASSERT_TRUE(buf.commit(wire.size()));
    const Progress p = r.next(buf);
    if (row.status == 100) {  // interim: skipped, nothing follows
      EXPECT_EQ(p, Progress::NeedMore);
      continue;
    }
    ASSERT_EQ(p, Progress::Complete) << name(r.error());
    EXPECT_EQ(r.status(), row.status);
    EXPECT_EQ(r.status_class(), row.cls);
  }
}

// The unfolded value is a view into the caller's buffer, where the fold's
// bytes were overwritten with SP: nothing was copied.
TEST(ResponseReader, ObsFoldUnfoldedInPlace) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nX-Long: part one,\r\n\tpart two\r\nContent-Length: 0\r\n\r\n";
  ReadBuf buf(256);
  ResponseReader r;
  std::memcpy(buf.spare().data(), wire.data(), wire.size());
  ASSERT_TRUE(buf.commit(wire.size()));
  ASSERT_EQ(r.next(buf), Progress::Complete) << name(r.error());
  const std::string_view v = r.headers().get("x-long");
  EXPECT_EQ(v, "part one,   part two");
  const char* data = reinterpret_cast<const char*>(buf.data().data());
  EXPECT_EQ(v.data(), data + wire.find("part one"));
  EXPECT_EQ(std::string_view(data, wire.size()),
            "HTTP/1.1 200 OK\r\nX-Long: part one,   part two\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.message_size(), wire.size());
}

// Requests keep rejecting obs-fold (RFC 9112 §5.2 lets a server do so):
// only a user agent must accept it.
TEST(ResponseReader, RequestsStillRejectObsFold) {
  const std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n";
  ReadBuf buf(256);
  RequestReader r;
  std::memcpy(buf.spare().data(), wire.data(), wire.size());
  ASSERT_TRUE(buf.commit(wire.size()));
  EXPECT_EQ(r.next(buf), Progress::Failed);
  EXPECT_EQ(r.error(), Error::ObsoleteLineFolding);
}

TEST(ResponseReader, LinearScanOnTrickledHeaders) {
  // A 6 KB header line fed one byte at a time must not be re-scanned per byte
  // (picohttpparser's slowloris note); this is a smoke test of the resume
  // point: it would take seconds at O(n^2) under ASan.
  const std::string wire = "HTTP/1.1 200 OK\r\nX: " + repeat('v', 6000) +
                           "\r\nContent-Length: 0\r\n\r\n";
  ReadBuf buf(8192);
  ResponseReader r;
  Progress p = Progress::NeedMore;
  for (char ch : wire) {
    buf.spare()[0] = static_cast<std::uint8_t>(ch);
    ASSERT_TRUE(buf.commit(1));
    p = r.next(buf);
  }
  EXPECT_EQ(p, Progress::Complete);
}

TEST(ResponseReader, LinearScanOnTrickledFoldedHeaders) {
  // The same for a long name and a value folded over 1500 lines: a call
  // that stops inside the field resumes after its name and last line.
  std::string wire = "HTTP/1.1 200 OK\r\n" + repeat('n', 4000) + ":";
  std::string expected;
  for (int i = 0; i < 1500; ++i) {
    wire += " v\r\n";
    expected += (i == 0 ? "v" : "   v");  // CR LF SP became SP
  }
  wire += "Content-Length: 0\r\n\r\n";
  ReadBuf buf(16384);
  ResponseReader r;
  Progress p = Progress::NeedMore;
  for (char ch : wire) {
    buf.spare()[0] = static_cast<std::uint8_t>(ch);
    ASSERT_TRUE(buf.commit(1));
    p = r.next(buf);
  }
  ASSERT_EQ(p, Progress::Complete) << name(r.error());
  EXPECT_EQ(r.headers()[0].value, expected);
}

}  // namespace
}  // namespace tern::http
