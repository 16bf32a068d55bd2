// File: owned_message.h
//
// OwnedMessage is a WebSocket message copied out of the connection's read
// buffer, for code that keeps messages past the next recv(). Every backend's
// recv_owned() returns one; the zero-copy recv() is the fast path.
#ifndef TERN_BACKENDS_OWNED_MESSAGE_H_
#define TERN_BACKENDS_OWNED_MESSAGE_H_

#include <string>
#include <string_view>

#include "core/ws/close_code.h"
#include "core/ws/frame.h"
#include "core/ws/frame_reader.h"

namespace tern {

struct OwnedMessage {
  ws::Opcode opcode = ws::Opcode::Binary;
  std::string payload;  // Close: the reason only
  ws::CloseCode close_code = ws::CloseCode::NoStatus;
};

inline OwnedMessage to_owned(const ws::Message& m) {
  OwnedMessage owned;
  owned.opcode = m.opcode;
  owned.close_code = m.close_code;
  const std::string_view body = m.opcode == ws::Opcode::Close ? m.close_reason() : m.text();
  owned.payload.assign(body.data(), body.size());
  return owned;
}

}  // namespace tern

#endif  // TERN_BACKENDS_OWNED_MESSAGE_H_
