// File: frame.h
//
// Vocabulary shared by FrameReader and FrameWriter: the RFC 6455 §5.2 opcodes,
// the endpoint role, and the size constants of the frame format. Header-only,
// no state.
#ifndef TERN_CORE_WS_FRAME_H_
#define TERN_CORE_WS_FRAME_H_

#include <cstddef>
#include <cstdint>

namespace tern::ws {

// RFC 6455 §5.2 opcodes. Values are the wire values; 3–7 and 0xB–0xF are
// reserved and rejected by the reader (no extension is ever negotiated).
enum class Opcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

// Which end of the connection this codec serves. RFC 6455 §5.1: a client
// masks every frame it sends and a server masks none; each side fails the
// connection on a frame masked the wrong way. Always explicit: there is no
// default role.
enum class Role : std::uint8_t { Client, Server };

inline constexpr bool is_control(Opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

// RFC 6455 §5.5: control frame payloads are at most 125 bytes.
inline constexpr std::size_t kMaxControlPayload = 125;
// A close payload is a 2-byte code plus a reason, so at most 123 reason bytes.
inline constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;
// 2 fixed bytes + 8-byte extended length + 4-byte masking key.
inline constexpr std::size_t kMaxHeaderSize = 14;

// Header bytes a frame of `payload` bytes needs (RFC 6455 §5.2 minimal length
// encoding), with or without the masking key.
inline constexpr std::size_t header_size(std::size_t payload,
                                         bool masked) noexcept {
  return (payload < 126 ? 2 : payload < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

}  // namespace tern::ws

#endif  // TERN_CORE_WS_FRAME_H_
