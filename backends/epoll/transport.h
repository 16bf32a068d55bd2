// File: transport.h
//
// Transport<Endpoint> is one connected, non-blocking socket on an EventLoop,
// carrying a core connection object (Endpoint: ws::Connection or
// http::ClientConnection) through a tls::Channel (plain or TLS). It moves
// bytes and keeps time; the Endpoint decides everything else.
//
// It is the epoll backend's only I/O path: fill() reads until the endpoint
// has new plaintext (or the stream ended or failed), flush() writes the
// endpoint's queued bytes, both without blocking. An operation that cannot
// finish parks on the transport's read or write side (at most one each) and
// is retried when epoll reports readiness; the socket is registered once,
// edge-triggered, and a short read is taken to mean "drained" (Linux reports
// every later arrival), so a message costs one read and one write syscall.
//
// Deadlines: a wait for bytes is bounded by SocketOptions::read_timeout and
// a wait for the kernel to take bytes by write_timeout. Both are wheel
// timers that live here and are moved (one store) rather than re-armed. A
// timeout poisons the transport, like any I/O error: error() keeps the first
// one and the endpoint is aborted.
//
// Ownership: a Transport owns its file descriptor, closed (and removed from
// epoll) on destruction; operations still parked on it are resumed with
// kCancelled. It may outlive its loop (then only the descriptor is closed).
// It is pinned: epoll holds its address.
#ifndef TERN_BACKENDS_EPOLL_TRANSPORT_H_
#define TERN_BACKENDS_EPOLL_TRANSPORT_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "backends/epoll/event_loop.h"
#include "backends/options.h"
#include "backends/status.h"
#include "backends/steps.h"
#include "core/tls/channel.h"

namespace tern::epoll::detail {

using Want = ::tern::steps::Want;

class TransportBase;

// A parked operation: step() is retried on readiness until Done.
struct IoOp : Waiter {
  TransportBase* transport = nullptr;
  // Which of the transport's two slots the operation parks in: the reader's
  // (receives, handshakes, an HTTP exchange; may wait to write first, for
  // TLS) or the writer's (sends). One operation per slot at a time.
  bool writer = false;
  Want (*step)(IoOp* self) = nullptr;
  // Ends the operation with `why` (timeout, cancellation, destruction).
  void (*fail)(IoOp* self, absl::Status why) = nullptr;
};

class TransportBase : public Pollable {
 public:
  static constexpr std::ptrdiff_t kWouldBlock = -1;
  static constexpr std::ptrdiff_t kFailed = -2;

  TransportBase(EventLoop& loop, int fd, const SocketOptions& options) noexcept;
  ~TransportBase();
  TransportBase(const TransportBase&) = delete;
  TransportBase& operator=(const TransportBase&) = delete;

  // Registers the descriptor with the loop (edge-triggered, both ways).
  absl::Status start() noexcept;

  EventLoop& loop() const noexcept { return *loop_; }
  int fd() const noexcept { return fd_; }
  const absl::Status& error() const noexcept { return error_; }
  bool failed() const noexcept { return !error_.ok(); }
  void set_error(absl::Status why) noexcept {
    if (error_.ok()) error_ = std::move(why);
  }

  // Non-blocking syscalls with the edge-triggered bookkeeping: bytes moved,
  // 0 for EOF (reads), kWouldBlock, or kFailed (error() says why).
  std::ptrdiff_t read_some(std::span<std::uint8_t> into) noexcept;
  std::ptrdiff_t write_some(std::span<const std::uint8_t> bytes) noexcept;
  // shutdown(SHUT_WR).
  void shutdown_write() noexcept;

  // Parks `op` (its handle set) in its slot until the side it wants is
  // ready. If another operation already holds that slot (two coroutines
  // receiving on one connection), `op` fails at once with
  // kFailedPrecondition instead.
  void wait(IoOp& op, Want want) noexcept;
  // Retries the parked reader now (its endpoint changed state: a deadline
  // the owner keeps ran out).
  void wake_reader() noexcept {
    if (reader_ != nullptr) retry(reader_);
  }

  bool readable() const noexcept { return readable_; }
  bool writable() const noexcept { return writable_; }
  // read(2)/send(2) calls made so far, for tests and benchmarks.
  std::uint64_t read_calls() const noexcept { return read_calls_; }
  std::uint64_t write_calls() const noexcept { return write_calls_; }

 protected:
  // Set by the owner: writes queued bytes when the socket becomes writable
  // and no operation waits to write (an automatic Pong, a Close reply).
  Want (*background_flush_)(TransportBase* self) = nullptr;
  bool flush_pending_ = false;
  // Once the background flush is done, end our direction (close_write()).
  bool close_after_flush_ = false;
  void (*background_close_)(TransportBase* self) = nullptr;
  // The endpoint's release_memory(), for a reader that waited long enough.
  void (*release_memory_)(TransportBase* self) = nullptr;
  // Level-triggered mode only: asks for EPOLLOUT exactly while something
  // waits to write.
  void update_interest() noexcept {
    if (ABSL_PREDICT_FALSE(level_triggered_)) update_level_interest();
  }
  void update_level_interest() noexcept;

 private:
  static void handle_events(Pollable* self, std::uint32_t events);
  void retry(IoOp*& slot) noexcept;

  void finish(IoOp*& slot, absl::Status why) noexcept;
  static void cancel_op(Waiter* w) noexcept;

  EventLoop* loop_;
  std::shared_ptr<LoopHandle> loop_handle_;  // the loop may be destroyed first
  int fd_;
  bool registered_ = false;
  bool level_triggered_;
  bool watching_writes_ = false;  // level-triggered: EPOLLOUT registered
  bool readable_ = true;
  bool writable_ = true;
  // The peer's FIN or an error was reported: bytes before it may still be
  // queued behind a short read, and no new edge will announce the EOF.
  bool hangup_ = false;
  Want reader_wants_ = Want::Read;
  IoOp* reader_ = nullptr;
  IoOp* writer_ = nullptr;
  std::uint64_t read_calls_ = 0;
  std::uint64_t write_calls_ = 0;
  std::uint64_t read_timeout_ns_;
  std::uint64_t write_timeout_ns_;
  absl::Duration read_timeout_;
  absl::Duration write_timeout_;
  struct OwnedTimer : Timer {
    TransportBase* owner = nullptr;
  };
  OwnedTimer read_timer_;
  OwnedTimer write_timer_;
  OwnedTimer idle_timer_;
  std::uint64_t idle_release_ns_;
  absl::Status error_;
};

template <typename Endpoint>
class Transport : public TransportBase {
 public:
  Transport(EventLoop& loop, int fd, const SocketOptions& options, tls::Channel channel,
            Endpoint endpoint) noexcept
      : TransportBase(loop, fd, options), channel_(std::move(channel)), endpoint_(std::move(endpoint)) {
    background_flush_ = [](TransportBase* self) { return static_cast<Transport*>(self)->flush(); };
    background_close_ = [](TransportBase* self) { static_cast<Transport*>(self)->close_write(); };
    release_memory_ = [](TransportBase* self) { static_cast<Transport*>(self)->endpoint_.release_memory(); };
  }

  Endpoint& endpoint() noexcept { return endpoint_; }
  const Endpoint& endpoint() const noexcept { return endpoint_; }
  tls::Channel& channel() noexcept { return channel_; }
  bool eof() const noexcept { return eof_; }

  // Reads until the endpoint has new plaintext: Done when it has, when the
  // stream ended (endpoint told) or when the transport failed (endpoint
  // aborted); Read or Write when it must wait.
  Want fill() noexcept;
  // Writes the endpoint's queued bytes: Done when none are left or the
  // transport failed; Write when the kernel takes no more now.
  Want flush() noexcept;
  // Like flush(), but leaves what does not fit to be written when the
  // socket becomes writable, without an operation waiting on it.
  void flush_in_background() noexcept {
    flush_pending_ = flush() == Want::Write;
    if (flush_pending_) update_interest();
  }
  // Writes what is queued (in the background if need be), then ends our
  // direction: how a Close reply or a rejection leaves.
  void flush_then_close() noexcept {
    if (flush() == Want::Done) {
      close_write();
    } else {
      flush_pending_ = true;
      close_after_flush_ = true;
      update_interest();
    }
  }
  // Ends our direction: TLS close_notify (best effort), then SHUT_WR.
  void close_write() noexcept;
  // Runs the TLS handshake alone (a WebSocket's runs inside its opening
  // handshake; an HTTP connection reports TLS failures at connect()): Done
  // when finished or failed (error() says why), else what to wait for.
  Want tls_handshake() noexcept;

 private:
  Want fail(absl::Status why) noexcept {
    set_error(std::move(why));
    endpoint_.abort();
    return Want::Done;
  }

  tls::Channel channel_;
  Endpoint endpoint_;
  bool eof_ = false;
};

template <typename Endpoint>
Want Transport<Endpoint>::fill() noexcept {
  ReadBuf& buf = endpoint_.read_buffer();
  if (ABSL_PREDICT_TRUE(!channel_.secure())) {
    // Plain: the channel would pass the bytes straight through; skip it.
    if (ABSL_PREDICT_FALSE(failed())) {
      endpoint_.abort();
      return Want::Done;
    }
    if (!readable()) return Want::Read;
    const std::span<std::uint8_t> space = endpoint_.read_space();
    if (ABSL_PREDICT_FALSE(space.empty())) return fail(absl::ResourceExhaustedError("read buffer full"));
    const std::ptrdiff_t n = read_some(space);
    if (ABSL_PREDICT_TRUE(n > 0)) {
      endpoint_.commit(static_cast<std::size_t>(n));
      return Want::Done;
    }
    if (n == 0) {
      eof_ = true;
      endpoint_.receive_eof();
      return Want::Done;
    }
    if (n == kWouldBlock) return Want::Read;
    endpoint_.abort();
    return Want::Done;
  }
  for (;;) {
    if (ABSL_PREDICT_FALSE(failed())) {
      endpoint_.abort();  // a deadline may have failed us between calls
      return Want::Done;
    }
    switch (channel_.pull(buf)) {
      case tls::Pull::Data:
        return Want::Done;
      case tls::Pull::Input:
        break;
      case tls::Pull::Closed:
        eof_ = true;
        endpoint_.receive_eof();
        return Want::Done;
      case tls::Pull::Failed:
        (void)flush();  // the alert telling the peer why
        return fail(tls_status(*channel_.codec()));
      case tls::Pull::Full:
        return fail(absl::ResourceExhaustedError("read buffer full"));
      case tls::Pull::Flush:
        if (const Want w = flush(); w != Want::Done) return w;
        continue;
    }
    if (!readable()) return Want::Read;
    const std::span<std::uint8_t> space = channel_.read_space(buf);
    if (space.empty()) return fail(absl::ResourceExhaustedError("read buffer full"));
    const std::ptrdiff_t n = read_some(space);
    if (ABSL_PREDICT_TRUE(n > 0)) {
      channel_.received(static_cast<std::size_t>(n), buf);
    } else if (n == 0) {
      channel_.received_eof();
    } else if (n == kWouldBlock) {
      return Want::Read;
    } else {
      endpoint_.abort();
      return Want::Done;
    }
  }
}

template <typename Endpoint>
Want Transport<Endpoint>::flush() noexcept {
  for (;;) {
    if (ABSL_PREDICT_FALSE(failed())) {
      endpoint_.abort();
      return Want::Done;
    }
    // (Plain: output() is the endpoint's own bytes, inline.)
    const std::span<const std::uint8_t> out =
        ABSL_PREDICT_TRUE(!channel_.secure()) ? endpoint_.pending_output() : channel_.output(endpoint_);
    if (out.empty()) return Want::Done;
    if (!writable()) return Want::Write;
    const std::ptrdiff_t n = write_some(out);
    if (ABSL_PREDICT_TRUE(n > 0)) {
      if (ABSL_PREDICT_TRUE(!channel_.secure())) {
        endpoint_.consume_output(static_cast<std::size_t>(n));
      } else {
        channel_.written(endpoint_, static_cast<std::size_t>(n));
      }
    } else if (n == kWouldBlock) {
      return Want::Write;
    } else {
      endpoint_.abort();
      return Want::Done;
    }
  }
}

template <typename Endpoint>
Want Transport<Endpoint>::tls_handshake() noexcept {
  for (;;) {
    const tls::Progress p = channel_.handshake();
    if (const Want w = flush(); w != Want::Done) return w;
    if (failed()) return Want::Done;
    if (p == tls::Progress::Done) return Want::Done;
    if (p == tls::Progress::Failed) return fail(tls_status(*channel_.codec()));
    if (p == tls::Progress::NeedsWrite) continue;
    if (!readable()) return Want::Read;
    // Handshake bytes go to the codec's ring; no plaintext is involved.
    const std::span<std::uint8_t> space = channel_.codec()->ciphertext_space();
    const std::ptrdiff_t n = read_some(space);
    if (n > 0) {
      channel_.codec()->commit_ciphertext(static_cast<std::size_t>(n));
    } else if (n == 0) {
      return fail(absl::UnavailableError("tls handshake: peer closed the connection"));
    } else if (n == kWouldBlock) {
      return Want::Read;
    } else {
      return fail(error());
    }
  }
}

template <typename Endpoint>
void Transport<Endpoint>::close_write() noexcept {
  if (channel_.secure() && !channel_.failed() && !failed()) {
    for (int i = 0; i < 4 && channel_.close_notify() == tls::Progress::NeedsWrite; ++i) {
      if (flush() != Want::Done) break;
    }
  }
  shutdown_write();
}

// The skeleton of every awaitable operation on a transport. Derived supplies
// `Want run()` (try to finish without blocking; on Done, `result` is set)
// and `Result result`. A run that finishes at once costs no suspension,
// unless the coroutine has spent its budget (then it yields first).
template <typename Derived, typename Result>
struct TransportOp : IoOp {
  // Set once, when the operation ends (constructing a StatusOr up front for
  // nothing would cost more than the rest of a buffered recv()).
  std::optional<Result> result;
  Want want = Want::Done;
  bool queued = false;

  explicit TransportOp(TransportBase& t) noexcept { transport = &t; }
  TransportOp(const TransportOp&) = delete;

  bool await_ready() noexcept {
    EventLoop& loop = transport->loop();
    if (ABSL_PREDICT_FALSE(loop.stopping())) {
      result = absl::CancelledError("event loop stopped");
      queued = true;
      return false;
    }
    want = static_cast<Derived*>(this)->run();
    if (ABSL_PREDICT_TRUE(want == Want::Done)) {
      if (ABSL_PREDICT_TRUE(loop.take_budget())) return true;
      queued = true;  // budget spent: let the others run first
    }
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    handle = h;
    if (queued) {
      transport->loop().make_ready(*this);
      return;
    }
    step = [](IoOp* op) { return static_cast<Derived*>(op)->run(); };
    fail = [](IoOp* op, absl::Status why) { static_cast<Derived*>(op)->result = std::move(why); };
    transport->wait(*this, want);
  }
  Result await_resume() noexcept { return *std::move(result); }
};

}  // namespace tern::epoll::detail

#endif  // TERN_BACKENDS_EPOLL_TRANSPORT_H_
