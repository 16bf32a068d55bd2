// RequestWriter and ResponseWriter: exact bytes, one test per error cause,
// reuse after failure, and seeded round trips through the readers.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <random>
#include <string>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/request_reader.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/http/response_writer.h"
#include "core/http/method.h"
#include "core/http/tokens.h"
#include "gtest/gtest.h"

namespace tern::http {
namespace {

std::string str(std::span<const std::uint8_t> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

RequestWriter make_writer() {
  auto w = RequestWriter::create({.host = "api.example.com",
                                  .base_path = "/api/v3/",
                                  .default_headers = {{"X-API-KEY", "k3y"},
                                                      {"User-Agent", "tern"}}});
  EXPECT_TRUE(w.ok()) << w.status();
  return *std::move(w);
}

TEST(RequestWriter, ExactBytes) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  WriteResult r = w.start(out, Method::Post, "/order")
                      .query("symbol", "BTC-USD")
                      .query("note", "a b&c=d/\xC3\xA9~")
                      .query("qty", -42)
                      .header("Content-Type", "application/json")
                      .body(std::string_view(R"({"side":"buy"})"));
  ASSERT_TRUE(r.ok()) << name(r.error);
  EXPECT_EQ(str(r.bytes),
            "POST /api/v3/order?symbol=BTC-USD&note=a%20b%26c%3Dd%2F%C3%A9~&qty=-42 HTTP/1.1\r\n"
            "Host: api.example.com\r\nX-API-KEY: k3y\r\nUser-Agent: tern\r\n"
            "Content-Type: application/json\r\nContent-Length: 14\r\n\r\n"
            R"({"side":"buy"})");
  EXPECT_EQ(str(out.data()), str(r.bytes));
}

TEST(RequestWriter, PathQueryIsExtendedAndGetHasNoLength) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  WriteResult r = w.start(out, Method::Get, "/ticker?a=1").query("b", "2").finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(str(r.bytes),
            "GET /api/v3/ticker?a=1&b=2 HTTP/1.1\r\nHost: api.example.com\r\n"
            "X-API-KEY: k3y\r\nUser-Agent: tern\r\n\r\n");
}

TEST(RequestWriter, EmptyPostGetsZeroLength) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  WriteResult r = w.start(out, Method::Post, "/cancel_all").finish();
  ASSERT_TRUE(r.ok());
  EXPECT_NE(str(r.bytes).find("Content-Length: 0\r\n\r\n"), std::string::npos);
}

TEST(RequestWriter, BodyInPlaceFillsLengthAfter) {
  RequestWriter w = make_writer();
  for (std::size_t n : {0u, 1u, 9u, 10u, 123u, 1000u}) {
    WriteBuf out(2048);
    WriteResult r = w.start(out, Method::Put, "/x").body_in_place([&](std::span<std::uint8_t> s) {
      for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::uint8_t>('a' + i % 26);
      return n;
    });
    ASSERT_TRUE(r.ok());
    std::string body;
    for (std::size_t i = 0; i < n; ++i) body += static_cast<char>('a' + i % 26);
    const std::string s = str(r.bytes);
    EXPECT_NE(s.find("Content-Length: " + std::to_string(n) + "\r\n\r\n" + body), std::string::npos);
    EXPECT_TRUE(s.ends_with("\r\n\r\n" + body));
  }
}

TEST(RequestWriter, BodyFixed) {
  RequestWriter w = make_writer();
  WriteBuf out(512);
  WriteResult r = w.start(out, Method::Patch, "/p").body_fixed(4, [](std::span<std::uint8_t> s) {
    std::memcpy(s.data(), "abcd", 4);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(str(r.bytes).ends_with("Content-Length: 4\r\n\r\nabcd"));
}

// One test per writer error cause; each leaves earlier buffer content intact
// and the writer usable.
struct ErrorCase {
  const char* name;
  Error error;
  WriteResult (*build)(const RequestWriter&, WriteBuf&);
};

const ErrorCase kErrors[] = {
    {"CR in header value", Error::CrlfInjection,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("X", "a\r\nEvil: 1").finish(); }},
    {"LF in header name", Error::CrlfInjection,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("X\n", "a").finish(); }},
    {"NUL in header value", Error::CrlfInjection,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("X", std::string_view("a\0b", 3)).finish(); }},
    {"CR in path", Error::CrlfInjection,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/a\r\nHost: evil").finish(); }},
    {"LF in query value", Error::CrlfInjection,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").query("a", "b\nc").finish(); }},
    {"NUL in query key", Error::CrlfInjection,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").query(std::string_view("\0", 1), "b").finish(); }},
    {"space in header name", Error::InvalidHeaderName,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("X Y", "a").finish(); }},
    {"empty header name", Error::InvalidHeaderName,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("", "a").finish(); }},
    {"colon in header name", Error::InvalidHeaderName,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("X:", "a").finish(); }},
    {"control byte in value", Error::InvalidHeaderValue,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("X", "a\x01").finish(); }},
    {"leading space in value", Error::InvalidHeaderValue,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("X", " a").finish(); }},
    {"reserved Content-Length", Error::ReservedHeader,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Post, "/").header("content-length", "5").body(std::string_view("hello")); }},
    {"reserved Host", Error::ReservedHeader,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").header("HOST", "evil").finish(); }},
    {"path without slash", Error::InvalidPath,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "x").finish(); }},
    {"space in path", Error::InvalidPath,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/a b").finish(); }},
    {"fragment in path", Error::InvalidPath,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/a#b").finish(); }},
    {"empty path", Error::InvalidPath,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "").finish(); }},
    {"unnamed method", Error::BadMethod,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Other, "/").finish(); }},
    {"body larger than buffer", Error::BufferFull,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Post, "/").body(std::string(300, 'x')); }},
    {"in-place body claims too much", Error::BufferFull,
     [](const RequestWriter& w, WriteBuf& o) {
       return w.start(o, Method::Post, "/").body_in_place([](std::span<std::uint8_t> s) { return s.size() + 1; });
     }},
    {"fixed body larger than buffer", Error::BufferFull,
     [](const RequestWriter& w, WriteBuf& o) {
       return w.start(o, Method::Post, "/").body_fixed(1000, [](std::span<std::uint8_t>) { ADD_FAILURE(); });
     }},
    {"query larger than buffer", Error::BufferFull,
     [](const RequestWriter& w, WriteBuf& o) { return w.start(o, Method::Get, "/").query("k", std::string(100, '/')).finish(); }},
};

TEST(RequestWriter, OneTestPerErrorCauseAndReuse) {
  RequestWriter w = make_writer();
  for (const ErrorCase& c : kErrors) {
    SCOPED_TRACE(c.name);
    WriteBuf out(256);
    ASSERT_TRUE(out.append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("prev"), 4)));
    WriteResult r = c.build(w, out);
    EXPECT_EQ(name(r.error), name(c.error));
    EXPECT_TRUE(r.bytes.empty());
    EXPECT_EQ(str(out.data()), "prev") << "failed request must leave the buffer as it was";
    WriteResult again = w.start(out, Method::Get, "/ok").finish();
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(str(out.data()).starts_with("prevGET /api/v3/ok HTTP/1.1\r\n"));
  }
}

// The validators check eight bytes at a time; every bad byte must be caught
// at every position of a long value or path, and good bytes must pass.
TEST(RequestWriter, ValidatorsCatchEveryByteAtEveryPosition) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  for (std::size_t at = 0; at < 21; ++at) {
    for (int b = 0; b < 256; ++b) {
      std::string v(21, 'v');
      v[at] = static_cast<char>(b);
      const bool edge = at == 0 || at == 20;
      Error want = Error::None;
      if (b == '\r' || b == '\n' || b == 0) want = Error::CrlfInjection;
      else if ((b < 0x20 && b != '\t') || b == 0x7F) want = Error::InvalidHeaderValue;
      else if ((b == ' ' || b == '\t') && edge) want = Error::InvalidHeaderValue;
      out.clear();
      EXPECT_EQ(name(w.start(out, Method::Get, "/").header("X", v).finish().error), name(want))
          << "value byte " << b << " at " << at;

      std::string path = "/" + std::string(20, 'p');
      path[at == 0 ? 1 : at] = static_cast<char>(b);
      Error want_path = Error::None;
      if (b == '\r' || b == '\n' || b == 0) want_path = Error::CrlfInjection;
      else if (b <= 0x20 || b >= 0x7F || b == '#') want_path = Error::InvalidPath;
      out.clear();
      EXPECT_EQ(name(w.start(out, Method::Get, path).finish().error), name(want_path))
          << "path byte " << b << " at " << at;

      std::string n(21, 'n');
      n[at] = static_cast<char>(b);
      Error want_name = is_token_char(static_cast<std::uint8_t>(b)) ? Error::None
                        : (b == '\r' || b == '\n' || b == 0) ? Error::CrlfInjection
                                                            : Error::InvalidHeaderName;
      out.clear();
      EXPECT_EQ(name(w.start(out, Method::Get, "/").header(n, "v").finish().error), name(want_name))
          << "name byte " << b << " at " << at;
    }
  }
}

// The value and path checks read short strings as overlapping words and
// long ones as overlapping vectors: every length 1..40 (each branch and
// boundary), every position, every byte value.
TEST(RequestWriter, ValidatorsAtEveryLength) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string v(len, 'v');
        v[at] = static_cast<char>(b);
        const bool edge = at == 0 || at == len - 1;
        Error want = Error::None;
        if (b == '\r' || b == '\n' || b == 0) want = Error::CrlfInjection;
        else if ((b < 0x20 && b != '\t') || b == 0x7F) want = Error::InvalidHeaderValue;
        else if ((b == ' ' || b == '\t') && edge) want = Error::InvalidHeaderValue;
        out.clear();
        ASSERT_EQ(name(w.start(out, Method::Get, "/").header("X", v).finish().error), name(want))
            << "value byte " << b << " at " << at << " of " << len;

        if (at == 0) continue;  // the path's first byte is its '/'
        std::string path = "/" + std::string(len - 1, 'p');
        path[at] = static_cast<char>(b);
        Error want_path = Error::None;
        if (b == '\r' || b == '\n' || b == 0) want_path = Error::CrlfInjection;
        else if (b <= 0x20 || b >= 0x7F || b == '#') want_path = Error::InvalidPath;
        out.clear();
        WriteResult r = w.start(out, Method::Get, path).query("k", "v").finish();
        ASSERT_EQ(name(r.error), name(want_path)) << "path byte " << b << " at " << at << " of " << len;
        if (r.ok()) {
          // query() extends a path that has its own '?' with '&'.
          const std::string line = str(r.bytes).substr(0, str(r.bytes).find(" HTTP/1.1"));
          EXPECT_EQ(line, "GET /api/v3" + path + (b == '?' ? "&" : "?") + "k=v")
              << "byte " << b << " at " << at << " of " << len;
        }
      }
    }
  }
}

// Field names are checked as letters/digits/'-' 16 bytes at a time, then
// byte by byte against the tchar table: every length 1..40, every position,
// every byte value.
TEST(RequestWriter, NamesAtEveryLength) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string n(len, 'n');
        n[at] = static_cast<char>(b);
        const Error want = is_token_char(static_cast<std::uint8_t>(b)) ? Error::None
                           : (b == '\r' || b == '\n' || b == 0)        ? Error::CrlfInjection
                                                                       : Error::InvalidHeaderName;
        out.clear();
        WriteResult r = w.start(out, Method::Get, "/").header(n, "v").finish();
        ASSERT_EQ(name(r.error), name(want)) << "name byte " << b << " at " << at << " of " << len;
        if (r.ok()) {
          EXPECT_NE(str(r.bytes).find("\r\n" + n + ": v\r\n"), std::string::npos);
        }
      }
    }
  }
}

// Names as long as Host, Content-Length or Transfer-Encoding take the exact
// reserved-name check; only those three are refused.
TEST(RequestWriter, OnlyTheReservedNamesAreRefused) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  for (const char* n : {"Date", "Accept-Charset", "If-Modified-Since", "X_Y.z", "a", "ab"}) {
    out.clear();
    EXPECT_TRUE(w.start(out, Method::Get, "/").header(n, "v").finish().ok()) << n;
  }
  for (const char* n : {"hOsT", "CONTENT-length", "Transfer-encoding"}) {
    out.clear();
    EXPECT_EQ(w.start(out, Method::Get, "/").header(n, "v").finish().error,
              Error::ReservedHeader) << n;
  }
}

TEST(RequestWriter, EveryMethodNamesItself) {
  RequestWriter w = make_writer();
  WriteBuf out(1024);
  for (int m = 0; m < static_cast<int>(Method::Other); ++m) {
    const auto method = static_cast<Method>(m);
    out.clear();
    WriteResult r = w.start(out, method, "/x").finish();
    ASSERT_TRUE(r.ok()) << m;
    EXPECT_TRUE(str(r.bytes).starts_with(std::string(method_name(method)) +
                                         " /api/v3/x HTTP/1.1\r\nHost: "))
        << str(r.bytes);
  }
  for (int m : {static_cast<int>(Method::Other), 10, 255}) {
    out.clear();
    EXPECT_EQ(w.start(out, static_cast<Method>(m), "/x").finish().error, Error::BadMethod);
  }
}

// A message fits when the spare space holds exactly its bytes; one byte less
// is BufferFull with the buffer as it was, at every capacity and whichever
// step runs out.
TEST(RequestWriter, BufferFullAtEveryCapacity) {
  RequestWriter w = make_writer();
  const std::string body(105, 'b');
  using Build = WriteResult (*)(const RequestWriter&, WriteBuf&, const std::string&);
  const Build builds[] = {
      [](const RequestWriter& w, WriteBuf& o, const std::string& b) {
        return w.start(o, Method::Post, "/order").header("Content-Type", "application/json").body(b);
      },
      [](const RequestWriter& w, WriteBuf& o, const std::string& b) {
        return w.start(o, Method::Post, "/order").body(b);
      },
      [](const RequestWriter& w, WriteBuf& o, const std::string&) {
        return w.start(o, Method::Patch, "/order").body(std::string_view("hi"));
      },
      [](const RequestWriter& w, WriteBuf& o, const std::string&) {
        return w.start(o, Method::Get, "/t").query("symbol", "BTC USD").header("Accept", "*/*").finish();
      },
      [](const RequestWriter& w, WriteBuf& o, const std::string&) {
        return w.start(o, Method::Post, "/t").query("a", "1").finish();
      },
      [](const RequestWriter& w, WriteBuf& o, const std::string& b) {
        return w.start(o, Method::Put, "/t").header("X", "y").body_fixed(b.size(), [&](std::span<std::uint8_t> s) {
          std::memcpy(s.data(), b.data(), s.size());
        });
      },
  };
  for (std::size_t i = 0; i < std::size(builds); ++i) {
    WriteBuf big(4096);
    const WriteResult full = builds[i](w, big, body);
    ASSERT_TRUE(full.ok()) << i;
    const std::string want = str(full.bytes);
    for (std::size_t room = 0; room <= want.size() + 2; ++room) {
      WriteBuf out(4 + room);
      ASSERT_TRUE(out.append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("prev"), 4)));
      const WriteResult r = builds[i](w, out, body);
      if (room >= want.size()) {
        ASSERT_TRUE(r.ok()) << i << " room " << room << ": " << name(r.error);
        EXPECT_EQ(str(r.bytes), want);
        EXPECT_EQ(str(out.data()), "prev" + want);
      } else {
        ASSERT_EQ(name(r.error), name(Error::BufferFull)) << i << " room " << room;
        EXPECT_EQ(str(out.data()), "prev") << i << " room " << room;
      }
    }
  }
}

TEST(RequestWriter, CreateRejectsBadOptions) {
  EXPECT_FALSE(RequestWriter::create({.host = "a\r\nb"}).ok());
  EXPECT_FALSE(RequestWriter::create({.host = ""}).ok());
  EXPECT_FALSE(RequestWriter::create({.host = "h", .base_path = "api"}).ok());
  EXPECT_FALSE(RequestWriter::create({.host = "h", .default_headers = {{"Bad Name", "v"}}}).ok());
  EXPECT_FALSE(RequestWriter::create({.host = "h", .default_headers = {{"Transfer-Encoding", "chunked"}}}).ok());
  auto st = RequestWriter::create({.host = "h", .default_headers = {{"X", "a\nb"}}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.status().message()).find("CrlfInjection"), std::string::npos);
}

TEST(ResponseWriter, ExactBytesAndFraming) {
  auto w = ResponseWriter::create({.default_headers = {{"Server", "tern"}}});
  ASSERT_TRUE(w.ok());
  WriteBuf out(1024);
  WriteResult r = w->start(out, 200).header("Content-Type", "text/plain").body(std::string_view("hi"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(str(r.bytes),
            "HTTP/1.1 200 OK\r\nServer: tern\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
  out.clear();
  r = w->start(out, 101).header("Upgrade", "websocket").header("Connection", "Upgrade").finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(str(r.bytes),
            "HTTP/1.1 101 Switching Protocols\r\nServer: tern\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n\r\n");
  out.clear();
  r = w->start(out, 404, "Nope").finish();
  EXPECT_EQ(str(r.bytes), "HTTP/1.1 404 Nope\r\nServer: tern\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  EXPECT_EQ(w->start(out, 99).finish().error, Error::InvalidStatus);
  EXPECT_EQ(w->start(out, 600).finish().error, Error::InvalidStatus);
  EXPECT_EQ(w->start(out, 200, "O\r\nK").finish().error, Error::CrlfInjection);
  EXPECT_TRUE(out.empty());
}

// --- round trips ---

std::string random_token(std::mt19937_64& rng, std::size_t max_len) {
  static constexpr std::string_view kChars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
  std::string s(1 + rng() % max_len, 'x');
  for (char& c : s) c = kChars[rng() % kChars.size()];
  return s;
}

std::string random_value(std::mt19937_64& rng, std::size_t max_len) {
  std::string s(rng() % (max_len + 1), 'x');
  for (char& c : s) {
    const int k = static_cast<int>(rng() % 100);
    c = k < 90 ? static_cast<char>(0x21 + rng() % 94)
               : k < 95 ? ' ' : k < 97 ? '\t' : static_cast<char>(0x80 + rng() % 128);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

// RFC 9110 §9.3.2: the reply to HEAD carries the GET's Content-Length and no
// content; §8.6: a 304 may carry the 200's, 1xx and 204 none.
TEST(ResponseWriter, HeadOnlyWritesLengthWithoutContent) {
  auto w = ResponseWriter::create({.default_headers = {{"Server", "tern"}}});
  ASSERT_TRUE(w.ok());
  WriteBuf out(1024);
  WriteResult r =
      w->start(out, 200).header("Content-Type", "application/json").head_only(60);
  ASSERT_TRUE(r.ok()) << name(r.error);
  EXPECT_EQ(str(r.bytes),
            "HTTP/1.1 200 OK\r\nServer: tern\r\nContent-Type: application/json\r\n"
            "Content-Length: 60\r\n\r\n");
  out.clear();
  r = w->start(out, 304).header("ETag", "\"v1\"").head_only(1234567);
  ASSERT_TRUE(r.ok()) << name(r.error);
  EXPECT_EQ(str(r.bytes),
            "HTTP/1.1 304 Not Modified\r\nServer: tern\r\nETag: \"v1\"\r\n"
            "Content-Length: 1234567\r\n\r\n");
  out.clear();
  r = w->start(out, 200).head_only(0);
  EXPECT_EQ(str(r.bytes), "HTTP/1.1 200 OK\r\nServer: tern\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  // No Content-Length on 1xx or 204; earlier errors win and nothing stays.
  EXPECT_EQ(w->start(out, 204).head_only(5).error, Error::InvalidStatus);
  EXPECT_EQ(w->start(out, 101).header("Upgrade", "websocket").head_only(5).error,
            Error::InvalidStatus);
  EXPECT_EQ(w->start(out, 200).header("Content-Length", "5").head_only(5).error,
            Error::ReservedHeader);
  EXPECT_EQ(w->start(out, 200, "O\nK").head_only(5).error, Error::CrlfInjection);
  EXPECT_TRUE(out.empty());
  WriteBuf tiny(40);
  EXPECT_EQ(w->start(tiny, 200).head_only(5).error, Error::BufferFull);
  EXPECT_TRUE(tiny.empty());
}

// The HEAD reply read back by a ResponseReader told the method: no body,
// keep-alive intact, and the response after it (to a GET) parses from the
// same buffer. Every cut of the two responses into two reads.
TEST(RoundTrip, HeadOnlyReplyThenNextResponse) {
  auto w = ResponseWriter::create({});
  ASSERT_TRUE(w.ok());
  WriteBuf out(1024);
  WriteResult head = w->start(out, 200).header("Content-Type", "text/plain").head_only(11);
  ASSERT_TRUE(head.ok());
  const std::string first = str(head.bytes);
  out.clear();
  WriteResult get = w->start(out, 200).header("Content-Type", "text/plain").body(std::string_view("hello world"));
  ASSERT_TRUE(get.ok());
  const std::string wire = first + str(get.bytes);
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    SCOPED_TRACE("cut=" + std::to_string(cut));
    ReadBuf in(1024);
    std::memcpy(in.spare().data(), wire.data(), cut);
    ASSERT_TRUE(in.commit(cut));
    ResponseReader reader;
    reader.set_request_method(Method::Head);
    bool rest_fed = false;
    auto feed_rest = [&] {
      ASSERT_FALSE(rest_fed);
      std::memcpy(in.spare().data(), wire.data() + cut, wire.size() - cut);
      ASSERT_TRUE(in.commit(wire.size() - cut));
      rest_fed = true;
    };
    Progress p = reader.next(in);
    if (p == Progress::NeedMore) {
      ASSERT_LT(cut, first.size());
      feed_rest();
      p = reader.next(in);
    }
    ASSERT_EQ(p, Progress::Complete) << name(reader.error());
    EXPECT_EQ(reader.status(), 200);
    EXPECT_EQ(reader.headers().get("content-length"), "11");
    EXPECT_TRUE(reader.body().empty());
    EXPECT_TRUE(reader.keep_alive());
    EXPECT_EQ(reader.message_size(), first.size());
    reader.consume(in);
    reader.set_request_method(Method::Get);
    p = reader.next(in);
    if (p == Progress::NeedMore) {
      feed_rest();
      p = reader.next(in);
    }
    ASSERT_EQ(p, Progress::Complete) << name(reader.error());
    EXPECT_EQ(reader.body(), "hello world");
    EXPECT_TRUE(reader.keep_alive());
    reader.consume(in);
    EXPECT_TRUE(in.empty());
    // Had the reader believed the GET-sized length, it would have taken the
    // second response's head as body: the method is what frames the reply.
  }
}

// Content-Length digits at every width boundary (short lengths take a
// table path, longer ones std::to_chars).
TEST(RequestWriter, ContentLengthDigitsAtEveryWidth) {
  RequestWriter w = make_writer();
  for (std::size_t n : {0, 1, 9, 10, 99, 100, 105, 999, 1000, 4321, 9999, 10000, 65535, 123456,
                        1234567}) {
    const std::string body(n, 'b');
    for (int how = 0; how < 3; ++how) {
      WriteBuf out(2000000);
      WriteResult r;
      if (how == 0) {
        r = w.start(out, Method::Post, "/x").body_fixed(n, [](std::span<std::uint8_t> s) {
          std::memset(s.data(), 'b', s.size());
        });
      } else if (how == 1) {
        r = w.start(out, Method::Post, "/x").header("A", "b").body(body);
      } else {
        r = w.start(out, Method::Post, "/x").body_in_place([&](std::span<std::uint8_t> s) {
          std::memcpy(s.data(), body.data(), n);
          return n;
        });
      }
      ASSERT_TRUE(r.ok()) << n << " " << how;
      const std::string s = str(r.bytes);
      const std::string want = "\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n";
      ASSERT_NE(s.find(want), std::string::npos) << n << " " << how;
      EXPECT_EQ(s.size(), s.find(want) + want.size() + n) << n << " " << how;
      EXPECT_EQ(s.substr(s.size() - n), body) << n << " " << how;
    }
  }
}

TEST(RoundTrip, RequestWriterToRequestReader) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  RequestWriter w = make_writer();
  const Method methods[] = {Method::Get, Method::Post, Method::Put, Method::Delete,
                            Method::Patch, Method::Head, Method::Options};
  ReadBuf in(8192);
  RequestReader reader;
  for (int i = 0; i < 2000; ++i) {
    const Method m = methods[rng() % std::size(methods)];
    std::string path = "/" + random_token(rng, 12);
    std::replace(path.begin(), path.end(), '#', '/');  // a fragment is InvalidPath
    std::string target = "/api/v3" + path;
    std::vector<std::pair<std::string, std::string>> query, fields;
    for (int q = rng() % 4; q > 0; --q) {
      std::string k = random_value(rng, 8), v = random_value(rng, 16);
      target += (query.empty() ? "?" : "&") + percent_encode(k) + "=" + percent_encode(v);
      query.emplace_back(k, v);
    }
    for (int h = rng() % 5; h > 0; --h) {
      std::string n = "X-" + random_token(rng, 10);
      fields.emplace_back(n, random_value(rng, 40));
    }
    std::string body = random_value(rng, 200);
    const int mode = static_cast<int>(rng() % 4);

    WriteBuf out(4096);
    RequestBuilder b = w.start(out, m, path);
    for (const auto& [k, v] : query) b.query(k, v);
    HeaderBuilder& hb = b;
    for (const auto& [n, v] : fields) hb.header(n, v);
    WriteResult r;
    switch (mode) {
      case 0: r = hb.body(body); break;
      case 1:
        r = hb.body_in_place([&](std::span<std::uint8_t> s) {
          std::memcpy(s.data(), body.data(), body.size());
          return body.size();
        });
        break;
      case 2:
        r = hb.body_fixed(body.size(), [&](std::span<std::uint8_t> s) {
          std::memcpy(s.data(), body.data(), body.size());
        });
        break;
      default: r = hb.finish(); body.clear(); break;
    }
    ASSERT_TRUE(r.ok()) << name(r.error);
    ASSERT_TRUE(in.spare().size() >= r.bytes.size());
    std::memcpy(in.spare().data(), r.bytes.data(), r.bytes.size());
    ASSERT_TRUE(in.commit(r.bytes.size()));
    ASSERT_EQ(reader.next(in), Progress::Complete) << name(reader.error());
    EXPECT_EQ(reader.method(), m);
    EXPECT_EQ(reader.target(), target);
    EXPECT_EQ(reader.body(), body);
    ASSERT_EQ(reader.headers().size(), 3 + fields.size() + (mode != 3 || m == Method::Post ||
                                                           m == Method::Put || m == Method::Patch));
    EXPECT_EQ(reader.headers()[0].value, "api.example.com");
    for (std::size_t f = 0; f < fields.size(); ++f) {
      EXPECT_EQ(reader.headers()[3 + f].name, fields[f].first);
      EXPECT_EQ(reader.headers()[3 + f].value, fields[f].second);
    }
    EXPECT_EQ(reader.message_size(), r.bytes.size());
    reader.consume(in);
    EXPECT_TRUE(in.empty());
  }
}

TEST(RoundTrip, ResponseWriterToResponseReader) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto w = ResponseWriter::create({.default_headers = {{"Server", "tern"}}});
  ASSERT_TRUE(w.ok());
  const int statuses[] = {101, 200, 201, 204, 301, 304, 400, 404, 429, 500, 503};
  ReadBuf in(8192);
  ResponseReader reader;
  for (int i = 0; i < 2000; ++i) {
    const int status = statuses[rng() % std::size(statuses)];
    const bool no_content = status < 200 || status == 204 || status == 304;
    std::vector<std::pair<std::string, std::string>> fields;
    for (int h = rng() % 5; h > 0; --h) fields.emplace_back("X-" + random_token(rng, 10), random_value(rng, 40));
    std::string body = no_content ? "" : random_value(rng, 300);
    WriteBuf out(4096);
    ResponseBuilder b = w->start(out, status);
    for (const auto& [n, v] : fields) b.header(n, v);
    WriteResult r = no_content ? b.finish() : (rng() % 2 ? b.body(body) : b.body_in_place([&](std::span<std::uint8_t> s) {
      std::memcpy(s.data(), body.data(), body.size());
      return body.size();
    }));
    ASSERT_TRUE(r.ok()) << name(r.error);
    std::memcpy(in.spare().data(), r.bytes.data(), r.bytes.size());
    ASSERT_TRUE(in.commit(r.bytes.size()));
    ASSERT_EQ(reader.next(in), Progress::Complete) << name(reader.error());
    EXPECT_EQ(reader.status(), status);
    EXPECT_EQ(reader.reason(), reason_phrase(status));
    EXPECT_EQ(reader.body(), body);
    EXPECT_EQ(reader.keep_alive(), status != 101);
    ASSERT_GE(reader.headers().size(), 1 + fields.size());
    for (std::size_t f = 0; f < fields.size(); ++f) {
      EXPECT_EQ(reader.headers()[1 + f].name, fields[f].first);
      EXPECT_EQ(reader.headers()[1 + f].value, fields[f].second);
    }
    EXPECT_EQ(reader.message_size(), r.bytes.size());
    reader.consume(in);
    EXPECT_TRUE(in.empty());
  }
}

}  // namespace
}  // namespace tern::http
