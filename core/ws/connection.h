// File: connection.h
//
// Connection is one WebSocket endpoint, client or server, as a sans-IO state
// machine: the opening handshake, the frame reader and writer, and the
// protocol's own replies (Pong to a Ping, the Close echo, the close code that
// names a failure), with its read and write buffers. It is what every tern
// backend drives, and what a user drives from their own loop (io_uring, a
// kernel-bypass stack, a simulator) to get the same behaviour.
//
// The caller moves bytes and keeps time; the connection decides everything
// else:
//   network -> connection   read into read_space(), commit(n); receive_eof()
//                           when the peer ends the stream.
//   connection -> caller    next() returns one Event: Open (handshake done,
//                           subprotocol() set), Message (Text, Binary, Ping
//                           or Pong), Closed (the peer's Close) or Failed
//                           (failure() says why); None means "read more".
//                           With auto_pong, a Ping's Pong is queued before
//                           the Ping is delivered, or as soon as the write
//                           buffer has room (only the latest Ping's, RFC
//                           6455 §5.5.3); none after a Close was received.
//   caller -> connection    send_text(), send_binary(), send_ping(),
//                           send_pong(), fragments, close(): frames are
//                           queued in the write buffer, several per flush.
//   connection -> network   pending_output(), then consume_output(n) for
//                           what the transport took. Handshake bytes, user
//                           frames, automatic Pongs, Close replies and the
//                           Close that reports a failure all come out here.
//
// States: Connecting -> Open -> Closing (we sent Close, waiting for the
// peer's) -> Closed, or Failed from any state. After Closed or Failed, next()
// returns None for good and sends are refused (Error::NotOpen); once
// finished() is true the caller closes the transport.
//
// Time: the connection never reads a clock. timeout() says how long the
// current state may last (the handshake, or the wait for the peer's Close);
// the caller arms a timer when the state changes and calls expire() when it
// runs out. A read deadline while Open is the caller's own policy.
//
// Ownership and views: the connection owns both buffers (fixed capacity,
// allocated by client()/server(), never grown; the write buffer holds at
// least 512 bytes, so a Close always fits). A Message's payload borrows the
// read buffer until the next call to next(); sending, read_space() and
// commit() in between are fine. read_space() and pending_output() are valid
// until the next call on the connection. Nothing is allocated after the
// handshake.
//
//   auto c = tern::ws::Connection::client(url, {});
//   send_all(c->pending_output());  c->consume_output(n);    // the upgrade GET
//   n = read(fd, c->read_space()); c->commit(n);
//   for (auto e = c->next(); e.type != EventType::None; e = c->next()) ...
#ifndef TERN_CORE_WS_CONNECTION_H_
#define TERN_CORE_WS_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/error.h"
#include "core/http/limits.h"
#include "core/url/url.h"
#include "core/ws/close_code.h"
#include "core/ws/error.h"
#include "core/ws/frame.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "core/ws/handshake.h"
#include "core/ws/handshake_error.h"

namespace tern::ws {

enum class State : std::uint8_t {
  Connecting,  // opening handshake in progress
  Open,        // messages flow both ways
  Closing,     // we sent Close; waiting for the peer's (RFC 6455 §7.1.2)
  Closed,      // both Closes seen (or ours queued in reply): close the transport
  Failed,      // failure() says why; close the transport
};
std::string_view name(State state) noexcept;

enum class EventType : std::uint8_t {
  None,     // nothing more from the bytes received so far
  Open,     // the handshake completed; subprotocol() is set
  Message,  // message: Text, Binary, Ping (already answered) or Pong
  Closed,   // the peer's Close frame is in message (code, reason)
  Failed,   // the connection failed; failure() says why
};

struct Event {
  EventType type = EventType::None;
  Message message;  // Message and Closed; borrows the read buffer
};

enum class FailureCause : std::uint8_t {
  None,
  Protocol,          // the peer broke RFC 6455: Failure::frame_error
  Handshake,         // the opening handshake failed: Failure::handshake_error
  ConnectionLost,    // the stream ended without a Close frame (1006)
  HandshakeTimeout,  // expire() while Connecting
  CloseTimeout,      // expire() while Closing: the peer never answered our Close
  Aborted,           // abort(): the transport failed under the connection
};
std::string_view name(FailureCause cause) noexcept;

struct Failure {
  FailureCause cause = FailureCause::None;
  Error frame_error = Error::MaskViolation;               // Protocol only
  HandshakeError handshake_error = HandshakeError::None;  // Handshake only
  http::Error http_error = http::Error::None;             // handshake_error == Http
  // Client handshake: the server's status when it was not 101. Server
  // handshake: the status of the rejection queued for the client.
  int http_status = 0;
  // The code of the Close frame this side queued (NoStatus: none): the one
  // naming this failure, or, for a failure while Closing, our earlier one.
  CloseCode close_sent = CloseCode::NoStatus;
};

struct ConnectionOptions {
  // Largest frame and message accepted (checked on headers, before payload).
  Limits limits{1u << 20, 1u << 20};
  // 0: the larger limit plus 64 KiB for headers and interleaved control
  // frames. A whole message must fit: it is handed out as one view.
  std::size_t read_buffer_size = 0;
  // Frames queued and not yet taken by the transport; the largest frame this
  // side can send, header included, must fit.
  std::size_t write_buffer_size = (1u << 20) + 64;
  // Client: offered in order of preference. Server: the ones it speaks; it
  // picks the first of these that the client offered.
  std::vector<std::string> subprotocols;
  // Client: sent with the upgrade request. Server: with the 101 or rejection.
  HeaderPairs extra_headers;
  http::Limits handshake_limits;
  // Answer each Ping with a Pong (RFC 6455 §5.5.2) before delivering it.
  bool auto_pong = true;
  // How long the opening handshake may take (timeout() while Connecting).
  absl::Duration handshake_timeout = absl::Seconds(30);
  // How long to wait for the peer's Close after ours (timeout() while Closing).
  absl::Duration close_timeout = absl::Seconds(5);
};

class Connection {
 public:
  using Options = ConnectionOptions;
  using Bytes = std::span<const std::uint8_t>;

  // A client for a ws:// or wss:// URL; the upgrade request is already in
  // pending_output(). InvalidArgument for a bad URL, subprotocol or header.
  static absl::StatusOr<Connection> client(const Url& url, const Options& options);
  // A server waiting for the client's upgrade request. A bad request is
  // answered (400, 426 or 431) and fails the connection.
  static absl::StatusOr<Connection> server(const Options& options);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  // --- network -> connection ---------------------------------------------
  // Where the transport writes received bytes (compacting the buffer first
  // if its tail is full and no message view is live). Empty when the buffer
  // is full: after a message that fills it, until the next next(); else a
  // frame that cannot fit has already failed the reader.
  std::span<std::uint8_t> read_space() noexcept;
  // Marks n bytes of read_space() as received (clamped to its size).
  void commit(std::size_t n) noexcept;
  // The read buffer itself, for a TLS layer that decrypts straight into it.
  ReadBuf& read_buffer() noexcept { return in_; }
  // The peer ended its side of the stream. Reported by the next next().
  void receive_eof() noexcept { eof_ = true; }

  // --- connection -> caller ----------------------------------------------
  // The next event from the bytes received so far. The previous Message's
  // view dies here. Inline fast path: a whole data message while Open.
  ABSL_ATTRIBUTE_ALWAYS_INLINE Event next() noexcept {
    view_live_ = false;
    if (ABSL_PREDICT_TRUE(state_ == State::Open)) {
      const ReadResult r = reader_.next(in_);
      if (ABSL_PREDICT_TRUE(r.status == ReadStatus::Message && !is_control(r.message.opcode))) {
        view_live_ = true;
        return {EventType::Message, r.message};
      }
      if (r.status == ReadStatus::NeedMore && !eof_) return {};
      return next_slow(r);
    }
    return next_other_state();
  }

  // --- caller -> connection ----------------------------------------------
  // Whole messages and control frames, queued for sending. Refused with
  // Error::NotOpen unless Open; DestinationTooSmall when the write buffer
  // lacks room now (let the transport take all of pending_output() and
  // retry: the buffer's room comes back when it drains; a frame larger than
  // write_capacity() never fits). On error nothing is queued.
  EncodeResult send_text(std::string_view payload) noexcept {
    if (ABSL_PREDICT_FALSE(state_ != State::Open)) return {0, Error::NotOpen};
    return writer_.text(out_, payload);
  }
  EncodeResult send_binary(Bytes payload) noexcept {
    if (ABSL_PREDICT_FALSE(state_ != State::Open)) return {0, Error::NotOpen};
    return writer_.binary(out_, payload);
  }
  EncodeResult send_ping(Bytes payload = {}) noexcept;
  EncodeResult send_pong(Bytes payload = {}) noexcept;
  // A fragmented message (RFC 6455 §5.4): type is Text or Binary.
  EncodeResult begin_message(Opcode type, Bytes payload) noexcept;
  EncodeResult continue_message(Bytes payload) noexcept;
  EncodeResult finish_message(Bytes payload = {}) noexcept;
  // Starts the closing handshake: queues Close (after what is already
  // queued; it never fails for lack of room) and enters Closing. NotOpen
  // unless Open; InvalidCloseCode / CloseReasonTooLong / InvalidCloseReason
  // for a Close that may not be sent.
  EncodeResult close(CloseCode code = CloseCode::Normal, std::string_view reason = {}) noexcept;

  // --- connection -> network ---------------------------------------------
  // Bytes waiting for the transport, oldest first.
  Bytes pending_output() noexcept {
    if (ABSL_PREDICT_FALSE(owes())) flush_owed();
    return out_.data();
  }
  // The transport took the first n bytes of pending_output().
  void consume_output(std::size_t n) noexcept {
    out_.consume(n);
    if (ABSL_PREDICT_FALSE(owes())) flush_owed();
  }

  // --- time and transport failures ----------------------------------------
  // How long the current state may last: handshake_timeout while
  // Connecting, close_timeout while Closing, InfiniteDuration() otherwise.
  absl::Duration timeout() const noexcept;
  // timeout() ran out: HandshakeTimeout or CloseTimeout. No-op otherwise.
  void expire() noexcept;
  // The transport failed (I/O error, TLS failure): the connection is Failed
  // with cause Aborted, unless already Closed or Failed, and whatever was
  // queued is dropped (it can no longer be sent): finished() is true.
  void abort() noexcept;

  // Gives the buffers' memory back to the kernel while the connection holds
  // no bytes either way (an idle connection; large buffers only, see
  // core/buf/storage.h): two madvise calls; pages return, zeroed, as
  // traffic resumes. No-op while a view is live or bytes are buffered.
  void release_memory() noexcept {
    if (view_live_ || owes()) return;
    in_.release_memory();
    out_.release_memory();
  }

  // --- state ----------------------------------------------------------------
  State state() const noexcept { return state_; }
  bool is_open() const noexcept { return state_ == State::Open; }
  // Closed or Failed, with nothing left to send: close the transport now.
  bool finished() const noexcept {
    return (state_ == State::Closed || state_ == State::Failed) && out_.empty() && owed_pong_len_ < 0 &&
           owed_close_len_ < 0;
  }
  Role role() const noexcept { return reader_.role(); }
  // The subprotocol agreed in the handshake, or empty.
  std::string_view subprotocol() const noexcept { return subprotocol_; }
  const Failure& failure() const noexcept { return failure_; }
  const Limits& limits() const noexcept { return reader_.limits(); }
  // The largest encoded frame (header included) the write buffer can hold.
  std::size_t write_capacity() const noexcept { return out_.capacity(); }

 private:
  Connection(Role role, const Options& o);
  Event next_slow(const ReadResult& r) noexcept;
  Event next_other_state() noexcept;
  Event next_handshake() noexcept;
  Event next_client_handshake() noexcept;
  Event next_server_handshake() noexcept;
  Event on_frame(const Message& m) noexcept;
  Event fail(const Failure& f) noexcept;
  // Queue a Pong / our Close now, or keep it until the write buffer has
  // room (flush_owed() writes what fits, Pong first).
  void queue_pong(Bytes payload) noexcept;
  void queue_close(CloseCode code, std::string_view reason) noexcept;
  void flush_owed() noexcept;
  bool owes() const noexcept { return owed_pong_len_ >= 0 || owed_close_len_ >= 0; }

  ReadBuf in_;
  WriteBuf out_;
  FrameReader reader_;
  FrameWriter writer_;
  // Alive only while Connecting: released once Open, which frees its header
  // arrays and strings (an idle connection keeps only its buffers).
  std::variant<std::monostate, ClientHandshake, ServerHandshake> handshake_;
  std::vector<std::string> server_subprotocols_;
  std::string subprotocol_;
  Failure failure_;
  absl::Duration handshake_timeout_;
  absl::Duration close_timeout_;
  State state_ = State::Connecting;
  bool auto_pong_;
  bool eof_ = false;
  CloseCode close_sent_ = CloseCode::NoStatus;  // our Close, once queued
  // Control frames waiting for room in out_ (a full buffer never loses
  // them): the Pong for the latest Ping (RFC 6455 §5.5.3: answering the
  // most recent one is enough), then our Close. -1: none.
  int owed_pong_len_ = -1;
  int owed_close_len_ = -1;
  CloseCode owed_close_code_ = CloseCode::NoStatus;
  std::uint8_t owed_pong_[kMaxControlPayload] = {};
  std::uint8_t owed_reason_[kMaxCloseReason] = {};
  // A Message or Closed view into in_ is live (until the next next()).
  bool view_live_ = false;
};

}  // namespace tern::ws

#endif  // TERN_CORE_WS_CONNECTION_H_
