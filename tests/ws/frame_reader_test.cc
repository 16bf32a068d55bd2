// FrameReader: RFC 6455 §5.7 examples and other valid inputs, each fed whole,
// byte by byte, at every cut and in random splits; one test per error cause
// with its close code; UTF-8 fail-fast across fragments; limits; buffer use.
#include "core/ws/frame_reader.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/ws/ws_test_util.h"

namespace tern::ws {
namespace {

using testing::Bytes;
using testing::bytes;
using testing::cat;
using testing::error_event;
using testing::Event;
using testing::feed;
using testing::frame;
using testing::message_event;

constexpr std::uint32_t kKey = 0x3d21fa37;  // bytes 37 fa 21 3d, RFC 6455 §5.7
constexpr std::size_t kCap = 4096;

// Runs `input` through every plan and checks all agree with `expected`, that
// the last event is delivered only once the last byte has arrived (when
// `last_needs_all`), and that the reader never got stuck with a full buffer.
void expect_all_plans(Role role, const Bytes& input, const std::vector<Event>& expected,
                      Limits limits = {}, std::size_t capacity = kCap,
                      bool last_needs_all = true) {
  for (const auto& plan : testing::plans_for(input.size())) {
    bool stuck = false;
    std::vector<Event> got = feed(role, limits, input, plan.pieces, capacity, &stuck);
    ASSERT_FALSE(stuck) << plan.name;
    ASSERT_EQ(got, expected) << "plan " << plan.name;
    if (plan.name.rfind("random", 0) == 0) {
      ASSERT_EQ(feed(role, limits, input, plan.pieces, capacity, &stuck, true), expected)
          << "caller compacts, plan " << plan.name;
    }
    if (last_needs_all && !got.empty()) {
      EXPECT_EQ(got.back().fed, input.size()) << "delivered early, plan " << plan.name;
    }
  }
}

// Flips the masking of a frame sequence: used to run each RFC example in the
// other role. Only for well-formed frames with 7-bit lengths.
Bytes remask(const Bytes& in, std::optional<std::uint32_t> key) {
  Bytes out;
  std::size_t i = 0;
  while (i < in.size()) {
    const std::uint8_t b0 = in[i];
    const bool masked = in[i + 1] & 0x80;
    const std::size_t len = in[i + 1] & 0x7F;
    std::size_t p = i + 2;
    Bytes payload(in.begin() + p + (masked ? 4 : 0), in.begin() + p + (masked ? 4 : 0) + len);
    if (masked) {
      for (std::size_t j = 0; j < len; ++j) payload[j] ^= in[p + j % 4];
    }
    Bytes f = frame(b0, payload, key);
    out.insert(out.end(), f.begin(), f.end());
    i = p + (masked ? 4 : 0) + len;
  }
  return out;
}

struct Example {
  const char* name;
  Bytes wire;  // as printed in RFC 6455 §5.7
  Role role;   // the role that receives it as printed
  std::vector<Event> expected;
};

std::vector<Example> rfc_examples() {
  Bytes b256(256), b64k(65536);
  for (std::size_t i = 0; i < b256.size(); ++i) b256[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < b64k.size(); ++i) b64k[i] = static_cast<std::uint8_t>(i * 7);
  return {
      {"single-frame unmasked text", {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
       Role::Client, {message_event(Opcode::Text, "Hello")}},
      {"single-frame masked text",
       {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
       Role::Server, {message_event(Opcode::Text, "Hello")}},
      {"fragmented unmasked text",
       {0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f},
       Role::Client, {message_event(Opcode::Text, "Hello")}},
      {"unmasked ping", {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
       Role::Client, {message_event(Opcode::Ping, "Hello")}},
      {"masked pong",
       {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
       Role::Server, {message_event(Opcode::Pong, "Hello")}},
      {"256 bytes binary, 16-bit length", cat({{0x82, 0x7E, 0x01, 0x00}, b256}),
       Role::Client, {message_event(Opcode::Binary, std::string(b256.begin(), b256.end()))}},
      {"64KiB binary, 64-bit length",
       cat({{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, b64k}),
       Role::Client, {message_event(Opcode::Binary, std::string(b64k.begin(), b64k.end()))}},
  };
}

TEST(FrameReaderTest, Rfc6455Section57ExamplesAsPrinted) {
  for (const Example& ex : rfc_examples()) {
    SCOPED_TRACE(ex.name);
    expect_all_plans(ex.role, ex.wire, ex.expected, {}, 1 << 17);
  }
}

TEST(FrameReaderTest, Rfc6455Section57ExamplesInTheOtherRole) {
  for (const Example& ex : rfc_examples()) {
    if (ex.wire[1] == 0x7E || ex.wire[1] == 0x7F) continue;  // remask: 7-bit only
    SCOPED_TRACE(ex.name);
    const Role other = ex.role == Role::Client ? Role::Server : Role::Client;
    const Bytes wire =
        remask(ex.wire, other == Role::Server ? std::optional<std::uint32_t>(0xa1b2c3d4)
                                              : std::nullopt);
    expect_all_plans(other, wire, ex.expected);
    // And as printed, the other role must refuse it (RFC 6455 §5.1).
    expect_all_plans(other, ex.wire, {error_event(Error::MaskViolation)}, {}, kCap, false);
  }
}

TEST(FrameReaderTest, ValidSequences) {
  const Bytes a125(125, 'a'), b126(126, 'b');
  struct Case {
    const char* name;
    Role role;
    Bytes wire;
    std::vector<Event> expected;
  } cases[] = {
      {"empty text and binary", Role::Client, cat({frame(0x81, {}), frame(0x82, {})}),
       {message_event(Opcode::Text, ""), message_event(Opcode::Binary, "")}},
      {"125 and 126 byte boundaries", Role::Server,
       cat({frame(0x82, a125, kKey), frame(0x82, b126, kKey)}),
       {message_event(Opcode::Binary, std::string(125, 'a')),
        message_event(Opcode::Binary, std::string(126, 'b'))}},
      // RFC 6455 §5.4: control frames MAY be injected between fragments.
      {"ping and pong between fragments", Role::Server,
       cat({frame(0x01, bytes("Hel"), kKey), frame(0x89, bytes("p1"), kKey),
            frame(0x00, bytes(""), kKey), frame(0x8A, bytes("p2"), kKey),
            frame(0x80, bytes("lo \xE2\x82\xAC"), kKey), frame(0x82, bytes("x"), kKey)}),
       {message_event(Opcode::Ping, "p1"), message_event(Opcode::Pong, "p2"),
        message_event(Opcode::Text, "Hello \xE2\x82\xAC"),
        message_event(Opcode::Binary, "x")}},
      {"euro sign split across three fragments", Role::Client,
       cat({frame(0x01, bytes("\xE2")), frame(0x00, bytes("\x82")),
            frame(0x80, bytes("\xAC"))}),
       {message_event(Opcode::Text, "\xE2\x82\xAC")}},
      {"close without payload", Role::Client, frame(0x88, {}),
       {message_event(Opcode::Close, "", 1005)}},
      {"close 1000 with reason", Role::Server,
       frame(0x88, bytes("\x03\xE8" "bye \xC3\xA9"), kKey),
       {message_event(Opcode::Close, "\x03\xE8" "bye \xC3\xA9", 1000)}},
      {"close 4999 application code", Role::Client, frame(0x88, bytes("\x13\x87")),
       {message_event(Opcode::Close, "\x13\x87", 4999)}},
      {"close between fragments", Role::Client,
       cat({frame(0x02, bytes("ab")), frame(0x88, bytes("\x03\xE9")), frame(0x80, bytes("c"))}),
       {message_event(Opcode::Close, "\x03\xE9", 1001), message_event(Opcode::Binary, "abc")}},
      {"64-bit length, masked, 70000 bytes", Role::Server,
       frame(0x82, Bytes(70000, 'z'), kKey),
       {message_event(Opcode::Binary, std::string(70000, 'z'))}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_all_plans(c.role, c.wire, c.expected, {}, 1 << 17);
  }
}

// --- One test per error cause, each asserting the cause and the close code.

struct ErrorCase {
  const char* name;
  Role role;
  Bytes wire;
  Error error;
  std::vector<Event> before = {};  // messages delivered before the error
  Limits limits = {};
  std::size_t capacity = kCap;
};

void expect_error(const ErrorCase& c, CloseCode code) {
  SCOPED_TRACE(c.name);
  EXPECT_EQ(close_code(c.error), code);
  std::vector<Event> expected = c.before;
  expected.push_back(error_event(c.error));
  expect_all_plans(c.role, c.wire, expected, c.limits, c.capacity, false);
  // Sticky: feeding a valid frame afterwards changes nothing.
  ReadBuf buf(c.capacity);
  FrameReader reader(c.role, c.limits);
  std::vector<Event> got;
  Bytes wire = c.wire;
  const std::size_t k = std::min(wire.size(), buf.spare().size());
  std::memcpy(buf.spare().data(), wire.data(), k);
  (void)buf.commit(k);
  testing::drain(reader, buf, got, k);
  ASSERT_TRUE(reader.failed());
  EXPECT_EQ(reader.error(), c.error);
  EXPECT_EQ(reader.close_code(), code);
  EXPECT_EQ(reader.next(buf).status, ReadStatus::Error);
  EXPECT_EQ(reader.error(), c.error);
  reader.reset();
  buf.clear();
  EXPECT_FALSE(reader.failed());
}

TEST(FrameReaderErrorTest, MaskViolation) {
  // RFC 6455 §5.1.
  expect_error({"server gets unmasked", Role::Server, frame(0x81, bytes("hi")),
                Error::MaskViolation}, CloseCode::ProtocolError);
  expect_error({"client gets masked", Role::Client, frame(0x81, bytes("hi"), kKey),
                Error::MaskViolation}, CloseCode::ProtocolError);
  expect_error({"server gets unmasked ping", Role::Server, frame(0x89, {}),
                Error::MaskViolation}, CloseCode::ProtocolError);
}

TEST(FrameReaderErrorTest, ReservedBits) {
  // RFC 6455 §5.2: RSV1, RSV2, RSV3 without a negotiated extension.
  for (std::uint8_t b0 : {0xC1, 0xA1, 0x91, 0xF2, 0xC9}) {
    expect_error({"rsv", Role::Client, frame(b0, bytes("x")), Error::ReservedBits},
                 CloseCode::ProtocolError);
  }
}

TEST(FrameReaderErrorTest, BadOpcode) {
  // RFC 6455 §5.2: 0x3-0x7 and 0xB-0xF are reserved.
  for (std::uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    expect_error({"reserved opcode", Role::Client, frame(0x80 | op, {}), Error::BadOpcode},
                 CloseCode::ProtocolError);
  }
}

TEST(FrameReaderErrorTest, ControlFrameTooLarge) {
  // RFC 6455 §5.5: ≤ 125 bytes; fails on the length byte alone.
  for (std::uint8_t op : {0x88, 0x89, 0x8A}) {
    expect_error({"126-byte control", Role::Client, frame(op, Bytes(126, 'a')),
                  Error::ControlFrameTooLarge}, CloseCode::ProtocolError);
  }
}

TEST(FrameReaderErrorTest, FragmentedControl) {
  // RFC 6455 §5.5: control frames MUST NOT be fragmented.
  expect_error({"ping without FIN", Role::Client, frame(0x09, bytes("a")),
                Error::FragmentedControl}, CloseCode::ProtocolError);
  expect_error({"close without FIN", Role::Server, frame(0x08, {}, kKey),
                Error::FragmentedControl}, CloseCode::ProtocolError);
}

TEST(FrameReaderErrorTest, UnexpectedContinuation) {
  // RFC 6455 §5.4.
  expect_error({"continuation first", Role::Client, frame(0x80, bytes("a")),
                Error::UnexpectedContinuation}, CloseCode::ProtocolError);
  expect_error({"continuation after a whole message", Role::Client,
                cat({frame(0x81, bytes("a")), frame(0x00, bytes("b"))}),
                Error::UnexpectedContinuation, {message_event(Opcode::Text, "a")}},
               CloseCode::ProtocolError);
}

TEST(FrameReaderErrorTest, ExpectedContinuation) {
  // RFC 6455 §5.4: a new data message while one is open.
  expect_error({"text inside text", Role::Client,
                cat({frame(0x01, bytes("a")), frame(0x81, bytes("b"))}),
                Error::ExpectedContinuation}, CloseCode::ProtocolError);
  expect_error({"binary inside text after a ping", Role::Server,
                cat({frame(0x01, bytes("a"), kKey), frame(0x89, {}, kKey),
                     frame(0x02, bytes("b"), kKey)}),
                Error::ExpectedContinuation, {message_event(Opcode::Ping, "")}},
               CloseCode::ProtocolError);
}

TEST(FrameReaderErrorTest, NonMinimalLength) {
  // RFC 6455 §5.2: "the minimal number of bytes MUST be used".
  expect_error({"16-bit 5", Role::Client, frame(0x82, bytes("hello"), std::nullopt, 2),
                Error::NonMinimalLength}, CloseCode::ProtocolError);
  expect_error({"16-bit 125", Role::Client, frame(0x82, Bytes(125), std::nullopt, 2),
                Error::NonMinimalLength}, CloseCode::ProtocolError);
  expect_error({"64-bit 5", Role::Client, frame(0x82, bytes("hello"), std::nullopt, 8),
                Error::NonMinimalLength}, CloseCode::ProtocolError);
  expect_error({"64-bit 65535", Role::Server, frame(0x82, Bytes(65535), kKey, 8),
                Error::NonMinimalLength}, CloseCode::ProtocolError);
}

TEST(FrameReaderErrorTest, LengthTopBitSet) {
  // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
  expect_error({"top bit", Role::Client, {0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1},
                Error::LengthTopBitSet}, CloseCode::ProtocolError);
}

TEST(FrameReaderErrorTest, InvalidClosePayload) {
  // RFC 6455 §5.5.1: a body, if present, starts with a 2-byte code.
  expect_error({"1-byte close", Role::Client, frame(0x88, bytes("\x03")),
                Error::InvalidClosePayload}, CloseCode::ProtocolError);
}

TEST(FrameReaderErrorTest, InvalidCloseCode) {
  // RFC 6455 §7.4.1/§7.4.2: reserved, local-only and undefined codes.
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    Bytes body{static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)};
    expect_error({"bad code", Role::Client, frame(0x88, body), Error::InvalidCloseCode},
                 CloseCode::ProtocolError);
  }
}

TEST(FrameReaderErrorTest, InvalidUtf8) {
  // RFC 6455 §8.1.
  expect_error({"overlong", Role::Client, frame(0x81, bytes("a\xC0\x80")),
                Error::InvalidUtf8}, CloseCode::InvalidPayload);
  expect_error({"truncated at FIN", Role::Server, frame(0x81, bytes("a\xE2\x82"), kKey),
                Error::InvalidUtf8}, CloseCode::InvalidPayload);
  expect_error({"truncated at the last fragment", Role::Client,
                cat({frame(0x01, bytes("\xF0\x9F")), frame(0x80, bytes("\x98"))}),
                Error::InvalidUtf8}, CloseCode::InvalidPayload);
}

TEST(FrameReaderErrorTest, InvalidCloseReason) {
  expect_error({"bad reason", Role::Client, frame(0x88, bytes("\x03\xE8\xFF")),
                Error::InvalidCloseReason}, CloseCode::InvalidPayload);
  expect_error({"truncated reason", Role::Server, frame(0x88, bytes("\x03\xE8\xE2\x82"), kKey),
                Error::InvalidCloseReason}, CloseCode::InvalidPayload);
}

TEST(FrameReaderErrorTest, FrameTooLarge) {
  Limits limits{100, 1000};
  expect_error({"101 > 100", Role::Client, frame(0x82, Bytes(101)), Error::FrameTooLarge,
                {}, limits}, CloseCode::MessageTooBig);
  expect_error({"continuation 101 > 100", Role::Client,
                cat({frame(0x02, Bytes(100)), frame(0x80, Bytes(101))}),
                Error::FrameTooLarge, {}, limits}, CloseCode::MessageTooBig);
}

TEST(FrameReaderErrorTest, MessageTooLarge) {
  Limits limits{1000, 100};
  expect_error({"single frame", Role::Client, frame(0x82, Bytes(101)), Error::MessageTooLarge,
                {}, limits}, CloseCode::MessageTooBig);
  expect_error({"60 + 41 fragments", Role::Server,
                cat({frame(0x02, Bytes(60), kKey), frame(0x89, {}, kKey),
                     frame(0x80, Bytes(41), kKey)}),
                Error::MessageTooLarge, {message_event(Opcode::Ping, "")}, limits},
               CloseCode::MessageTooBig);
}

TEST(FrameReaderErrorTest, BufferTooSmall) {
  expect_error({"frame larger than the buffer", Role::Client, frame(0x82, Bytes(200)),
                Error::BufferTooSmall, {}, {}, 128}, CloseCode::MessageTooBig);
  // Fragments whose wire bytes (headers included) exceed the capacity.
  expect_error({"fragments overflow", Role::Client,
                cat({frame(0x02, Bytes(60)), frame(0x00, Bytes(60)), frame(0x80, Bytes(10))}),
                Error::BufferTooSmall, {}, {}, 128}, CloseCode::MessageTooBig);
}

// Fail fast: the error comes as soon as the deciding byte arrives, before the
// rest of the frame (RFC 6455 §8.1 for UTF-8; limits before buffering).
TEST(FrameReaderTest, FailsFastOnIncompleteFrames) {
  struct Case {
    const char* name;
    Role role;
    Limits limits;
    Bytes wire;     // full frame
    std::size_t decisive;  // bytes after which the error must be reported
    Error error;
  } cases[] = {
      {"bad UTF-8 early in a 300-byte frame", Role::Client, {},
       frame(0x81, cat({bytes("ab\xC0"), Bytes(297, 'a')})), 4 + 3, Error::InvalidUtf8},
      {"bad UTF-8 early, masked", Role::Server, {},
       frame(0x81, cat({bytes("ab\xED\xA0"), Bytes(296, 'a')}), kKey), 8 + 4,
       Error::InvalidUtf8},
      {"bad UTF-8 in the second fragment", Role::Client, {},
       cat({frame(0x01, bytes("ok")), frame(0x80, cat({bytes("\xF4\x90"), Bytes(200, 'a')}))}),
       4 + 4 + 2, Error::InvalidUtf8},
      {"frame limit from the 16-bit length", Role::Client, {1000, 1000},
       frame(0x82, Bytes(3000)), 4, Error::FrameTooLarge},
      {"message limit from the 64-bit length", Role::Client, {1 << 20, 1000},
       frame(0x82, Bytes(70000)), 10, Error::MessageTooLarge},
      {"opcode from the first two bytes", Role::Client, {}, frame(0x83, Bytes(300)), 2,
       Error::BadOpcode},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Event> got = feed(c.role, c.limits, c.wire, {c.decisive - 1, 1}, 1 << 17);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].error, c.error);
    EXPECT_EQ(got[0].fed, c.decisive);
  }
}

// RFC 6455 §8.1 UTF-8 classes, at every position of a message and across
// every fragment boundary.
TEST(FrameReaderTest, InvalidUtf8ClassesAtEveryPositionAndFragmentBoundary) {
  const std::pair<const char*, std::string> bad[] = {
      {"overlong 2-byte", "\xC0\xAF"},
      {"overlong 3-byte", "\xE0\x80\xAF"},
      {"overlong 4-byte", "\xF0\x80\x80\xAF"},
      {"surrogate", "\xED\xA0\x80"},
      {"above U+10FFFF", "\xF4\x90\x80\x80"},
      {"invalid byte F5", "\xF5\x80\x80\x80"},
      {"stray continuation", "\x80"},
      {"truncated 3-byte then ASCII", "\xE2\x82" "A"},
  };
  const std::string ascii = "abcdefghijklmnop";
  for (const auto& [name, seq] : bad) {
    for (std::size_t at = 0; at <= ascii.size(); ++at) {
      const std::string msg = ascii.substr(0, at) + seq + ascii.substr(at);
      for (std::size_t split = 0; split <= msg.size(); ++split) {
        SCOPED_TRACE(std::string(name) + " at " + std::to_string(at) + " split " +
                     std::to_string(split));
        const Bytes wire = cat({frame(0x01, bytes(msg.substr(0, split)), kKey),
                                frame(0x80, bytes(msg.substr(split)), kKey)});
        const auto got = feed(Role::Server, {}, wire, {wire.size()}, kCap);
        ASSERT_EQ(got, std::vector<Event>{error_event(Error::InvalidUtf8)});
        // Byte by byte it fails at the first byte that cannot continue:
        // never after the message's last byte and never on valid prefixes.
        const auto slow = feed(Role::Server, {}, wire, std::vector<std::size_t>(wire.size(), 1), kCap);
        ASSERT_EQ(slow, got);
      }
    }
  }
  // Truncated sequences at the very end of a message fail at FIN.
  for (const std::string tail : {"\xC3", "\xE2\x82", "\xF0\x9F\x98"}) {
    for (std::size_t split = 0; split <= tail.size() + 3; ++split) {
      const std::string msg = "abc" + tail;
      const Bytes wire = cat({frame(0x01, bytes(msg.substr(0, split))),
                              frame(0x80, bytes(msg.substr(split)))});
      EXPECT_EQ(feed(Role::Client, {}, wire, {wire.size()}, kCap),
                std::vector<Event>{error_event(Error::InvalidUtf8)});
    }
  }
  // Valid multi-byte characters split at every boundary pass.
  const std::string good = "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E" "z";
  for (std::size_t s1 = 0; s1 <= good.size(); ++s1) {
    for (std::size_t s2 = s1; s2 <= good.size(); ++s2) {
      const Bytes wire = cat({frame(0x01, bytes(good.substr(0, s1))),
                              frame(0x00, bytes(good.substr(s1, s2 - s1))),
                              frame(0x80, bytes(good.substr(s2)))});
      EXPECT_EQ(feed(Role::Client, {}, wire, {wire.size()}, kCap),
                std::vector<Event>{message_event(Opcode::Text, good)});
    }
  }
}

TEST(FrameReaderTest, LimitsAtTheBoundaryPass) {
  Limits limits{100, 150};
  const Bytes wire = cat({frame(0x02, Bytes(100, 'a')), frame(0x80, Bytes(50, 'b')),
                          frame(0x82, Bytes(100, 'c'))});
  expect_all_plans(Role::Client, wire,
                   {message_event(Opcode::Binary, std::string(100, 'a') + std::string(50, 'b')),
                    message_event(Opcode::Binary, std::string(100, 'c'))},
                   limits, 512);
}

// The view lives until the next call; trailing bytes of the next frame stay
// in the buffer untouched; a delivered message is consumed on the next call.
TEST(FrameReaderTest, ViewLifetimeAndTrailingBytes) {
  ReadBuf buf(256);
  FrameReader reader(Role::Client);
  const Bytes wire = cat({frame(0x81, bytes("one")), frame(0x82, bytes("two")), Bytes{0x81}});
  std::memcpy(buf.spare().data(), wire.data(), wire.size());
  ASSERT_TRUE(buf.commit(wire.size()));
  ReadResult a = reader.next(buf);
  ASSERT_EQ(a.status, ReadStatus::Message);
  EXPECT_EQ(a.message.text(), "one");
  EXPECT_EQ(buf.size(), wire.size());  // nothing consumed yet
  ReadResult b = reader.next(buf);
  ASSERT_EQ(b.status, ReadStatus::Message);
  EXPECT_EQ(b.message.text(), "two");
  EXPECT_EQ(reader.next(buf).status, ReadStatus::NeedMore);
  ASSERT_EQ(buf.size(), 1u);  // the partial header stays
  EXPECT_EQ(buf.data()[0], 0x81);
}

TEST(FrameReaderTest, MessageAccessors) {
  ReadBuf buf(256);
  FrameReader reader(Role::Server);
  const Bytes wire = cat({frame(0x88, bytes("\x0F\xA0" "bye \xC3\xA9"), kKey),
                          frame(0x88, {}, kKey), frame(0x89, bytes("\x03\xE8"), kKey)});
  std::memcpy(buf.spare().data(), wire.data(), wire.size());
  ASSERT_TRUE(buf.commit(wire.size()));
  ReadResult r = reader.next(buf);
  ASSERT_EQ(r.status, ReadStatus::Message);
  EXPECT_EQ(r.message.opcode, Opcode::Close);
  EXPECT_EQ(to_int(r.message.close_code), 4000);
  EXPECT_EQ(r.message.close_reason(), "bye \xC3\xA9");
  EXPECT_EQ(r.message.payload.size(), 8u);
  r = reader.next(buf);
  ASSERT_EQ(r.status, ReadStatus::Message);
  EXPECT_EQ(r.message.close_code, CloseCode::NoStatus);
  EXPECT_EQ(r.message.close_reason(), "");
  r = reader.next(buf);  // a Ping whose payload looks like a close code
  ASSERT_EQ(r.status, ReadStatus::Message);
  EXPECT_EQ(r.message.opcode, Opcode::Ping);
  EXPECT_EQ(r.message.close_reason(), "");
  EXPECT_EQ(r.message.text(), "\x03\xE8");
  EXPECT_EQ(reader.next(buf).status, ReadStatus::NeedMore);
  EXPECT_TRUE(buf.empty());
}

// A buffer exactly as large as a message's wire bytes is enough, however the
// input is split: the reader compacts instead of stalling.
TEST(FrameReaderTest, ExactCapacityFragmentedMessage) {
  const Bytes wire = cat({frame(0x82, Bytes(7, 'x')),  // consumed before
                          frame(0x01, Bytes(50, 'a')), frame(0x89, bytes("p")),
                          frame(0x80, Bytes(40, 'b'))});
  const std::size_t need = wire.size() - 9;
  expect_all_plans(Role::Client, wire,
                   {message_event(Opcode::Binary, std::string(7, 'x')),
                    message_event(Opcode::Ping, "p"),
                    message_event(Opcode::Text, std::string(50, 'a') + std::string(40, 'b'))},
                   {}, need);
}

// Trickled input is processed once: bytes are not re-scanned. A 1 MiB text
// frame fed in 1-byte pieces must finish quickly even unoptimized.
TEST(FrameReaderTest, TrickleIsLinear) {
  const Bytes wire = frame(0x81, Bytes(1 << 20, 'a'), kKey);
  const auto got = feed(Role::Server, {}, wire, std::vector<std::size_t>(wire.size(), 1),
                        (1 << 20) + 64);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload.size(), 1u << 20);
}

}  // namespace
}  // namespace tern::ws
