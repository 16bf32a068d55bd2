// File: ws_test_util.h
//
// Helpers for the frame codec tests: a hand-written frame builder (so tests
// do not trust FrameWriter to produce their inputs, and can produce invalid
// frames), and a feeder that runs a FrameReader over bytes split by a plan
// and records what it delivered (payloads copied, since views expire).
#ifndef TERN_TESTS_WS_WS_TEST_UTIL_H_
#define TERN_TESTS_WS_WS_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/ws/frame_reader.h"
#include "tests/support/split_feed.h"

namespace tern::ws::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// One frame. `key` masks it; `length_bytes` forces 0 (7-bit), 2 or 8 length
// bytes (to build non-minimal encodings); -1 picks the minimal one.
inline Bytes frame(std::uint8_t b0, const Bytes& payload,
                   std::optional<std::uint32_t> key = std::nullopt,
                   int length_bytes = -1) {
  Bytes out{b0};
  const std::uint64_t n = payload.size();
  if (length_bytes < 0) length_bytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const std::uint8_t m = key ? 0x80 : 0;
  if (length_bytes == 0) {
    out.push_back(static_cast<std::uint8_t>(m | n));
  } else if (length_bytes == 2) {
    out.push_back(m | 126);
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    out.push_back(m | 127);
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  }
  Bytes body = payload;
  if (key) {
    std::uint8_t k[4];
    std::memcpy(k, &*key, 4);
    out.insert(out.end(), k, k + 4);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] ^= k[i % 4];
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

struct Event {
  ReadStatus status = ReadStatus::NeedMore;
  Opcode opcode = Opcode::Binary;
  std::string payload;
  std::uint16_t close_code = 0;
  Error error = Error::MaskViolation;
  std::size_t fed = 0;  // bytes fed when it was delivered (not compared)

  bool operator==(const Event& o) const {
    return status == o.status && opcode == o.opcode && payload == o.payload &&
           close_code == o.close_code && (status != ReadStatus::Error || error == o.error);
  }
};

inline std::ostream& operator<<(std::ostream& os, const Event& e) {
  if (e.status == ReadStatus::Error) return os << "Error(" << name(e.error) << ")";
  os << "Msg(op=" << int(e.opcode) << ", " << e.payload.size() << " B";
  if (e.opcode == Opcode::Close) os << ", code=" << e.close_code;
  return os << ")";
}

inline Event message_event(Opcode op, std::string payload, std::uint16_t code = 1005) {
  Event e;
  e.status = ReadStatus::Message;
  e.opcode = op;
  e.payload = std::move(payload);
  e.close_code = op == Opcode::Close ? code : 1005;
  return e;
}
inline Event error_event(Error err) {
  Event e;
  e.status = ReadStatus::Error;
  e.error = err;
  return e;
}

// Calls next() until NeedMore or Error, recording what comes out.
inline bool drain(FrameReader& reader, ReadBuf& buf, std::vector<Event>& out,
                  std::size_t fed) {
  for (;;) {
    ReadResult r = reader.next(buf);
    if (r.status == ReadStatus::NeedMore) return true;
    Event e;
    e.status = r.status;
    e.fed = fed;
    if (r.status == ReadStatus::Error) {
      e.error = reader.error();
      out.push_back(e);
      return false;
    }
    e.opcode = r.message.opcode;
    e.payload.assign(r.message.text());
    e.close_code = to_int(r.message.close_code);
    out.push_back(std::move(e));
  }
}

// Feeds `input` in the pieces of `pieces` through a ReadBuf of `capacity`.
// Stops at the first error. With caller_compacts the caller also compacts
// the buffer after every drain, which the reader must tolerate. `stuck` is set if the buffer was full while the
// reader reported NeedMore (a hang in real life).
inline std::vector<Event> feed(Role role, Limits limits, const Bytes& input,
                               const std::vector<std::size_t>& pieces,
                               std::size_t capacity, bool* stuck = nullptr,
                               bool caller_compacts = false) {
  ReadBuf buf(capacity);
  FrameReader reader(role, limits);
  std::vector<Event> events;
  std::size_t off = 0;
  for (std::size_t piece : pieces) {
    while (piece > 0) {
      auto spare = buf.spare();
      const std::size_t k = std::min(piece, spare.size());
      if (k == 0) {
        if (stuck) *stuck = true;
        return events;
      }
      std::memcpy(spare.data(), input.data() + off, k);
      (void)buf.commit(k);
      off += k;
      piece -= k;
      if (!drain(reader, buf, events, off)) return events;
      // Allowed between calls: positions are relative to data().
      if (caller_compacts) buf.compact();
    }
  }
  return events;
}

// Plans for an input: split_plans() for short inputs; for long ones whole,
// random splits and cuts near both ends (all cuts would be quadratic).
inline std::vector<tern::testing::SplitPlan> plans_for(std::size_t n,
                                                       std::uint64_t seed = 1) {
  if (n <= 600) return tern::testing::split_plans(n, seed);
  std::vector<tern::testing::SplitPlan> plans = tern::testing::split_plans(0, seed);
  plans.clear();
  plans.push_back({"whole", {n}});
  if (n <= 100000) plans.push_back({"bytewise", std::vector<std::size_t>(n, 1)});
  for (std::size_t cut = 1; cut < 40; ++cut) {
    plans.push_back({"cut@" + std::to_string(cut), {cut, n - cut}});
    plans.push_back({"cut@-" + std::to_string(cut), {n - cut, cut}});
  }
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 8; ++i) {
    tern::testing::SplitPlan p{"random seed=" + std::to_string(seed) + " #" + std::to_string(i), {}};
    std::size_t left = n;
    while (left > 0) {
      std::size_t k = 1 + rng() % std::min<std::size_t>(left, 4096);
      p.pieces.push_back(k);
      left -= k;
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

}  // namespace tern::ws::testing

#endif  // TERN_TESTS_WS_WS_TEST_UTIL_H_
