#include "core/ws/frame_reader.h"

#include <algorithm>

namespace tern::ws {
namespace {

std::uint64_t load_be(const std::uint8_t* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

FrameReader::FrameReader(Role role, Limits limits) noexcept
    : role_(role),
      mask_bit_(role == Role::Server ? 0x80 : 0),
      mask_len_(role == Role::Server ? 4 : 0),
      limits_(limits),
      fast_limit_(std::min(limits.max_frame_size, limits.max_message_size)),
      text_check_(simd::utf8_text_kernel(role == Role::Server)) {}

void FrameReader::reset() noexcept {
  flags_ = 0;
  error_ = Error::MaskViolation;
  pos_ = payload_start_ = payload_len_ = payload_done_ = 0;
  msg_start_ = msg_len_ = 0;
  utf8_.reset();
}

ReadResult FrameReader::fail(Error e) noexcept {
  flags_ = kFailed;
  error_ = e;
  return {ReadStatus::Error, {}};
}

ReadResult FrameReader::need_more(ReadBuf& buf, std::size_t want_end) noexcept {
  // want_end: offset (from data() begin) that must become readable before we
  // can progress. If it lies beyond the capacity, no amount of reading helps.
  if (ABSL_PREDICT_FALSE(want_end > buf.capacity())) {
    return fail(Error::BufferTooSmall);
  }
  // Compact when the tail cannot hold what we wait for, or when it is cheap
  // (moving no more bytes than it reclaims keeps trickled input O(n)).
  const std::size_t front = buf.consumed_front();
  if (front != 0 &&
      (front + want_end > buf.capacity() || front >= buf.size())) {
    buf.compact();
  }
  return {ReadStatus::NeedMore, {}};
}

// Parses the header at pos_. Returns true with kInFrame set when the whole
// header is present and valid; otherwise false with *out set to NeedMore or
// Error. Checks run on as few bytes as decide them, so a bad frame fails
// before its extended length or payload arrives.
bool FrameReader::parse_header(ReadBuf& buf, ReadResult* out) noexcept {
  const std::uint8_t* const h = buf.data().data() + pos_;
  const std::size_t have = buf.size() - pos_;
  if (have < 2) {
    *out = need_more(buf, pos_ + 2);
    return false;
  }
  const std::uint8_t b0 = h[0];
  const std::uint8_t b1 = h[1];
  // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines them; tern
  // negotiates none.
  if (ABSL_PREDICT_FALSE(b0 & 0x70)) {
    *out = fail(Error::ReservedBits);
    return false;
  }
  const std::uint8_t op = b0 & 0x0F;
  const bool fin = (b0 & 0x80) != 0;
  const std::size_t len7 = b1 & 0x7F;
  switch (op) {
    case 0x0:
      // RFC 6455 §5.4: a continuation needs an open fragmented message.
      if (ABSL_PREDICT_FALSE(!(flags_ & kMsgOpen))) {
        *out = fail(Error::UnexpectedContinuation);
        return false;
      }
      break;
    case 0x1:
    case 0x2:
      // RFC 6455 §5.4: fragments of one message are not interleaved with
      // another data message.
      if (ABSL_PREDICT_FALSE(flags_ & kMsgOpen)) {
        *out = fail(Error::ExpectedContinuation);
        return false;
      }
      break;
    case 0x8:
    case 0x9:
    case 0xA:
      // RFC 6455 §5.5: control frames MUST NOT be fragmented and MUST have a
      // payload length of 125 bytes or less.
      if (ABSL_PREDICT_FALSE(!fin)) {
        *out = fail(Error::FragmentedControl);
        return false;
      }
      if (ABSL_PREDICT_FALSE(len7 > kMaxControlPayload)) {
        *out = fail(Error::ControlFrameTooLarge);
        return false;
      }
      break;
    default:
      // RFC 6455 §5.2: opcodes 3-7 and 0xB-0xF are reserved.
      *out = fail(Error::BadOpcode);
      return false;
  }
  // RFC 6455 §5.1: a server MUST close on an unmasked frame, a client on a
  // masked one.
  if (ABSL_PREDICT_FALSE((b1 & 0x80) != mask_bit_)) {
    *out = fail(Error::MaskViolation);
    return false;
  }
  const int ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const std::size_t hdr = 2 + ext + mask_len_;
  if (have < std::size_t(2 + ext)) {
    *out = need_more(buf, pos_ + hdr);
    return false;
  }
  std::uint64_t len = len7;
  if (ext == 2) {
    len = load_be(h + 2, 2);
    // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the
    // length".
    if (ABSL_PREDICT_FALSE(len < 126)) {
      *out = fail(Error::NonMinimalLength);
      return false;
    }
  } else if (ext == 8) {
    len = load_be(h + 2, 8);
    // RFC 6455 §5.2: the most significant bit MUST be 0.
    if (ABSL_PREDICT_FALSE(len >> 63)) {
      *out = fail(Error::LengthTopBitSet);
      return false;
    }
    if (ABSL_PREDICT_FALSE(len < 65536)) {
      *out = fail(Error::NonMinimalLength);
      return false;
    }
  }
  // Limits from the header, before any payload is buffered.
  if (ABSL_PREDICT_FALSE(len > limits_.max_frame_size)) {
    *out = fail(Error::FrameTooLarge);
    return false;
  }
  const bool control = (op & 0x8) != 0;
  if (!control) {
    const std::uint64_t before = op == 0 ? msg_len_ : 0;
    if (ABSL_PREDICT_FALSE(len > limits_.max_message_size - before)) {
      *out = fail(Error::MessageTooLarge);
      return false;
    }
  }
  // The frame must fit in the buffer after compaction, or we would wait
  // forever for bytes there is no room for.
  if (ABSL_PREDICT_FALSE(len > buf.capacity() ||
                         pos_ + hdr > buf.capacity() - len)) {
    *out = fail(Error::BufferTooSmall);
    return false;
  }
  if (have < hdr) {
    *out = need_more(buf, pos_ + hdr);
    return false;
  }
  frame_opcode_ = static_cast<Opcode>(op);
  frame_fin_ = fin;
  if (mask_len_ != 0) std::memcpy(&mask_key_, h + hdr - 4, 4);
  payload_start_ = pos_ + hdr;
  payload_len_ = static_cast<std::size_t>(len);
  payload_done_ = 0;
  if (op == 0x1 || op == 0x2) {
    flags_ |= kMsgOpen;
    msg_opcode_ = frame_opcode_;
    msg_start_ = payload_start_;
    msg_len_ = 0;
    utf8_.reset();
  }
  flags_ |= kInFrame;
  return true;
}

// Unmasks, moves into place and validates `avail` newly arrived payload bytes
// of the current frame. False (failed) on invalid UTF-8.
bool FrameReader::consume_payload(std::uint8_t* base, std::size_t avail) noexcept {
  std::uint8_t* const src = base + payload_start_ + payload_done_;
  if (mask_len_ != 0) simd::mask(src, avail, mask_key_, payload_done_);
  if (!is_control(frame_opcode_)) {
    // Continuation payload moves down to abut the assembled message; for the
    // first fragment dst == src.
    std::uint8_t* const dst = base + msg_start_ + msg_len_ + payload_done_;
    if (dst != src) std::memmove(dst, src, avail);
    // RFC 6455 §8.1, fail fast: validate as bytes arrive, state carried
    // across fragments by the streaming validator.
    if (msg_opcode_ == Opcode::Text && ABSL_PREDICT_FALSE(!utf8_.feed(dst, avail))) {
      fail(Error::InvalidUtf8);
      return false;
    }
  }
  payload_done_ += avail;
  return true;
}

ReadResult FrameReader::deliver_control(std::uint8_t* base) noexcept {
  const std::uint8_t* const p = base + payload_start_;
  const std::size_t n = payload_len_;
  CloseCode code = CloseCode::NoStatus;
  if (frame_opcode_ == Opcode::Close) {
    // RFC 6455 §5.5.1: an optional body starting with a 2-byte code, then a
    // UTF-8 reason; a 1-byte body cannot hold a code.
    if (ABSL_PREDICT_FALSE(n == 1)) return fail(Error::InvalidClosePayload);
    if (n >= 2) {
      const auto v = static_cast<std::uint16_t>(load_be(p, 2));
      // RFC 6455 §7.4: only codes defined for the wire.
      if (ABSL_PREDICT_FALSE(!is_valid_close_code(v))) {
        return fail(Error::InvalidCloseCode);
      }
      if (ABSL_PREDICT_FALSE(!simd::validate_utf8(p + 2, n - 2))) {
        return fail(Error::InvalidCloseReason);
      }
      code = static_cast<CloseCode>(v);
    }
  }
  return {ReadStatus::Message, {{p, n}, frame_opcode_, code}};
}

ReadResult FrameReader::next_slow(ReadBuf& buf) noexcept {
  if (ABSL_PREDICT_FALSE(flags_ & kFailed)) return {ReadStatus::Error, {}};
  // PendingCleanup (also reached from next() when the fast path declined):
  // nothing before pos_ is needed once no message is being assembled.
  if (!(flags_ & kMsgOpen) && pos_ != 0) {
    buf.consume(pos_);
    pos_ = 0;
  }
  for (;;) {
    if (!(flags_ & kInFrame)) {
      ReadResult r;
      if (!parse_header(buf, &r)) return r;
    }
    std::uint8_t* const base = buf.mutable_data().data();
    const std::size_t arrived =
        std::min(buf.size() - payload_start_, payload_len_);
    if (arrived > payload_done_ &&
        ABSL_PREDICT_FALSE(!consume_payload(base, arrived - payload_done_))) {
      return {ReadStatus::Error, {}};
    }
    if (payload_done_ < payload_len_) {
      return need_more(buf, payload_start_ + payload_len_);
    }
    flags_ &= ~kInFrame;
    pos_ = payload_start_ + payload_len_;
    if (is_control(frame_opcode_)) return deliver_control(base);
    msg_len_ += payload_len_;
    if (frame_fin_) {
      // RFC 6455 §8.1: the message must not end inside a UTF-8 sequence.
      if (msg_opcode_ == Opcode::Text && ABSL_PREDICT_FALSE(!utf8_.complete())) {
        return fail(Error::InvalidUtf8);
      }
      flags_ &= ~kMsgOpen;
      return {ReadStatus::Message,
              {{base + msg_start_, msg_len_}, msg_opcode_, CloseCode::NoStatus}};
    }
  }
}

}  // namespace tern::ws
