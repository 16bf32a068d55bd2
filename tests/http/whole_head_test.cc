// The whole-head fast path against the general path. A head that is whole in
// the first next() call takes the fast path; fed as one byte and then the
// rest, the same bytes take the general path (after the first call the
// message has been looked at, so the fast path never runs for it). Random
// heads are built to put line ends, names and CRLFs on every side of the
// 64-byte block and 256-byte window boundaries, near the limits, and then
// corrupted one byte at a time: both paths must report the same outcome.
// Responses also carry obs-folds and status codes outside 100..599, which
// the fast path leaves to the general one.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/http/request_reader.h"
#include "core/http/response_reader.h"
#include "gtest/gtest.h"
#include "tests/http/feed.h"

namespace tern::http {
namespace {

using testing::Fields;
using testing::Outcome;

struct Head {
  std::string wire;
  Fields fields;
};

std::string random_token(std::mt19937& rng, std::size_t len) {
  static constexpr std::string_view kTchars =
      "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string s;
  for (std::size_t i = 0; i < len; ++i) s += kTchars[rng() % kTchars.size()];
  return s;
}

// Visible ASCII, inner SP/HTAB and obs-text; never starts or ends with OWS
// (the reader trims it, so the expected value would differ).
std::string random_value(std::mt19937& rng, std::size_t len) {
  std::string s;
  for (std::size_t i = 0; i < len; ++i) {
    const unsigned r = rng() % 100;
    char c = static_cast<char>(0x21 + rng() % 94);
    if (r < 8 && i != 0 && i + 1 != len) c = r < 6 ? ' ' : '\t';
    if (r >= 98) c = static_cast<char>(0x80 + rng() % 128);
    s += c;
  }
  return s;
}

// A response's status: mostly 200, sometimes a code outside 100..599 (read
// as sent, framed as a 5xx). Never 1xx: an interim head is skipped.
std::string random_status(std::mt19937& rng) {
  static constexpr const char* kCodes[] = {"200", "200", "200", "404", "600", "999", "000", "099"};
  return kCodes[rng() % std::size(kCodes)];
}

Head random_head(std::mt19937& rng, bool request) {
  Head h;
  h.wire = request ? "GET /" + random_token(rng, rng() % 40) + " HTTP/1.1\r\n"
                   : "HTTP/1.1 " + random_status(rng) + " " + random_value(rng, rng() % 30) +
                         "\r\n";
  const std::size_t count = rng() % 24;
  for (std::size_t i = 0; i < count; ++i) {
    // Mostly short lines (several per block), some longer than a block.
    const std::size_t name_len = 1 + rng() % (rng() % 4 == 0 ? 90 : 20);
    const std::size_t value_len = rng() % (rng() % 4 == 0 ? 150 : 40);
    std::string name = random_token(rng, name_len);
    // Framing fields would change the outcome's body handling; keep them out
    // of the structure test (they are covered by the corruption pass).
    if (name.size() == 10 || name.size() == 14 || name.size() == 17) name += 'x';
    std::string value = random_value(rng, value_len);
    const char* ows[] = {"", " ", "  ", "\t", " \t "};
    std::string wire_value = value;
    if (!request && rng() % 4 == 0) {
      // RFC 9112 §5.2: an obs-fold (OWS CRLF RWS) the reader replaces with
      // as many SP, here between two non-empty halves of the value.
      const std::string right = random_value(rng, 1 + rng() % 30);
      const char* rws[] = {" ", "\t", " \t", "   "};
      const std::string fold = std::string(ows[rng() % 5]) + "\r\n" + rws[rng() % 4];
      if (value.empty()) value = "v";
      wire_value = value + fold + right;
      value += std::string(fold.size(), ' ') + right;
    }
    h.wire += name + ":" + ows[rng() % 5] + wire_value + (value.empty() ? "" : ows[rng() % 5]) +
              "\r\n";
    h.fields.emplace_back(name, value);
  }
  if (!request) {
    // Framed, so a response completes and its fields are compared.
    h.wire += "Content-Length: 0\r\n";
    h.fields.emplace_back("Content-Length", "0");
  }
  h.wire += "\r\n";
  return h;
}

template <typename Reader>
Outcome parse(std::string_view wire, const Limits& limits, std::vector<std::size_t> pieces) {
  ReadBuf buf(wire.size() + 1);
  Reader r(limits);
  return testing::feed(r, buf, wire, wire.size(), pieces, /*eof=*/false);
}

template <typename Reader>
void check_both_paths(std::mt19937& rng, bool request) {
  int complete = 0;
  for (int round = 0; round < 3000; ++round) {
    const Head head = random_head(rng, request);
    Limits limits;
    // Limits on either side of the head's size and field count, sometimes.
    if (rng() % 3 == 0) limits.max_header_bytes = head.wire.size() - 3 + rng() % 6;
    if (rng() % 3 == 0) {
      const std::size_t k = head.fields.size() + rng() % 3;
      limits.max_headers = k > 1 ? k - 1 : 1;
    }
    std::string wire = head.wire;
    const bool corrupt = round % 2 == 1;
    if (corrupt) {
      static constexpr char kBytes[] = {'\r', '\n', '\0', ' ', '\t', ':', '\x7f', 'a', '\x80', '\x01'};
      wire[rng() % wire.size()] = kBytes[rng() % sizeof kBytes];
    }
    const Outcome whole = parse<Reader>(wire, limits, {wire.size()});
    const Outcome general = parse<Reader>(wire, limits, {1, wire.size() - 1});
    ASSERT_EQ(whole, general) << "round " << round << " wire:\n" << wire;
    if (!corrupt && whole.progress == Progress::Complete) {
      EXPECT_EQ(whole.headers, head.fields) << wire;
      ++complete;
    }
  }
  EXPECT_GT(complete, 500) << "too few heads completed to compare their fields";
}

TEST(WholeHead, ResponsesMatchTheGeneralPath) {
  std::mt19937 rng(1234);
  check_both_paths<ResponseReader>(rng, false);
}

TEST(WholeHead, RequestsMatchTheGeneralPath) {
  std::mt19937 rng(5678);
  check_both_paths<RequestReader>(rng, true);
}

// Every framing verdict the fast path takes from a field (conflicting
// Content-Length, Transfer-Encoding with Content-Length, Connection) is the
// general path's, also when a corrupt byte after them makes it decline.
TEST(WholeHead, FramingFieldsMatchTheGeneralPath) {
  const char* fields[] = {
      "Content-Length: 5\r\n", "Content-Length: 6\r\n", "content-length: 5\r\n",
      "Content-Length: x\r\n", "Transfer-Encoding: chunked\r\n",
      "Transfer-Encoding: gzip\r\n", "Connection: close\r\n",
      "Connection: keep-alive\r\n", "Connection: Upgrade, close\r\n",
      "X-Other: 1\r\n"};
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string wire = "HTTP/1." + std::to_string(rng() % 2) + " 200 OK\r\n";
    const std::size_t n = rng() % 4;
    for (std::size_t i = 0; i < n; ++i) wire += fields[rng() % std::size(fields)];
    wire += "\r\nhello0\r\n\r\n";
    if (round % 2 == 1) wire[rng() % wire.size()] = "\r\n :\t0a"[rng() % 7];
    const Outcome whole = parse<ResponseReader>(wire, {}, {wire.size()});
    const Outcome general = parse<ResponseReader>(wire, {}, {1, wire.size() - 1});
    ASSERT_EQ(whole, general) << wire;
  }
}

}  // namespace
}  // namespace tern::http
