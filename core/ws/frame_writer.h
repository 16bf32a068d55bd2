// File: frame_writer.h
//
// FrameWriter encodes RFC 6455 frames: whole Text/Binary messages, Ping, Pong
// and Close, and fragmented messages (begin / continue_message / finish). A
// client-role writer masks every frame with a fresh key from a MaskKeyPool
// (OpenSSL RAND_bytes, batched); a server-role writer never masks (§5.1).
//
// Destinations. Each call encodes one frame into a caller span (returning
// the bytes written) or appends it to a WriteBuf; frame_in_place() instead
// frames a payload the caller already appended to an empty WriteBuf,
// prepending the header into its headroom (masking in place for a client).
// On any error nothing is written or committed and the writer's state is
// unchanged: EncodeResult::ok() is false and error says why
// (DestinationTooSmall, ControlFrameTooLarge, CloseReasonTooLong,
// InvalidCloseCode, InvalidCloseReason, MessageInProgress,
// NoMessageInProgress, BadOpcode, RandomFailure). Writer errors are never
// sticky: a caller may retry with a larger destination.
//
// Fragment typestate: begin() opens a message, continue_message() adds a
// middle fragment, finish() the last one. text()/binary()/begin() while a
// message is open fail with MessageInProgress (RFC 6455 §5.4: data messages do
// not interleave); continue_message()/finish() with none open fail with
// NoMessageInProgress. Control frames may be sent at any time.
//
// The writer does not validate outgoing Text payloads as UTF-8 (as Beast);
// Close reasons are validated. It allocates nothing; the key pool is an
// array inside the writer (about 1 KiB).
//
//   tern::ws::FrameWriter w(tern::ws::Role::Client);
//   tern::WriteBuf out(4096);
//   if (!w.text(out, "hello").ok()) { /* out too small */ }
//   ::send(fd, out.data().data(), out.data().size(), 0);
#ifndef TERN_CORE_WS_FRAME_WRITER_H_
#define TERN_CORE_WS_FRAME_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "core/buf/write_buf.h"
#include "core/simd/mask.h"
#include "core/ws/close_code.h"
#include "core/ws/error.h"
#include "core/ws/frame.h"
#include "core/ws/mask_key_pool.h"

namespace tern::ws {

struct [[nodiscard]] EncodeResult {
  std::size_t size = 0;              // bytes written; 0 on error (a frame is ≥ 2)
  Error error = Error::DestinationTooSmall;  // meaningful when !ok()
  bool ok() const noexcept { return size != 0; }
};

inline std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class FrameWriter {
 public:
  using Bytes = std::span<const std::uint8_t>;
  using Dst = std::span<std::uint8_t>;

  explicit FrameWriter(Role role) noexcept : role_(role) {}

  // Whole messages (FIN set). No message may be open.
  EncodeResult text(Dst dst, std::string_view payload) noexcept {
    return data_frame(dst, 0x81, as_bytes(payload));
  }
  EncodeResult binary(Dst dst, Bytes payload) noexcept {
    return data_frame(dst, 0x82, payload);
  }

  // Control frames (RFC 6455 §5.5): payload ≤ 125 bytes; any time.
  EncodeResult ping(Dst dst, Bytes payload = {}) noexcept {
    return control(dst, Opcode::Ping, payload);
  }
  EncodeResult pong(Dst dst, Bytes payload = {}) noexcept {
    return control(dst, Opcode::Pong, payload);
  }
  // Close with a status code (valid on the wire, RFC 6455 §7.4) and a UTF-8
  // reason of at most 123 bytes.
  EncodeResult close(Dst dst, CloseCode code, std::string_view reason = {}) noexcept;
  // Close with an empty payload (the peer sees 1005, NoStatus).
  EncodeResult close(Dst dst) noexcept { return control(dst, Opcode::Close, {}); }

  // Fragmented messages (RFC 6455 §5.4). type is Opcode::Text or ::Binary.
  EncodeResult begin(Dst dst, Opcode type, Bytes payload) noexcept;
  EncodeResult continue_message(Dst dst, Bytes payload) noexcept;
  EncodeResult finish(Dst dst, Bytes payload = {}) noexcept;

  // The same, appended to a WriteBuf (committed only on success).
  EncodeResult text(WriteBuf& out, std::string_view payload) noexcept {
    return commit(out, text(out.spare(), payload));
  }
  EncodeResult binary(WriteBuf& out, Bytes payload) noexcept {
    return commit(out, binary(out.spare(), payload));
  }
  EncodeResult ping(WriteBuf& out, Bytes payload = {}) noexcept {
    return commit(out, ping(out.spare(), payload));
  }
  EncodeResult pong(WriteBuf& out, Bytes payload = {}) noexcept {
    return commit(out, pong(out.spare(), payload));
  }
  EncodeResult close(WriteBuf& out, CloseCode code, std::string_view reason = {}) noexcept {
    return commit(out, close(out.spare(), code, reason));
  }
  EncodeResult close(WriteBuf& out) noexcept { return commit(out, close(out.spare())); }
  EncodeResult begin(WriteBuf& out, Opcode type, Bytes payload) noexcept {
    return commit(out, begin(out.spare(), type, payload));
  }
  EncodeResult continue_message(WriteBuf& out, Bytes payload) noexcept {
    return commit(out, continue_message(out.spare(), payload));
  }
  EncodeResult finish(WriteBuf& out, Bytes payload = {}) noexcept {
    return commit(out, finish(out.spare(), payload));
  }

  // Frames out.data() as one whole message of `type` (Text, Binary, Ping or
  // Pong): the header goes into out's headroom, and a client masks the
  // payload in place. out must hold nothing but this payload. On success
  // out.data() is the frame and size is its length.
  EncodeResult frame_in_place(WriteBuf& out, Opcode type) noexcept;

  bool message_open() const noexcept { return open_; }
  Role role() const noexcept { return role_; }
  // Abandons an open fragmented message (e.g. after a reconnect).
  void reset() noexcept { open_ = false; }

 private:
  static EncodeResult commit(WriteBuf& out, EncodeResult r) noexcept {
    if (r.ok()) (void)out.commit(r.size);
    return r;
  }
  ABSL_ATTRIBUTE_COLD static EncodeResult error(Error e) noexcept { return {0, e}; }

  EncodeResult data_frame(Dst dst, std::uint8_t b0, Bytes payload) noexcept {
    if (ABSL_PREDICT_FALSE(open_)) return error(Error::MessageInProgress);
    return encode(dst, b0, payload);
  }
  EncodeResult control(Dst dst, Opcode op, Bytes payload) noexcept;
  // Writes header + (masked) payload; the one place bytes are produced.
  EncodeResult encode(Dst dst, std::uint8_t b0, Bytes payload) noexcept;
  // Header for `len` bytes into p (room for kMaxHeaderSize); returns its size.
  std::size_t write_header(std::uint8_t* p, std::uint8_t b0, std::size_t len,
                           std::uint32_t key) const noexcept;

  Role role_;
  bool open_ = false;
  MaskKeyPool keys_;
};

inline std::size_t FrameWriter::write_header(std::uint8_t* p, std::uint8_t b0,
                                             std::size_t len,
                                             std::uint32_t key) const noexcept {
  const bool masked = role_ == Role::Client;
  const std::uint8_t m = masked ? 0x80 : 0;
  p[0] = b0;
  std::size_t i;
  // RFC 6455 §5.2: the minimal length encoding.
  if (len < 126) {
    p[1] = static_cast<std::uint8_t>(m | len);
    i = 2;
  } else if (len < 65536) {
    p[1] = m | 126;
    p[2] = static_cast<std::uint8_t>(len >> 8);
    p[3] = static_cast<std::uint8_t>(len);
    i = 4;
  } else {
    p[1] = m | 127;
    const std::uint64_t v = len;
    for (int k = 0; k < 8; ++k) p[2 + k] = static_cast<std::uint8_t>(v >> (56 - 8 * k));
    i = 10;
  }
  if (masked) {
    std::memcpy(p + i, &key, 4);
    i += 4;
  }
  return i;
}

inline EncodeResult FrameWriter::encode(Dst dst, std::uint8_t b0,
                                        Bytes payload) noexcept {
  const std::size_t len = payload.size();
  const bool masked = role_ == Role::Client;
  const std::size_t total = header_size(len, masked) + len;
  if (ABSL_PREDICT_FALSE(total > dst.size())) return error(Error::DestinationTooSmall);
  std::uint32_t key = 0;
  if (masked && ABSL_PREDICT_FALSE(!keys_.next(&key))) return error(Error::RandomFailure);
  std::uint8_t* const p = dst.data();
  const std::size_t h = write_header(p, b0, len, key);
  if (masked) {
    simd::mask_copy(p + h, payload.data(), len, key);
  } else if (len != 0) {
    std::memcpy(p + h, payload.data(), len);
  }
  return {total, Error::DestinationTooSmall};
}

}  // namespace tern::ws

#endif  // TERN_CORE_WS_FRAME_WRITER_H_
