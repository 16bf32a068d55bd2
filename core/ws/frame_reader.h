// File: frame_reader.h
//
// FrameReader turns the bytes in a ReadBuf into RFC 6455 messages: Text and
// Binary messages (fragments assembled), and Ping, Pong and Close frames (which
// may arrive between the fragments of a data message, RFC 6455 §5.4). It is
// sans-IO: the caller reads from its transport into buf.spare(), commit()s,
// and calls next(buf) until it returns NeedMore.
//
//   tern::ws::FrameReader reader(tern::ws::Role::Client);
//   for (;;) {
//     auto r = reader.next(buf);
//     if (r.status == tern::ws::ReadStatus::NeedMore) break;      // read more
//     if (r.status == tern::ws::ReadStatus::Error) {
//       send_close(tern::ws::close_code(reader.error()));  // 1002/1007/1009
//       break;
//     }
//     on_message(r.message.opcode, r.message.payload);
//   }
//
// Ownership and view lifetime. The reader owns no bytes: a Message's payload
// borrows the ReadBuf. It stays valid until the next call to next() or
// reset(), or until the caller calls compact() on the buffer (commit() is
// fine). The bytes of a delivered message are consumed from the buffer at the
// start of the next next() call, never earlier, and the reader itself may
// compact() the buffer when it returns NeedMore. Between calls the caller may
// commit() and compact() (the reader keeps positions relative to data()), but
// must not consume() or clear() the buffer except together with reset(); a
// reader is used with one buffer.
//
// In place. A server-role reader unmasks payloads in place. A fragmented
// message is assembled without allocation inside the ReadBuf: each
// continuation's payload is moved down to abut the previous fragment,
// skipping frame headers and interleaved control frames, so every message is
// one contiguous span. Buffer requirement: the wire bytes of one message, from
// its first frame header to its last payload byte, including headers and any
// control frames interleaved, must fit in buf.capacity(). A frame that can
// never fit fails as soon as its header is read with Error::BufferTooSmall
// (close code 1009) instead of waiting for bytes that cannot arrive. Size the
// buffer at max_message_size plus a few KiB of headers.
//
// Checks (RFC 6455 §5): RSV bits (no extensions), reserved opcodes, masking
// per role, control frames ≤ 125 bytes with FIN, continuation ordering,
// minimal length encoding (§5.2 "the minimal number of bytes MUST be used";
// rejected like Beast does, as NonMinimalLength), 64-bit lengths with the top
// bit set, Limits taken from the header before any payload is buffered, Text
// validated incrementally as UTF-8 (fails at the first impossible byte, even
// mid-frame and across fragments), Close payload of 0 or ≥ 2 bytes with a
// valid code and a UTF-8 reason. After a Close message the reader keeps
// parsing; stopping is the session's decision.
//
// Need-more is a state: ReadStatus::NeedMore, the buffer unchanged except for
// in-place unmasking/moves of bytes already seen and a possible compact().
// Bytes are never re-examined: a trickled frame costs O(n) in total. Failure
// is sticky: every later next() returns ReadStatus::Error until reset(), and
// error()/close_code() say why.
#ifndef TERN_CORE_WS_FRAME_READER_H_
#define TERN_CORE_WS_FRAME_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "core/buf/read_buf.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"
#include "core/ws/close_code.h"
#include "core/ws/error.h"
#include "core/ws/frame.h"

namespace tern::ws {

// Reader limits, checked against frame headers before payload is buffered.
struct Limits {
  // Largest payload of a single frame (data or control).
  std::size_t max_frame_size = 16u << 20;
  // Largest assembled Text/Binary message (sum of its fragments).
  std::size_t max_message_size = 16u << 20;
};

enum class ReadStatus : std::uint8_t { Message, NeedMore, Error };

// One delivered message; payload borrows the ReadBuf (see FrameReader).
struct Message {
  std::span<const std::uint8_t> payload;  // Close: the whole payload, code included
  Opcode opcode = Opcode::Binary;         // Text, Binary, Close, Ping or Pong
  CloseCode close_code = CloseCode::NoStatus;  // Close only; NoStatus if empty

  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
  // The UTF-8 reason of a Close message (empty otherwise).
  std::string_view close_reason() const noexcept {
    if (opcode != Opcode::Close || payload.size() < 2) return {};
    return text().substr(2);
  }
};

struct ReadResult {
  ReadStatus status = ReadStatus::NeedMore;
  Message message;  // meaningful when status == ReadStatus::Message
};

class FrameReader {
 public:
  explicit FrameReader(Role role, Limits limits = {}) noexcept;

  // Returns the next message, NeedMore, or Error. Inline fast path: a whole
  // unfragmented Text/Binary frame with a ≤ 16-bit length already in the
  // buffer is unmasked and validated (masked Text in one fused pass) and
  // returned in place.
  ReadResult next(ReadBuf& buf) noexcept;

  // Forgets all state, including a failure. The caller clears the buffer.
  void reset() noexcept;

  bool failed() const noexcept { return (flags_ & kFailed) != 0; }
  // Valid once failed().
  Error error() const noexcept { return error_; }
  CloseCode close_code() const noexcept { return ws::close_code(error_); }

  Role role() const noexcept { return role_; }
  const Limits& limits() const noexcept { return limits_; }

 private:
  static constexpr std::uint8_t kInFrame = 1;  // header parsed, payload pending
  static constexpr std::uint8_t kMsgOpen = 2;  // Text/Binary message started
  static constexpr std::uint8_t kFailed = 4;

  ReadResult next_slow(ReadBuf& buf) noexcept;
  bool parse_header(ReadBuf& buf, ReadResult* out) noexcept;
  bool consume_payload(std::uint8_t* base, std::size_t avail) noexcept;
  ReadResult need_more(ReadBuf& buf, std::size_t want_end) noexcept;
  ReadResult deliver_control(std::uint8_t* base) noexcept;
  ABSL_ATTRIBUTE_COLD ReadResult fail(Error e) noexcept;

  // Configuration.
  Role role_;
  std::uint8_t mask_bit_;   // 0x80 (server) or 0 (client): the MASK bit expected
  std::uint8_t mask_len_;   // 4 or 0: masking key bytes in each header
  Limits limits_;
  std::size_t fast_limit_;  // min of both limits: one compare on the fast path
  // Fast-path Text check: unmask + validate (server) or validate (client),
  // the SIMD kernel of the ISA active at construction (simd/utf8.h).
  simd::Utf8TextKernel text_check_;

  std::uint8_t flags_ = 0;
  Error error_ = Error::MaskViolation;

  // All offsets are relative to buf.data().begin(), which only the reader
  // moves (consume at message boundaries, compact on NeedMore).
  std::size_t pos_ = 0;  // start of the next unparsed frame

  // Current frame (kInFrame).
  Opcode frame_opcode_ = Opcode::Binary;
  bool frame_fin_ = false;
  std::uint32_t mask_key_ = 0;
  std::size_t payload_start_ = 0;
  std::size_t payload_len_ = 0;
  std::size_t payload_done_ = 0;  // bytes already unmasked, moved and validated

  // Open Text/Binary message (kMsgOpen): assembled at [msg_start_, +msg_len_).
  Opcode msg_opcode_ = Opcode::Binary;
  std::size_t msg_start_ = 0;
  std::size_t msg_len_ = 0;  // bytes of completed fragments
  simd::Utf8Validator utf8_;
};

ABSL_ATTRIBUTE_ALWAYS_INLINE inline ReadResult FrameReader::next(ReadBuf& buf) noexcept {
  if (ABSL_PREDICT_TRUE(flags_ == 0)) {
    // PendingCleanup: the previous message's bytes go now, not earlier, so
    // the view we returned stayed valid until this call.
    if (pos_ != 0) {
      buf.consume(pos_);
      pos_ = 0;
    }
    const std::size_t n = buf.size();
    std::uint8_t* const p = buf.mutable_data().data();
    if (ABSL_PREDICT_TRUE(n >= 2)) {
      const std::uint8_t b0 = p[0];
      const std::uint8_t b1 = p[1];
      // One combined test: FIN, no RSV, Text or Binary (0x81/0x82), and the
      // MASK bit this role requires (RFC 6455 §5.1, §5.2). Everything else
      // (fragments, control frames, 64-bit lengths, errors) takes next_slow.
      if (static_cast<std::uint8_t>(b0 - 0x81) < 2 &&
          (b1 & 0x80) == mask_bit_) {
        std::size_t len = b1 & 0x7F;
        std::size_t hdr = 2 + mask_len_;
        bool minimal = len < 126;
        if (len == 126 && n >= 4) {
          len = (std::size_t{p[2]} << 8) | p[3];
          hdr += 2;
          minimal = len >= 126;
        }
        if (ABSL_PREDICT_TRUE(minimal && len <= fast_limit_ && hdr + len <= n)) {
          std::uint8_t* const payload = p + hdr;
          // RFC 6455 §5.3 unmasking and §8.1 UTF-8 validity of Text. A
          // server's Text payload is unmasked and validated in one pass by
          // the kernel chosen at construction (one indirect call, no reload
          // of bytes just unmasked); a client's kernel only validates and
          // ignores the key, which for it is 4 bytes of the header or of
          // the ReadBuf's front padding (readable, see read_buf.h).
          std::uint32_t key;
          std::memcpy(&key, payload - 4, 4);
          if (b0 == 0x81) {
            if (ABSL_PREDICT_FALSE(!text_check_(payload, len, key))) {
              return fail(Error::InvalidUtf8);
            }
          } else if (mask_len_ != 0) {
            simd::mask(payload, len, key);
          }
          pos_ = hdr + len;
          return {ReadStatus::Message,
                  {{payload, len}, static_cast<Opcode>(b0 & 0x0F), CloseCode::NoStatus}};
        }
      }
    } else if (n == 0) {
      // The usual end of a receive loop: everything consumed.
      return {ReadStatus::NeedMore, {}};
    }
  }
  return next_slow(buf);
}

}  // namespace tern::ws

#endif  // TERN_CORE_WS_FRAME_READER_H_
