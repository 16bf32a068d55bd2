// libFuzzer target for FrameReader (both roles, limits, buffer capacity and
// split points all taken from the input). Invariants beyond "no crash":
//   - the same events (messages and the error cause) whether the wire bytes
//     arrive whole or in the pieces the input encodes, and never a stall with
//     a full buffer;
//   - delivered Text is valid UTF-8 (checked with the scalar reference), data
//     messages are within max_message_size, control payloads ≤ 125 bytes,
//     Close codes are valid on the wire with a UTF-8 reason;
//   - errors are sticky;
//   - accepted messages re-encoded by FrameWriter (peer role) parse back to
//     the same events.
//
// Input: [flags][max_frame:2][max_message:2][k][k piece sizes][wire bytes…]
//   flags bit 0: role (0 client, 1 server); bits 1–3: capacity index.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <vector>

#include "fuzz/check.h"
#include "core/simd/utf8.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "tests/ws/ws_test_util.h"

namespace {

using tern::ws::Opcode;
using tern::ws::ReadStatus;
using tern::ws::testing::Event;

using ::tern::fuzz::check;

std::size_t limit(const std::uint8_t* p) {
  const std::size_t v = (std::size_t{p[0]} << 8) | p[1];
  return v == 0xFFFF ? tern::ws::Limits{}.max_frame_size : v;
}

// One ReadBuf serves every feed of an input: allocating (and, under ASan,
// poisoning on free) a buffer of up to 1 MiB for each feed was most of this
// target's time. Between feeds the bytes the earlier ones may have written
// (the first `written` bytes: no feed holds more than the wire) are
// overwritten with one junk value, so a reader that looked past the bytes
// committed to it would not find an earlier feed's copy of what comes next.
void reuse(tern::ReadBuf& buf, std::size_t written) {
  buf.clear();
  const std::span<std::uint8_t> all = buf.spare();
  std::memset(all.data(), 0xBE, std::min(all.size(), written));
}

// tern::ws::testing::feed() over a caller's buffer, of which earlier feeds
// wrote at most the first `written` bytes.
std::vector<Event> feed(tern::ReadBuf& buf, std::size_t written, tern::ws::Role role,
                        tern::ws::Limits limits, const tern::ws::testing::Bytes& input,
                        const std::vector<std::size_t>& pieces, bool* stuck = nullptr) {
  reuse(buf, written);
  tern::ws::FrameReader reader(role, limits);
  std::vector<Event> events;
  std::size_t off = 0;
  for (std::size_t piece : pieces) {
    while (piece > 0) {
      const auto spare = buf.spare();
      const std::size_t k = std::min(piece, spare.size());
      if (k == 0) {
        if (stuck) *stuck = true;
        return events;
      }
      std::memcpy(spare.data(), input.data() + off, k);
      (void)buf.commit(k);
      off += k;
      piece -= k;
      if (!tern::ws::testing::drain(reader, buf, events, off)) return events;
    }
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return 0;
  static constexpr std::size_t kCapacities[] = {64, 128, 256, 1024, 4096, 65536, 1 << 17, 1 << 20};
  const auto role = (data[0] & 1) ? tern::ws::Role::Server : tern::ws::Role::Client;
  const std::size_t capacity = kCapacities[(data[0] >> 1) & 7];
  const tern::ws::Limits limits{limit(data + 1), limit(data + 3)};
  const std::size_t k = data[5] % 8;
  if (size < 6 + k) return 0;
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < k; ++i) sizes.push_back(std::size_t{data[6 + i]} + 1);
  const tern::ws::testing::Bytes wire(data + 6 + k, data + size);

  std::vector<std::size_t> pieces;
  for (std::size_t left = wire.size(), i = 0; left > 0; ++i) {
    const std::size_t n = sizes.empty() ? left : std::min(left, sizes[i % sizes.size()]);
    pieces.push_back(n);
    left -= n;
  }
  tern::ReadBuf buf(capacity);
  bool stuck_whole = false, stuck_split = false;
  const auto whole = feed(buf, 0, role, limits, wire, {wire.size()}, &stuck_whole);
  const auto split = feed(buf, wire.size(), role, limits, wire, pieces, &stuck_split);
  check(!stuck_whole && !stuck_split, "reader stalled with a full buffer");
  check(whole == split, "whole and split feeds disagree");

  for (const Event& e : whole) {
    if (e.status != ReadStatus::Message) continue;
    const auto* p = reinterpret_cast<const std::uint8_t*>(e.payload.data());
    switch (e.opcode) {
      case Opcode::Text:
        check(tern::simd::validate_utf8_scalar(p, e.payload.size()), "text not UTF-8");
        [[fallthrough]];
      case Opcode::Binary:
        check(e.payload.size() <= limits.max_message_size, "message over limit");
        check(e.payload.size() <= capacity, "message over capacity");
        break;
      case Opcode::Close:
        check(e.payload.size() != 1, "1-byte close");
        if (e.payload.size() >= 2) {
          check(tern::ws::is_valid_close_code(e.close_code), "bad close code");
          check(tern::simd::validate_utf8_scalar(p + 2, e.payload.size() - 2), "bad reason");
        } else {
          check(e.close_code == 1005, "empty close must report 1005");
        }
        [[fallthrough]];
      case Opcode::Ping:
      case Opcode::Pong:
        check(e.payload.size() <= tern::ws::kMaxControlPayload, "control over 125");
        check(e.payload.size() <= limits.max_frame_size, "frame over limit");
        break;
      default:
        check(false, "bad opcode delivered");
    }
  }

  // Sticky failure: a reader that failed keeps failing with the same cause.
  if (!whole.empty() && whole.back().status == ReadStatus::Error) {
    reuse(buf, wire.size());
    tern::ws::FrameReader reader(role, limits);
    std::vector<Event> events;
    std::size_t off = 0;
    while (off < wire.size() && !reader.failed()) {
      const std::size_t n = std::min(buf.spare().size(), wire.size() - off);
      check(n > 0, "no room and no failure");
      std::memcpy(buf.spare().data(), wire.data() + off, n);
      (void)buf.commit(n);
      off += n;
      tern::ws::testing::drain(reader, buf, events, off);
    }
    check(reader.failed() && reader.error() == whole.back().error, "error not reproduced");
    check(reader.next(buf).status == ReadStatus::Error && reader.error() == whole.back().error,
          "error not sticky");
  }

  // Re-encode what was accepted; the peer-role writer's bytes must parse back
  // to the same messages.
  const auto peer = role == tern::ws::Role::Server ? tern::ws::Role::Client : tern::ws::Role::Server;
  tern::ws::FrameWriter writer(peer);
  tern::ws::testing::Bytes again;
  std::vector<Event> accepted;
  // Sized for the message at hand (its payload plus a largest header per
  // frame), not for the capacity: most inputs are short, and zeroing a
  // capacity-sized buffer for each was most of this target's time.
  std::vector<std::uint8_t> scratch;
  for (const Event& e : whole) {
    if (e.status != ReadStatus::Message) break;
    const auto bytes = tern::ws::as_bytes(e.payload);
    // Fragment data messages at max_frame_size so the re-encoding obeys the
    // limits.
    const std::size_t step = std::max<std::size_t>(1, limits.max_frame_size);
    const std::size_t frames = std::max<std::size_t>(1, (bytes.size() + step - 1) / step);
    constexpr std::size_t kMaxHeader = 2 + 8 + 4;  // 64-bit length, mask
    scratch.resize(std::max(scratch.size(), bytes.size() + frames * kMaxHeader));
    tern::ws::EncodeResult r;
    switch (e.opcode) {
      case Opcode::Text:
      case Opcode::Binary: {
        if (bytes.size() <= step) {
          r = e.opcode == Opcode::Text ? writer.text(scratch, e.payload)
                                       : writer.binary(scratch, bytes);
          break;
        }
        std::size_t total = 0;
        for (std::size_t at = 0; at < bytes.size(); at += step) {
          const auto piece = bytes.subspan(at, std::min(step, bytes.size() - at));
          std::span<std::uint8_t> dst = std::span<std::uint8_t>(scratch).subspan(total);
          tern::ws::EncodeResult f =
              at == 0 ? writer.begin(dst, e.opcode, piece)
                      : at + step >= bytes.size() ? writer.finish(dst, piece)
                                                  : writer.continue_message(dst, piece);
          check(f.ok(), "writer refused a fragment");
          total += f.size;
        }
        r.size = total;
        break;
      }
      case Opcode::Ping: r = writer.ping(scratch, bytes); break;
      case Opcode::Pong: r = writer.pong(scratch, bytes); break;
      default:
        r = e.payload.empty()
                ? writer.close(scratch)
                : writer.close(scratch, static_cast<tern::ws::CloseCode>(e.close_code),
                               std::string_view(e.payload).substr(2));
    }
    check(r.ok(), "writer refused an accepted message");
    if (again.size() + r.size > capacity) break;  // keep within one buffer
    again.insert(again.end(), scratch.begin(), scratch.begin() + r.size);
    accepted.push_back(e);
  }
  const auto back = feed(buf, wire.size(), role, limits, again, {again.size()});
  check(back == accepted, "re-encoded messages parse differently");
  return 0;
}
