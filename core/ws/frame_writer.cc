#include "core/ws/frame_writer.h"

#include <cstring>

#include "core/simd/utf8.h"

namespace tern::ws {

EncodeResult FrameWriter::control(Dst dst, Opcode op, Bytes payload) noexcept {
  // RFC 6455 §5.5: control payloads are at most 125 bytes.
  if (ABSL_PREDICT_FALSE(payload.size() > kMaxControlPayload)) {
    return error(Error::ControlFrameTooLarge);
  }
  return encode(dst, static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op)),
                payload);
}

EncodeResult FrameWriter::close(Dst dst, CloseCode code,
                                std::string_view reason) noexcept {
  // RFC 6455 §7.4: only codes defined for the wire; §5.5.1: the reason is
  // UTF-8 and, with the 2-byte code, fits a 125-byte control payload.
  if (ABSL_PREDICT_FALSE(!is_valid_close_code(code))) return error(Error::InvalidCloseCode);
  if (ABSL_PREDICT_FALSE(reason.size() > kMaxCloseReason)) {
    return error(Error::CloseReasonTooLong);
  }
  const auto* r = reinterpret_cast<const std::uint8_t*>(reason.data());
  if (ABSL_PREDICT_FALSE(!simd::validate_utf8(r, reason.size()))) {
    return error(Error::InvalidCloseReason);
  }
  std::uint8_t body[kMaxControlPayload];
  body[0] = static_cast<std::uint8_t>(to_int(code) >> 8);
  body[1] = static_cast<std::uint8_t>(to_int(code));
  if (!reason.empty()) std::memcpy(body + 2, r, reason.size());
  return control(dst, Opcode::Close, Bytes(body, 2 + reason.size()));
}

EncodeResult FrameWriter::begin(Dst dst, Opcode type, Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(type != Opcode::Text && type != Opcode::Binary)) {
    return error(Error::BadOpcode);
  }
  if (ABSL_PREDICT_FALSE(open_)) return error(Error::MessageInProgress);
  // FIN clear: more fragments follow (RFC 6455 §5.4).
  EncodeResult r = encode(dst, static_cast<std::uint8_t>(type), payload);
  if (r.ok()) open_ = true;
  return r;
}

EncodeResult FrameWriter::continue_message(Dst dst, Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(!open_)) return error(Error::NoMessageInProgress);
  return encode(dst, 0x00, payload);
}

EncodeResult FrameWriter::finish(Dst dst, Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(!open_)) return error(Error::NoMessageInProgress);
  EncodeResult r = encode(dst, 0x80, payload);
  if (r.ok()) open_ = false;
  return r;
}

EncodeResult FrameWriter::frame_in_place(WriteBuf& out, Opcode type) noexcept {
  const std::size_t len = out.size();
  switch (type) {
    case Opcode::Text:
    case Opcode::Binary:
      if (ABSL_PREDICT_FALSE(open_)) return error(Error::MessageInProgress);
      break;
    case Opcode::Ping:
    case Opcode::Pong:
      if (ABSL_PREDICT_FALSE(len > kMaxControlPayload)) {
        return error(Error::ControlFrameTooLarge);
      }
      break;
    default:
      return error(Error::BadOpcode);
  }
  const bool masked = role_ == Role::Client;
  const std::size_t h = header_size(len, masked);
  if (ABSL_PREDICT_FALSE(out.headroom() < h)) return error(Error::DestinationTooSmall);
  std::uint32_t key = 0;
  if (masked && ABSL_PREDICT_FALSE(!keys_.next(&key))) return error(Error::RandomFailure);
  std::uint8_t* const p = out.prepend_space(h).data();
  (void)write_header(p, static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(type)),
                     len, key);
  if (masked) simd::mask(p + h, len, key);
  return {h + len, Error::DestinationTooSmall};
}

}  // namespace tern::ws
