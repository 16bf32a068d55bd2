// libFuzzer target for ws::Connection, both roles. The input is a peer's byte
// stream and a script of what the local user and transport do between its
// pieces. Invariants beyond "no crash":
//   - states move only along Connecting -> Open -> Closing -> Closed, with
//     Failed reachable from the three live states; next()'s event agrees
//     with the transition it made (None changes nothing, Open only from
//     Connecting, Closed only from Open or Closing, Failed only from a live
//     state); no event at all after Closed or Failed;
//   - failure().cause is set iff the state is Failed; a protocol failure
//     while Open names the reader's close code, one while Closing names our
//     earlier Close; ConnectionLost only after receive_eof();
//   - a Message is Text (valid UTF-8), Binary, Ping or Pong, within the
//     limits, and its view lies inside the read buffer's readable bytes;
//   - read_space() is never empty after next() returned None on a live
//     connection (a stall);
//   - everything the connection queued is its handshake message, then (only
//     after a 101) whole frames that a FrameReader of the peer's role
//     accepts, masked iff a client: every successful send, byte for byte and
//     in order, and nothing the user did not send except Pongs (each carrying
//     a user Pong's payload or, with auto_pong, that of a Ping received while
//     Open) and one Close, last, iff one was due (ours, the echo of the
//     peer's, or the failure's), with that code;
//   - a server's rejection carries failure().http_status; once everything is
//     taken, a Closed or Failed connection is finished().
//
// Input: [flags][flags2][n][n ops of 2 bytes][stream...]
//   flags bit 0: role (0 client, 1 server); bit 1: the stream includes the
//   peer's handshake message (else the harness writes a valid 101 for the
//   client's own key, or a valid upgrade request for the server); bit 2:
//   auto_pong off; bit 3: subprotocol "chat" offered/spoken; bits 4-5: write
//   buffer size; bits 6-7: limits.
//   flags2 bits 0-1: read buffer size; bit 2: EOF after the stream.
//   op: [kind][arg], kinds below (kind % 16).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/simd/utf8.h"
#include "core/url/url.h"
#include "core/ws/connection.h"
#include "core/ws/frame_reader.h"
#include "core/ws/handshake_key.h"
#include "fuzz/check.h"

namespace {

using tern::fuzz::check;
using tern::ws::CloseCode;
using tern::ws::Connection;
using tern::ws::as_bytes;
using tern::ws::EncodeResult;
using tern::ws::Event;
using tern::ws::EventType;
using tern::ws::FailureCause;
using tern::ws::Opcode;
using tern::ws::Role;
using tern::ws::State;

constexpr std::size_t kWriteSizes[] = {512, 1024, 4096, 65536};
// The first keeps the automatic read buffer (limit + 64 KiB) under 128 KiB,
// which ASan still serves from its size-class allocator (no mmap per run).
constexpr tern::ws::Limits kLimits[] = {{60000, 60000}, {1000, 4000}, {125, 300}, {16, 64}};
constexpr std::size_t kReadSizes[] = {0, 256, 1024, 4096};
// Valid and invalid codes: close() must refuse the last three.
constexpr std::uint16_t kCloseCodes[] = {1000, 1001, 1002, 1011, 4000, 1005, 1006, 999};

enum Op : std::uint8_t {
  kDeliver,       // arg + 1 stream bytes
  kDeliverMany,   // (arg + 1) * 16 stream bytes
  kSendText,      // arg % 64 ASCII bytes
  kSendBinary,    // arg % 64 bytes
  kSendPing,      // arg % 126 bytes (125 is the most a control frame holds)
  kSendPong,
  kBegin,         // Text if arg is odd, else Binary; arg % 32 bytes
  kContinue,      // arg % 32 bytes
  kFinish,
  kClose,         // code kCloseCodes[arg % 8], reason of (arg / 8) * 4 bytes
  kTakeSome,      // the transport takes arg bytes
  kTakeAll,
  kExpire,
  kEof,
  kAbort,
  kDrain,
};

bool allowed(State from, State to) {
  if (from == to) return true;
  switch (from) {
    case State::Connecting: return to == State::Open || to == State::Failed;
    case State::Open: return to == State::Closing || to == State::Closed || to == State::Failed;
    case State::Closing: return to == State::Closed || to == State::Failed;
    default: return false;
  }
}

bool live(State s) { return s == State::Connecting || s == State::Open || s == State::Closing; }

struct Payloads {
  std::uint8_t ascii[256];
  std::uint8_t binary[256];
  Payloads() {
    for (int i = 0; i < 256; ++i) {
      ascii[i] = static_cast<std::uint8_t>('a' + i % 26);
      binary[i] = static_cast<std::uint8_t>(i * 167 + 13);
    }
  }
};
const Payloads kPayloads;

class Run {
 public:
  Run(Connection& c, std::string_view stream, const tern::ws::ConnectionOptions& o,
      std::optional<std::string_view> expected_subprotocol)
      : c_(c), stream_(stream), auto_pong_(o.auto_pong), offered_(o.subprotocols),
        expected_subprotocol_(expected_subprotocol) {}

  void op(std::uint8_t kind, std::uint8_t arg) {
    const std::span<const std::uint8_t> text(kPayloads.ascii, 256);
    const std::span<const std::uint8_t> bin(kPayloads.binary + (arg & 0x3F), 192);
    switch (kind % 16) {
      case kDeliver: deliver(std::size_t{arg} + 1); break;
      case kDeliverMany: deliver((std::size_t{arg} + 1) * 16); break;
      case kSendText: {
        const std::string_view s(reinterpret_cast<const char*>(text.data()), arg % 64);
        sent(c_.send_text(s), 0x81, as_bytes(s));
        break;
      }
      case kSendBinary: sent(c_.send_binary(bin.first(arg % 64)), 0x82, bin.first(arg % 64)); break;
      case kSendPing: sent(c_.send_ping(bin.first(arg % 126)), 0x89, bin.first(arg % 126)); break;
      case kSendPong: sent(c_.send_pong(bin.first(arg % 126)), 0x8A, bin.first(arg % 126)); break;
      case kBegin:
        sent(c_.begin_message(arg & 1 ? Opcode::Text : Opcode::Binary, text.first(arg % 32)),
             arg & 1 ? 0x01 : 0x02, text.first(arg % 32));
        break;
      case kContinue: sent(c_.continue_message(text.first(arg % 32)), 0x00, text.first(arg % 32)); break;
      case kFinish: sent(c_.finish_message(text.first(arg % 32)), 0x80, text.first(arg % 32)); break;
      case kClose: close(arg); break;
      case kTakeSome: take(arg); break;
      case kTakeAll: take(SIZE_MAX); break;
      case kExpire: {
        const State before = c_.state();
        c_.expire();
        if (before == State::Connecting || before == State::Closing) {
          check(c_.state() == State::Failed, "expire() did not fail a timed state");
          check(c_.failure().cause == (before == State::Connecting ? FailureCause::HandshakeTimeout
                                                                    : FailureCause::CloseTimeout),
                "expire(): wrong cause");
        } else {
          check(c_.state() == before, "expire() changed an untimed state");
        }
        after(before);
        break;
      }
      case kEof:
        c_.receive_eof();
        eof_ = true;
        drain();
        break;
      case kAbort: {
        const State before = c_.state();
        c_.abort();
        // abort() drops what was queued: nothing more may come out.
        check(c_.pending_output().empty() && c_.finished(), "abort(): output left");
        if (!aborted_) aborted_at_ = wire_.size();
        aborted_ = true;
        check(c_.state() == (live(before) ? State::Failed : before), "abort(): wrong state");
        if (live(before)) check(c_.failure().cause == FailureCause::Aborted, "abort(): wrong cause");
        after(before);
        break;
      }
      case kDrain: drain(); break;
    }
  }

  // The rest of the stream, maybe EOF, then the transport takes everything.
  void finish(bool eof) {
    deliver(stream_.size() - at_);
    if (eof) op(kEof, 0);
    drain();
    for (int i = 0; i < 4; ++i) take(SIZE_MAX);
    check(c_.pending_output().empty(), "output left after taking everything");
    if (!live(c_.state())) check(c_.finished(), "Closed/Failed and drained but not finished()");
    check_output();
  }

 private:
  void after(State before) {
    const State now = c_.state();
    check(allowed(before, now), "state moved off the graph");
    if (before != State::Failed && now == State::Failed) {
      // close_sent: the failure's own Close (protocol error while Open), our
      // earlier Close (while Closing), or none.
      const tern::ws::Failure& f = c_.failure();
      if (before == State::Closing) {
        check(tern::ws::to_int(f.close_sent) == last_close_, "failure while Closing: close_sent");
      } else if (!(before == State::Open && f.cause == FailureCause::Protocol)) {
        check(f.close_sent == CloseCode::NoStatus, "a Close reported but none was queued");
      }
    }
    check((c_.failure().cause != FailureCause::None) == (now == State::Failed),
          "failure().cause set iff Failed");
    if (c_.finished()) {
      check(!live(now), "finished() while live");
      check(c_.pending_output().empty(), "finished() with output pending");
    }
    if (now != State::Open) {
      check(c_.send_text("x").error == tern::ws::Error::NotOpen, "send accepted when not Open");
    }
  }

  // A send's result; a success must show up on the wire as exactly this
  // frame (first byte and payload), in order.
  void sent(EncodeResult r, std::uint8_t b0, std::span<const std::uint8_t> payload) {
    if (c_.state() != State::Open) check(!r.ok() && r.error == tern::ws::Error::NotOpen, "NotOpen");
    if (r.ok()) {
      std::string p(payload.begin(), payload.end());
      if (b0 == 0x8A) {
        pong_payloads_.push_back(std::move(p));
        ++user_pongs_;
      } else {
        user_frames_.emplace_back(b0, std::move(p));
      }
    }
    after(c_.state());
  }

  void close(std::uint8_t arg) {
    const State before = c_.state();
    const std::uint16_t code = kCloseCodes[arg % 8];
    const std::string_view reason(reinterpret_cast<const char*>(kPayloads.ascii), (arg / 8) * 4);
    const EncodeResult r = c_.close(static_cast<CloseCode>(code), reason);
    if (before != State::Open) {
      check(!r.ok() && r.error == tern::ws::Error::NotOpen, "close() when not Open");
    } else if (!tern::ws::is_valid_close_code(code) || reason.size() > tern::ws::kMaxCloseReason) {
      check(!r.ok() && c_.state() == State::Open, "close() accepted an invalid Close");
    } else {
      // It never fails for lack of room.
      check(r.ok() && c_.state() == State::Closing, "close() refused a valid Close");
      last_close_ = code;
    }
    after(before);
  }

  void take(std::size_t max) {
    const Connection::Bytes out = c_.pending_output();
    const std::size_t n = std::min(max, out.size());
    wire_.insert(wire_.end(), out.begin(), out.begin() + n);
    const State before = c_.state();
    c_.consume_output(n);
    after(before);
  }

  void deliver(std::size_t k) {
    k = std::min(k, stream_.size() - at_);
    while (k > 0) {
      const std::span<std::uint8_t> space = c_.read_space();
      if (space.empty()) {
        check(!live(c_.state()), "read_space() empty on a live connection");
        return;  // a dead connection's buffer may stay full
      }
      const std::size_t n = std::min(k, space.size());
      std::memcpy(space.data(), stream_.data() + at_, n);
      c_.commit(n == space.size() ? n + (at_ & 1) : n);  // an over-commit is clamped
      at_ += n;
      k -= n;
      drain();
    }
  }

  void drain() {
    for (int i = 0; i < 100000; ++i) {
      const State before = c_.state();
      const Event e = c_.next();
      const State now = c_.state();
      if (!live(before)) check(e.type == EventType::None, "event after Closed/Failed");
      switch (e.type) {
        case EventType::None:
          check(now == before, "None changed the state");
          after(before);
          if (live(now)) check(!c_.read_space().empty(), "stalled: read_space() empty after None");
          return;
        case EventType::Open:
          check(before == State::Connecting && now == State::Open, "Open event off the graph");
          check(++opens_ == 1, "second Open");
          check(c_.subprotocol().empty() ||
                    std::find(offered_.begin(), offered_.end(), c_.subprotocol()) != offered_.end(),
                "subprotocol not among ours");
          if (expected_subprotocol_) check(c_.subprotocol() == *expected_subprotocol_, "subprotocol");
          break;
        case EventType::Message:
          check(now == before && (now == State::Open || now == State::Closing), "Message off the graph");
          check_message(e.message);
          if (e.message.opcode == Opcode::Ping && now == State::Open && auto_pong_) {
            pong_payloads_.emplace_back(e.message.payload.begin(), e.message.payload.end());
          }
          break;
        case EventType::Closed:
          check(now == State::Closed && (before == State::Open || before == State::Closing),
                "Closed event off the graph");
          check(e.message.opcode == Opcode::Close, "Closed without a Close frame");
          check(e.message.close_code == CloseCode::NoStatus ||
                    tern::ws::is_valid_close_code(e.message.close_code),
                "Closed with a code not valid on the wire");
          if (before == State::Open) last_close_ = tern::ws::to_int(e.message.close_code);
          break;
        case EventType::Failed: {
          check(now == State::Failed && live(before), "Failed event off the graph");
          const tern::ws::Failure& f = c_.failure();
          if (before == State::Connecting) {
            check(f.cause == FailureCause::Handshake, "handshake failure with another cause");
          } else {
            check(f.cause == FailureCause::Protocol || f.cause == FailureCause::ConnectionLost,
                  "failure from next() with a foreign cause");
          }
          if (f.cause == FailureCause::ConnectionLost) check(eof_, "ConnectionLost without EOF");
          if (f.cause == FailureCause::Protocol && before == State::Open) {
            check(f.close_sent == tern::ws::close_code(f.frame_error), "wrong failure close code");
            last_close_ = tern::ws::to_int(f.close_sent);
          }
          break;
        }
      }
      after(before);
    }
    check(false, "next() never returned None");
  }

  void check_message(const tern::ws::Message& m) {
    const tern::ws::Limits& limits = c_.limits();
    switch (m.opcode) {
      case Opcode::Text:
        check(tern::simd::validate_utf8_scalar(m.payload.data(), m.payload.size()), "Text not UTF-8");
        [[fallthrough]];
      case Opcode::Binary:
        check(m.payload.size() <= limits.max_message_size, "message over max_message_size");
        break;
      case Opcode::Ping:
      case Opcode::Pong:
        check(m.payload.size() <= tern::ws::kMaxControlPayload, "control payload over 125");
        check(m.payload.size() <= limits.max_frame_size, "control frame over max_frame_size");
        break;
      default:
        check(false, "Message with a foreign opcode");
    }
    if (!m.payload.empty()) {
      const std::span<const std::uint8_t> in = c_.read_buffer().data();
      check(m.payload.data() >= in.data() && m.payload.data() + m.payload.size() <= in.data() + in.size(),
            "Message view outside the read buffer's bytes");
    }
  }

  // Everything queued: handshake message, then whole valid frames.
  void check_output() {
    if (aborted_) {
      // The transport failed: what left before is any prefix of valid
      // output (the rest was dropped), and nothing left after.
      check(wire_.size() == aborted_at_, "bytes sent after abort()");
      return;
    }
    std::string_view all(reinterpret_cast<const char*>(wire_.data()), wire_.size());
    const bool client = c_.role() == Role::Client;
    const std::size_t head_end = all.find("\r\n\r\n");
    if (client) {
      check(all.starts_with("GET ") && head_end != std::string_view::npos, "client output starts with its request");
    } else if (all.empty()) {
      check(opens_ == 0, "server opened without a 101");
      return;
    } else {
      check(all.starts_with("HTTP/1.1 ") && head_end != std::string_view::npos, "server output starts with a response");
    }
    const std::string_view head = all.substr(0, head_end + 4);
    const std::string_view frames = all.substr(head_end + 4);
    if (!client && !head.starts_with("HTTP/1.1 101 ")) {
      check(c_.failure().cause == FailureCause::Handshake, "a rejection without a handshake failure");
      check(head.substr(9, 3) == std::to_string(c_.failure().http_status), "rejection status != http_status");
    }
    if (opens_ == 0) {
      check(frames.empty(), "frames before the connection opened");
      return;
    }

    // Frame boundaries by hand (unmasking payloads), then a peer-role reader.
    std::size_t next_user = 0;
    int pongs = 0, closes = 0;
    Opcode last = Opcode::Continuation;
    std::string payload;
    for (std::size_t at = 0; at < frames.size();) {
      const std::size_t left = frames.size() - at;
      check(left >= 2, "truncated frame header");
      const auto* p = reinterpret_cast<const std::uint8_t*>(frames.data() + at);
      std::uint64_t len = p[1] & 0x7F;
      std::size_t h = 2;
      if (len == 126) {
        check(left >= 4, "truncated frame header");
        len = (std::uint64_t{p[2]} << 8) | p[3];
        h = 4;
      } else if (len == 127) {
        check(left >= 10, "truncated frame header");
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        h = 10;
      }
      const bool masked = p[1] & 0x80;
      check(masked == client, "a client masks every frame, a server none");
      if (masked) h += 4;
      check(left >= h && left - h >= len, "truncated frame");
      payload.assign(reinterpret_cast<const char*>(p + h), len);
      if (masked) {
        for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ p[h - 4 + i % 4]);
      }
      last = static_cast<Opcode>(p[0] & 0x0F);
      if (last == Opcode::Pong) {
        ++pongs;
        check(std::find(pong_payloads_.begin(), pong_payloads_.end(), payload) != pong_payloads_.end(),
              "a Pong answering nothing");
      } else if (last == Opcode::Close) {
        ++closes;
      } else {
        check(next_user < user_frames_.size(), "a frame the user did not send");
        check(user_frames_[next_user].first == p[0] && user_frames_[next_user].second == payload,
              "a frame differs from what the user sent");
        ++next_user;
      }
      at += h + len;
    }
    check(next_user == user_frames_.size(), "a successful send is missing from the wire");
    check(pongs >= user_pongs_, "a user Pong went missing");
    check(closes <= 1, "more than one Close");
    check((closes == 1) == (last_close_ != 0), "a Close queued iff one was due");
    if (closes == 1) check(last == Opcode::Close, "a frame after Close");

    tern::ReadBuf buf(frames.size() + 64);
    std::memcpy(buf.spare().data(), frames.data(), frames.size());
    (void)buf.commit(frames.size());
    tern::ws::FrameReader reader(client ? Role::Server : Role::Client, {1u << 24, 1u << 24});
    for (int i = 0; i < 100000; ++i) {
      const tern::ws::ReadResult r = reader.next(buf);
      check(r.status != tern::ws::ReadStatus::Error, "queued frames a peer rejects");
      if (r.status == tern::ws::ReadStatus::NeedMore) break;
      if (r.message.opcode == Opcode::Close) {
        const std::uint16_t code = tern::ws::to_int(r.message.close_code);
        check(code == last_close_, "the Close queued has the wrong code");
      }
    }
  }

  Connection& c_;
  std::string_view stream_;
  std::size_t at_ = 0;
  bool auto_pong_;
  bool aborted_ = false;
  std::size_t aborted_at_ = 0;
  bool eof_ = false;
  int opens_ = 0;
  // Successful sends other than Pongs: first byte and payload.
  std::vector<std::pair<std::uint8_t, std::string>> user_frames_;
  int user_pongs_ = 0;
  // What a Pong on the wire may carry: a user Pong's payload, or (auto_pong)
  // that of a Ping received while Open.
  std::vector<std::string> pong_payloads_;
  const std::vector<std::string>& offered_;
  std::optional<std::string_view> expected_subprotocol_;  // known when the harness shook hands
  std::uint16_t last_close_ = 0;  // the Close due last on the wire (0: none)
  std::vector<std::uint8_t> wire_;
};

std::string request(bool subprotocol) {
  return std::string("GET /feed HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n") +
         (subprotocol ? "Sec-WebSocket-Protocol: other, chat\r\n" : "") + "\r\n";
}

std::string response_101(std::string_view request, bool subprotocol) {
  constexpr std::string_view kTag = "\r\nSec-WebSocket-Key: ";
  const std::size_t at = request.find(kTag);
  check(at != std::string_view::npos, "client request without a key");
  const std::string_view key = request.substr(at + kTag.size(), 24);
  return std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: ") +
         std::string(tern::ws::view(tern::ws::compute_accept(key))) + "\r\n" +
         (subprotocol ? "Sec-WebSocket-Protocol: chat\r\n" : "") + "\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t flags = data[0];
  const std::uint8_t flags2 = data[1];
  const std::size_t n_ops = data[2];
  if (size < 3 + 2 * n_ops) return 0;
  const std::uint8_t* ops = data + 3;
  const std::string_view fuzz_stream(reinterpret_cast<const char*>(data + 3 + 2 * n_ops), size - 3 - 2 * n_ops);

  const bool server = flags & 1;
  const bool raw_handshake = flags & 2;
  const bool subprotocol = flags & 8;
  tern::ws::ConnectionOptions o;
  o.auto_pong = !(flags & 4);
  o.write_buffer_size = kWriteSizes[(flags >> 4) & 3];
  o.limits = kLimits[(flags >> 6) & 3];
  o.read_buffer_size = kReadSizes[flags2 & 3];
  if (subprotocol) o.subprotocols = server ? std::vector<std::string>{"chat"} : std::vector<std::string>{"other", "chat"};

  static const tern::Url url = [] {
    tern::Url u;
    check(tern::parse_url("ws://example.com/feed", u) == tern::UrlError::kNone, "url");
    return u;
  }();
  absl::StatusOr<Connection> made = server ? Connection::server(o) : Connection::client(url, o);
  check(made.ok(), "Connection could not be made");
  Connection& c = *made;

  std::string stream;
  if (raw_handshake) {
    stream.assign(fuzz_stream);
  } else if (server) {
    stream = request(subprotocol);
    stream.append(fuzz_stream);
  } else {
    const Connection::Bytes req = c.pending_output();
    stream = response_101({reinterpret_cast<const char*>(req.data()), req.size()}, subprotocol);
    stream.append(fuzz_stream);
  }

  std::optional<std::string_view> expected_subprotocol;
  if (!raw_handshake) expected_subprotocol = subprotocol ? "chat" : "";
  Run run(c, stream, o, expected_subprotocol);
  for (std::size_t i = 0; i < n_ops; ++i) run.op(ops[2 * i], ops[2 * i + 1]);
  run.finish(flags2 & 4);
  return 0;
}
