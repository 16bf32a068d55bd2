// FrameWriter: exact bytes for the server role (RFC 6455 §5.7 examples),
// client masking checked by unmasking, every error cause, fragment typestate,
// the WriteBuf and in-place paths, and "nothing half-written".
#include "core/ws/frame_writer.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/ws/ws_test_util.h"

namespace tern::ws {
namespace {

using testing::Bytes;
using testing::bytes;

Bytes encoded(std::span<const std::uint8_t> buf, const EncodeResult& r) {
  EXPECT_TRUE(r.ok()) << name(r.error);
  return Bytes(buf.begin(), buf.begin() + r.size);
}

// Unmasks a client frame so it can be compared with the server encoding.
Bytes unmask_frame(Bytes f) {
  EXPECT_TRUE(f[1] & 0x80);
  const std::size_t len7 = f[1] & 0x7F;
  const std::size_t at = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
  std::uint8_t key[4] = {f[at], f[at + 1], f[at + 2], f[at + 3]};
  Bytes out(f.begin(), f.begin() + at);
  out[1] &= 0x7F;
  for (std::size_t i = at + 4; i < f.size(); ++i) out.push_back(f[i] ^ key[(i - at - 4) % 4]);
  return out;
}

TEST(FrameWriterTest, ServerRoleMatchesRfc6455Section57) {
  FrameWriter w(Role::Server);
  std::uint8_t buf[70000];
  EXPECT_EQ(encoded(buf, w.text(buf, "Hello")),
            (Bytes{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(buf, w.ping(buf, bytes("Hello"))),
            (Bytes{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(buf, w.begin(buf, Opcode::Text, bytes("Hel"))),
            (Bytes{0x01, 0x03, 0x48, 0x65, 0x6c}));
  EXPECT_EQ(encoded(buf, w.finish(buf, bytes("lo"))), (Bytes{0x80, 0x02, 0x6c, 0x6f}));
  Bytes b256(256, 7);
  Bytes f = encoded(buf, w.binary(buf, b256));
  EXPECT_EQ(Bytes(f.begin(), f.begin() + 4), (Bytes{0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(f.size(), 260u);
  Bytes b64k(65536, 9);
  f = encoded(buf, w.binary(buf, b64k));
  EXPECT_EQ(Bytes(f.begin(), f.begin() + 10), (Bytes{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  // Length encodings at their boundaries are minimal (RFC 6455 §5.2).
  EXPECT_EQ(w.binary(buf, Bytes(125)).size, 127u);
  EXPECT_EQ(w.binary(buf, Bytes(126)).size, 130u);
  EXPECT_EQ(w.binary(buf, Bytes(65535)).size, 65539u);
  EXPECT_EQ(w.binary(buf, Bytes(65536)).size, 65546u);
}

TEST(FrameWriterTest, ClientRoleMasksWithFreshKeys) {
  FrameWriter client(Role::Client);
  FrameWriter server(Role::Server);
  std::uint8_t a[256], b[256];
  std::set<std::uint32_t> keys;
  for (int i = 0; i < 1000; ++i) {  // crosses several pool refills
    Bytes c = encoded(a, client.text(a, "Hello"));
    ASSERT_EQ(c.size(), 11u);
    std::uint32_t k;
    std::memcpy(&k, c.data() + 2, 4);
    keys.insert(k);
    EXPECT_EQ(unmask_frame(c), encoded(b, server.text(b, "Hello")));
  }
  // 1000 draws from 2^32: a repeat is a ~1e-4 event; a counter or a stuck
  // pool would repeat or be sequential.
  EXPECT_GE(keys.size(), 999u);
}

TEST(FrameWriterTest, Close) {
  FrameWriter w(Role::Server);
  std::uint8_t buf[200];
  EXPECT_EQ(encoded(buf, w.close(buf, CloseCode::Normal, "bye")),
            (Bytes{0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
  EXPECT_EQ(encoded(buf, w.close(buf)), (Bytes{0x88, 0x00}));
  EXPECT_TRUE(w.close(buf, static_cast<CloseCode>(4000), std::string(123, 'r')).ok());
}

struct ErrorRow {
  const char* name;
  EncodeResult (*call)(FrameWriter&, std::span<std::uint8_t>);
  Error error;
};

TEST(FrameWriterTest, EveryErrorCauseWritesNothing) {
  const ErrorRow rows[] = {
      {"destination too small", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.text(d.first(6), "Hello"); }, Error::DestinationTooSmall},
      {"ping 126 bytes", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.ping(d, Bytes(126)); }, Error::ControlFrameTooLarge},
      {"pong 126 bytes", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.pong(d, Bytes(126)); }, Error::ControlFrameTooLarge},
      {"close reason 124 bytes", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.close(d, CloseCode::Normal, std::string(124, 'r')); },
       Error::CloseReasonTooLong},
      {"close 1005 on the wire", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.close(d, CloseCode::NoStatus); }, Error::InvalidCloseCode},
      {"close 5000", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.close(d, static_cast<CloseCode>(5000)); }, Error::InvalidCloseCode},
      {"close reason not UTF-8", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.close(d, CloseCode::Normal, "\xC0\xAF"); }, Error::InvalidCloseReason},
      {"continue without begin", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.continue_message(d, bytes("x")); }, Error::NoMessageInProgress},
      {"finish without begin", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.finish(d, bytes("x")); }, Error::NoMessageInProgress},
      {"begin with a control opcode", [](FrameWriter& w, std::span<std::uint8_t> d) {
         return w.begin(d, Opcode::Ping, bytes("x")); }, Error::BadOpcode},
  };
  for (Role role : {Role::Client, Role::Server}) {
    for (const ErrorRow& row : rows) {
      SCOPED_TRACE(row.name);
      FrameWriter w(role);
      std::vector<std::uint8_t> dst(512, 0xEE);
      EncodeResult r = row.call(w, dst);
      EXPECT_FALSE(r.ok());
      EXPECT_EQ(r.size, 0u);
      EXPECT_EQ(r.error, row.error);
      EXPECT_EQ(dst, std::vector<std::uint8_t>(512, 0xEE)) << "bytes were written";
    }
  }
}

TEST(FrameWriterTest, FragmentTypestate) {
  FrameWriter w(Role::Server);
  std::uint8_t buf[64];
  ASSERT_TRUE(w.begin(buf, Opcode::Binary, bytes("a")).ok());
  EXPECT_TRUE(w.message_open());
  // RFC 6455 §5.4: no other data message until this one finishes.
  EXPECT_EQ(w.text(buf, "x").error, Error::MessageInProgress);
  EXPECT_EQ(w.binary(buf, bytes("x")).error, Error::MessageInProgress);
  EXPECT_EQ(w.begin(buf, Opcode::Text, bytes("x")).error, Error::MessageInProgress);
  // Control frames may interleave.
  EXPECT_TRUE(w.ping(buf).ok());
  // A failed finish (destination too small) leaves the message open.
  EXPECT_EQ(w.finish(std::span<std::uint8_t>(buf, 1), bytes("z")).error,
            Error::DestinationTooSmall);
  EXPECT_TRUE(w.message_open());
  EXPECT_TRUE(w.continue_message(buf, bytes("b")).ok());
  EXPECT_TRUE(w.finish(buf).ok());
  EXPECT_FALSE(w.message_open());
  EXPECT_TRUE(w.text(buf, "ok").ok());
  ASSERT_TRUE(w.begin(buf, Opcode::Text, {}).ok());
  w.reset();
  EXPECT_FALSE(w.message_open());
}

TEST(FrameWriterTest, WriteBufAppendsAndCommitsOnlyOnSuccess) {
  FrameWriter w(Role::Server);
  WriteBuf out(12);
  EXPECT_TRUE(w.text(out, "Hello").ok());
  EXPECT_EQ(out.size(), 7u);
  EXPECT_EQ(w.text(out, "Hello").error, Error::DestinationTooSmall);
  EXPECT_EQ(out.size(), 7u);
  EXPECT_TRUE(w.ping(out, bytes("abc")).ok());
  EXPECT_EQ(Bytes(out.data().begin(), out.data().end()),
            (Bytes{0x81, 0x05, 'H', 'e', 'l', 'l', 'o', 0x89, 0x03, 'a', 'b', 'c'}));
}

TEST(FrameWriterTest, FrameInPlace) {
  for (Role role : {Role::Client, Role::Server}) {
    for (std::size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
      FrameWriter w(role), ref(Role::Server);
      WriteBuf out(n + 16);
      Bytes payload(n);
      for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<std::uint8_t>(i * 31);
      ASSERT_TRUE(out.append(payload));
      EncodeResult r = w.frame_in_place(out, Opcode::Binary);
      ASSERT_TRUE(r.ok());
      Bytes got(out.data().begin(), out.data().end());
      ASSERT_EQ(got.size(), r.size);
      std::vector<std::uint8_t> expect(n + 14);
      Bytes want = encoded(expect, ref.binary(expect, payload));
      EXPECT_EQ(role == Role::Client ? unmask_frame(got) : got, want);
    }
  }
  FrameWriter w(Role::Client);
  WriteBuf small(8, 2);  // headroom 2 < 6 needed by a client header
  ASSERT_TRUE(small.append(bytes("abc")));
  EXPECT_EQ(w.frame_in_place(small, Opcode::Text).error, Error::DestinationTooSmall);
  EXPECT_EQ(small.size(), 3u);
  WriteBuf big(200);
  ASSERT_TRUE(big.append(Bytes(126)));
  EXPECT_EQ(w.frame_in_place(big, Opcode::Ping).error, Error::ControlFrameTooLarge);
  EXPECT_EQ(w.frame_in_place(big, Opcode::Close).error, Error::BadOpcode);
}

TEST(CloseCodeTest, ValidityFollowsRfc6455Section74) {
  for (int c = 0; c < 65536; ++c) {
    const bool want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
                      (c >= 3000 && c <= 4999);
    ASSERT_EQ(is_valid_close_code(static_cast<std::uint16_t>(c)), want) << c;
  }
  EXPECT_EQ(name(CloseCode::ProtocolError), "ProtocolError");
  EXPECT_EQ(name(static_cast<CloseCode>(4001)), "Application");
  EXPECT_EQ(name(static_cast<CloseCode>(2000)), "Unknown");
}

TEST(ErrorTest, NamesAndCloseCodes) {
  EXPECT_EQ(name(Error::MaskViolation), "MaskViolation");
  EXPECT_EQ(name(Error::InvalidUtf8), "InvalidUtf8");
  EXPECT_EQ(close_code(Error::BadOpcode), CloseCode::ProtocolError);
  EXPECT_EQ(close_code(Error::InvalidUtf8), CloseCode::InvalidPayload);
  EXPECT_EQ(close_code(Error::InvalidCloseReason), CloseCode::InvalidPayload);
  EXPECT_EQ(close_code(Error::MessageTooLarge), CloseCode::MessageTooBig);
  EXPECT_EQ(close_code(Error::BufferTooSmall), CloseCode::MessageTooBig);
  for (int e = 0; e <= static_cast<int>(Error::NotOpen); ++e) {
    EXPECT_NE(name(static_cast<Error>(e)), "Unknown") << e;
  }
}

}  // namespace
}  // namespace tern::ws
