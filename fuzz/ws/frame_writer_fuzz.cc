// libFuzzer round-trip target for FrameWriter: the input is a list of writer
// operations (whole messages, fragments, control frames, close, in-place
// framing, destinations of random size) run against a small model of the
// RFC 6455 rules. Invariants: every call succeeds or fails exactly as the
// model says, a failed call writes nothing (the destination is untouched),
// and a FrameReader of the peer role parses the produced bytes back into
// exactly the messages the model expects.
//
// Input: [role][ops…], each op = [kind][len][dst_slack][payload: len bytes].
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/check.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "tests/ws/ws_test_util.h"

namespace {

using tern::ws::Error;
using tern::ws::Opcode;
using tern::ws::testing::Event;
using tern::ws::testing::message_event;

using ::tern::fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto role = (data[0] & 1) ? tern::ws::Role::Client : tern::ws::Role::Server;
  tern::ws::FrameWriter writer(role);
  std::vector<std::uint8_t> wire;
  std::vector<Event> expected;
  bool open = false;
  Opcode open_type = Opcode::Text;
  std::string assembled;
  std::vector<std::uint8_t> dst;

  std::size_t i = 1;
  while (i + 3 <= size) {
    const std::uint8_t kind = data[i] % 10;
    std::size_t len = data[i + 1];
    if (data[i] & 0x80) len *= 300;  // reach 16- and 64-bit lengths cheaply
    const std::size_t slack = data[i + 2];
    i += 3;
    std::string payload(len, 'a');
    for (std::size_t k = 0; k < len && i + k < size; ++k) {
      payload[k] = static_cast<char>(data[i + k] & 0x7F);  // ASCII: valid UTF-8
    }
    i += std::min(len, size - i);
    const auto bytes = tern::ws::as_bytes(payload);
    // Destination: sometimes too small (slack < 14 may cut the header).
    const std::size_t frame_max = len + tern::ws::kMaxHeaderSize;
    const std::size_t cap = slack < 20 ? (frame_max > slack ? frame_max - slack : 0) : frame_max + slack;
    dst.assign(cap, 0xA5);

    tern::ws::EncodeResult r;
    std::vector<Event> on_success;
    Error want = Error::DestinationTooSmall;
    bool legal = true;
    bool opens = false, closes = false;
    const std::size_t frame_len =
        tern::ws::header_size(len, role == tern::ws::Role::Client) + len;
    switch (kind) {
      case 0:
      case 1: {
        const Opcode op = kind == 0 ? Opcode::Text : Opcode::Binary;
        r = kind == 0 ? writer.text(dst, payload) : writer.binary(dst, bytes);
        if (open) legal = false, want = Error::MessageInProgress;
        on_success.push_back(message_event(op, payload));
        break;
      }
      case 2:
      case 3:
        r = writer.begin(dst, kind == 2 ? Opcode::Text : Opcode::Binary, bytes);
        if (open) legal = false, want = Error::MessageInProgress;
        opens = true;
        break;
      case 4:
        r = writer.continue_message(dst, bytes);
        if (!open) legal = false, want = Error::NoMessageInProgress;
        break;
      case 5:
        r = writer.finish(dst, bytes);
        if (!open) legal = false, want = Error::NoMessageInProgress;
        closes = true;
        break;
      case 6:
      case 7:
        r = kind == 6 ? writer.ping(dst, bytes) : writer.pong(dst, bytes);
        if (len > 125) legal = false, want = Error::ControlFrameTooLarge;
        on_success.push_back(message_event(kind == 6 ? Opcode::Ping : Opcode::Pong, payload));
        break;
      case 8: {
        const std::uint16_t code = static_cast<std::uint16_t>(1000 + slack * 16 + (len & 15));
        r = writer.close(dst, static_cast<tern::ws::CloseCode>(code), payload);
        // Close frames are checked before the destination.
        if (!tern::ws::is_valid_close_code(code)) legal = false, want = Error::InvalidCloseCode;
        else if (len > 123) legal = false, want = Error::CloseReasonTooLong;
        on_success.push_back(message_event(
            Opcode::Close,
            std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + payload,
            code));
        break;
      }
      default: {
        // In place: payload appended to an empty WriteBuf with full headroom.
        tern::WriteBuf out(len + 1);
        check(out.append(bytes), "append");
        r = writer.frame_in_place(out, Opcode::Binary);
        if (open) legal = false, want = Error::MessageInProgress;
        if (r.ok()) {
          check(r.size == frame_len && out.size() == r.size, "in-place size");
          dst.assign(out.data().begin(), out.data().end());
        }
        on_success.push_back(message_event(Opcode::Binary, payload));
        break;
      }
    }
    if (legal && kind != 9 && (kind != 8 ? frame_len : 2 + 2 + len + (role == tern::ws::Role::Client ? 4 : 0)) > cap) {
      legal = false;
      want = Error::DestinationTooSmall;
    }
    check(r.ok() == legal, "writer success differs from the model");
    if (!r.ok()) {
      check(r.error == want, "writer error differs from the model");
      check(kind == 9 || dst == std::vector<std::uint8_t>(cap, 0xA5), "failed call wrote bytes");
      continue;
    }
    wire.insert(wire.end(), dst.begin(), dst.begin() + r.size);
    if (opens) {
      open = true;
      open_type = kind == 2 ? Opcode::Text : Opcode::Binary;
      assembled = payload;
    } else if (kind == 4) {
      assembled += payload;
    } else if (closes) {
      open = false;
      expected.push_back(message_event(open_type, assembled + payload));
    }
    for (auto& e : on_success) expected.push_back(e);
    check(writer.message_open() == open, "typestate differs from the model");
  }

  const auto reader_role =
      role == tern::ws::Role::Client ? tern::ws::Role::Server : tern::ws::Role::Client;
  bool stuck = false;
  const auto got = tern::ws::testing::feed(reader_role, {}, wire, {wire.size()},
                                           wire.size() + 64, &stuck);
  check(!stuck, "reader stalled");
  check(got == expected, "reader disagrees with the writer's model");
  return 0;
}
