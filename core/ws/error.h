// File: error.h
//
// Precise causes of WebSocket frame codec failures. A FrameReader that fails
// keeps its Error (sticky until reset()); close_code() says which status to
// put in the Close frame sent back (RFC 6455 §7.4.1): 1002 for protocol
// violations, 1007 for invalid UTF-8, 1009 for exceeded limits. FrameWriter
// errors are local (misuse, a too-small destination) and never reach the
// peer; the writer reuses the reader's causes where they mean the same
// (ControlFrameTooLarge, InvalidCloseCode, InvalidCloseReason, BadOpcode), and
// its own causes map to 1011 (InternalError). "Need more bytes" is not an
// error.
#ifndef TERN_CORE_WS_ERROR_H_
#define TERN_CORE_WS_ERROR_H_

#include <cstdint>
#include <string_view>

#include "core/ws/close_code.h"

namespace tern::ws {

enum class Error : std::uint8_t {
  // --- Reader: protocol violations by the peer (1002) ---
  MaskViolation,           // §5.1: server got an unmasked frame, client a masked one
  ReservedBits,            // §5.2: RSV1–3 set, no extension negotiated
  BadOpcode,               // §5.2: reserved opcode 3–7 or 0xB–0xF
  ControlFrameTooLarge,    // §5.5: control payload > 125 bytes
  FragmentedControl,       // §5.5: control frame without FIN
  UnexpectedContinuation,  // §5.4: continuation frame with no message open
  ExpectedContinuation,    // §5.4: new Text/Binary while a message is open
  NonMinimalLength,        // §5.2: length not in the minimal number of bytes
  LengthTopBitSet,         // §5.2: 64-bit length with its top bit set
  InvalidClosePayload,     // §5.5.1: Close payload of exactly 1 byte
  InvalidCloseCode,        // §7.4: code not allowed on the wire
  // --- Reader: invalid UTF-8 (1007) ---
  InvalidUtf8,             // §8.1: Text message is not valid UTF-8
  InvalidCloseReason,      // §5.5.1: Close reason is not valid UTF-8
  // --- Reader: limits (1009) ---
  FrameTooLarge,           // declared frame length > Limits::max_frame_size
  MessageTooLarge,         // message total > Limits::max_message_size
  BufferTooSmall,          // frame/message cannot fit in the ReadBuf capacity
  // --- Writer: local errors (1011) ---
  DestinationTooSmall,     // encoded frame does not fit the span / WriteBuf
  CloseReasonTooLong,      // reason > 123 bytes
  MessageInProgress,       // whole message or begin() while a fragmented one is open
  NoMessageInProgress,     // continue/finish without begin()
  RandomFailure,           // RAND_bytes could not produce masking keys
  // --- Connection: local errors (1011) ---
  NotOpen,                 // send on a connection that is not Open
};

// "MaskViolation", "InvalidUtf8", …: the enumerator's own name.
std::string_view name(Error e) noexcept;

// The status code to send in the Close frame for this failure.
CloseCode close_code(Error e) noexcept;

}  // namespace tern::ws

#endif  // TERN_CORE_WS_ERROR_H_
