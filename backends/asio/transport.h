// File: transport.h
//
// Transport<Endpoint> is one TCP connection on an Asio executor, carrying a
// core connection object (Endpoint: ws::Connection or
// http::ClientConnection) through a tls::Channel (plain or TLS). It moves
// bytes and keeps time; the Endpoint decides everything else. It is the
// Asio backend's only I/O path, the counterpart of the epoll backend's
// Transport, with the same step functions (fill(), flush()) and statuses.
//
// Operations. A caller's operation (a recv, a send, a close, an HTTP
// request) is an Op on one of two sides, reader or writer, at most one each.
// start() runs its step at once: a message already buffered, or a frame the
// kernel takes whole, finishes there (the handler is posted, never invoked
// inline). Otherwise the op waits for the connection's one read in flight
// (socket.async_read_some into the endpoint's buffer, or the TLS ring) or
// its one write in flight (async_write_some of what the endpoint queued),
// and is stepped again when that completes. Writes are first tried
// directly on the non-blocking socket; only what the kernel refuses goes to
// async_write_some, which keeps draining in the background.
//
// Time: one steady_timer per connection serves the read deadline (each wait
// for bytes, SocketOptions::read_timeout), the write deadline (each wait for
// the kernel, write_timeout), the owner's state deadline (the core's
// handshake and close timeouts) and the idle check
// (release_memory_when_idle: a reader that saw no bytes for a whole period
// has the read in flight cancelled, the endpoint's buffers released, and
// the read started again). Moving a deadline later costs nothing: the
// timer stays armed at the earlier time and re-arms when it fires, so an
// active read deadline costs one clock read per wait, not a timer operation.
// (Consequence: the timer may stay armed up to one timeout after the last
// operation; io_context::run() returns once it fires or the connection is
// destroyed.) A deadline poisons the transport like any I/O error.
//
// Cancellation (per operation, through the handler's cancellation slot):
// what it means is each op's choice (websocket.h documents it); the
// transport cancels only the socket operation the op waits on, and a read is
// completed only after the read in flight has come back, so the buffer is
// never touched while the kernel may still write to it.
//
// Memory: ops live in two fixed slots inside the transport and Asio's own
// operations in its HandlerMemory, so steady state allocates nothing.
//
// Lifetime and threads: reference counted. The owner (a WebSocket or
// HttpConnection) holds one reference and every internal handler in flight
// one; owner_gone() closes the socket, and pending ops then end with
// kCancelled. If the io_context is destroyed with handlers pending, the ops
// are destroyed with them (their handlers never run), as Asio does. All
// internal handlers run on the connection's executor: on a thread pool,
// make it a strand and call the connection only from that strand.
#ifndef TERN_BACKENDS_ASIO_TRANSPORT_H_
#define TERN_BACKENDS_ASIO_TRANSPORT_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/cancellation_signal.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/post.hpp"
#include "asio/steady_timer.hpp"
#include "backends/asio/handler_memory.h"
#include "backends/asio/op.h"
#include "backends/options.h"
#include "core/http/client_connection.h"
#include "core/tls/channel.h"
#include "core/ws/connection.h"

namespace tern::asio::detail {

using Clock = std::chrono::steady_clock;

template <typename Endpoint>
class Transport;

// The base of every op kind on a Transport<Endpoint>; Side is the kind's.
template <typename Endpoint>
struct OpOn : Op {
  OpOn(Transport<Endpoint>& t, Side side) noexcept : transport_(&t), side_(side) {}
  Transport<Endpoint>& transport() const noexcept { return *transport_; }
  Side side() const noexcept { return side_; }

 private:
  Transport<Endpoint>* transport_;
  Side side_;
};

template <typename Endpoint>
class Transport {
 public:
  using Executor = ::asio::any_io_executor;
  using Socket = ::asio::ip::tcp::socket;
  // Per side; larger ops (unusually large handlers) come from the heap.
  static constexpr std::size_t kOpStorage = 256;

  // Takes a connected socket; its executor becomes the connection's.
  // Starts with one reference, the owner's.
  Transport(Socket socket, const SocketOptions& options, tls::Channel channel, Endpoint endpoint);
  virtual ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // The owner is being destroyed: close the socket (pending ops end with
  // kCancelled), cancel the timer, drop the owner's reference.
  void owner_gone() noexcept;
  bool closed() const noexcept { return closed_; }

  const Executor& executor() const noexcept { return executor_; }
  Endpoint& endpoint() noexcept { return endpoint_; }
  const Endpoint& endpoint() const noexcept { return endpoint_; }
  tls::Channel& channel() noexcept { return channel_; }
  const tls::Channel& channel() const noexcept { return channel_; }
  const absl::Status& error() const noexcept { return error_; }
  bool failed() const noexcept { return !error_.ok(); }
  void set_error(absl::Status why) noexcept {
    if (error_.ok()) error_ = std::move(why);
  }
  // The peer ended the stream (EOF).
  bool eof() const noexcept { return eof_; }
  // No byte of what is queued has left since the output was last empty:
  // every queued frame (or request) is still whole.
  bool nothing_half_sent() const noexcept { return written_since_drain_ == 0; }

  // --- operations ----------------------------------------------------------
  bool busy(Side side) const noexcept { return slot(side) != nullptr; }
  // Builds a Kind op holding `handler` and starts it; a side already busy
  // completes at once with kFailedPrecondition.
  template <typename Kind, typename Handler, typename... Args>
  void start(Handler&& handler, Args&&... args);
  // Destroys an op and releases its storage (HandlerOp::do_finish).
  template <typename T>
  void free_op(T* op) noexcept;

  // --- bytes, for op steps -----------------------------------------------
  // Until the endpoint has new plaintext: Done when it has, when the stream
  // ended (endpoint told) or the transport failed (endpoint aborted); Read
  // to wait for bytes, Write when TLS must send first.
  Want fill() noexcept;
  // Writes what the endpoint queued: Done when all of it left or the
  // transport failed; Write when the kernel took less (the rest keeps
  // leaving in the background).
  Want flush() noexcept;
  // flush() with nobody waiting: automatic Pongs, a Close echo.
  void flush_in_background() noexcept { (void)flush(); }
  // Writes what is queued (in the background if need be), then ends our
  // direction: how a Close reply or a failure leaves.
  void flush_then_close() noexcept;
  // TLS close_notify (best effort), then shutdown(SHUT_WR).
  void close_write() noexcept;
  // The TLS handshake alone (HTTP connect): Done when finished or failed
  // (error() says why), else what to wait for.
  Want tls_handshake() noexcept;

  // --- the owner's deadline (the core's handshake and close timeouts) ----
  // InfiniteDuration(): none. On expiry on_state_timeout runs, then the
  // reader is stepped.
  void set_state_timeout(absl::Duration d) noexcept;
  void (*on_state_timeout)(Transport* self) noexcept = nullptr;

  // Reads and writes made so far (socket calls and completions), for tests.
  std::uint64_t read_calls() const noexcept { return read_calls_; }
  std::uint64_t write_calls() const noexcept { return write_calls_; }
  // Times the idle connection gave its buffers' memory back.
  std::uint64_t memory_releases() const noexcept { return memory_releases_; }
  // Ops and Asio operations that did not fit the connection's own memory.
  std::size_t overflows() const noexcept { return op_overflows_ + memory_.overflows(); }

 private:
  struct HandlerBase;
  struct OnExecutor;
  struct ReadDone;
  struct WriteDone;
  struct TimerDone;
  template <typename Base>
  struct Kick;
  struct ReadLater;
  struct CancelForward;

  Op*& slot(Side side) noexcept { return side == Side::Reader ? reader_ : writer_; }
  Op* slot(Side side) const noexcept { return side == Side::Reader ? reader_ : writer_; }
  void* storage(Side side) noexcept { return side == Side::Reader ? reader_storage_ : writer_storage_; }
  template <typename Handler, typename Result>
  void post_result(Handler&& handler, Result&& result);

  void start_op(Op* op, Side side) noexcept;
  void retry(Side side) noexcept;
  void wait(Side side, Want want) noexcept;
  void cancel(Side side, ::asio::cancellation_type type) noexcept;
  void on_read(const std::error_code& ec, std::size_t n) noexcept;
  void on_write(const std::error_code& ec, std::size_t n) noexcept;
  void on_timer() noexcept;
  void on_kick(Side side) noexcept;
  // An internal handler was destroyed without running: the io_context is
  // going away, and so are the ops waiting on it.
  void abandon() noexcept;
  void start_read() noexcept;
  void start_socket_read() noexcept;
  void on_read_later() noexcept;
  // Cancels the read in flight, whether its socket operation has started
  // or is still a posted ReadLater.
  void cancel_read() noexcept;
  void start_write() noexcept;
  void post_kick(Side side) noexcept;
  void arm_timer() noexcept;
  Want fail(absl::Status why) noexcept {
    set_error(std::move(why));
    endpoint_.abort();
    return Want::Done;
  }

  // Declared first: everything below may hold handlers allocated here.
  HandlerMemory memory_;
  Executor executor_;
  Socket socket_;
  ::asio::steady_timer timer_;
  ::asio::cancellation_signal read_signal_;
  ::asio::cancellation_signal write_signal_;
  tls::Channel channel_;
  Endpoint endpoint_;
  std::atomic<int> refs_{1};

  Op* reader_ = nullptr;
  Op* writer_ = nullptr;
  Want reader_wants_ = Want::Done;
  bool deliver_pending_[2] = {false, false};
  bool read_in_flight_ = false;
  // The read in flight is a posted ReadLater (no socket operation yet), and
  // whether it was cancelled meanwhile.
  bool read_posted_ = false;
  bool read_cancel_requested_ = false;
  // How many transports share this one's io_context (null on any other
  // executor): with company, a read starts one turn later (start_read()).
  std::atomic<int>* connections_on_context_ = nullptr;
  bool write_in_flight_ = false;
  bool eof_ = false;
  bool closed_ = false;
  bool close_after_flush_ = false;
  // Bytes written since the output was last empty: 0 means every queued
  // frame is still whole in the buffer (a cancelled write left nothing
  // half-sent).
  std::uint64_t written_since_drain_ = 0;

  absl::Duration read_timeout_;
  absl::Duration write_timeout_;
  Clock::duration read_timeout_d_{};
  Clock::duration write_timeout_d_{};
  Clock::time_point read_deadline_ = Clock::time_point::max();
  Clock::time_point write_deadline_ = Clock::time_point::max();
  Clock::time_point state_deadline_ = Clock::time_point::max();
  // release_memory_when_idle: checked once a period, not per operation; a
  // reader that saw no read complete over a whole period is idle.
  Clock::duration idle_period_{};
  Clock::time_point idle_deadline_ = Clock::time_point::max();
  std::uint64_t idle_mark_ = 0;
  bool release_requested_ = false;  // the read in flight is being cancelled for it
  bool released_ = false;           // and done: until bytes arrive again
  bool keep_read_deadline_ = false;
  Clock::time_point armed_at_ = Clock::time_point::max();
  bool timer_armed_ = false;
  std::uint64_t timer_generation_ = 0;

  std::uint64_t read_calls_ = 0;
  std::uint64_t write_calls_ = 0;
  std::uint64_t memory_releases_ = 0;
  std::size_t op_overflows_ = 0;
  absl::Status error_;

  alignas(std::max_align_t) unsigned char reader_storage_[kOpStorage];
  alignas(std::max_align_t) unsigned char writer_storage_[kOpStorage];
};

template <typename Endpoint>
template <typename Handler, typename Result>
void Transport<Endpoint>::post_result(Handler&& handler, Result&& result) {
  ::asio::post(executor_, Bound<std::decay_t<Handler>, std::decay_t<Result>>{std::forward<Handler>(handler),
                                                                             std::forward<Result>(result)});
}

template <typename Endpoint>
template <typename Kind, typename Handler, typename... Args>
void Transport<Endpoint>::start(Handler&& handler, Args&&... args) {
  using Impl = HandlerOp<Kind, std::decay_t<Handler>>;
  constexpr Side side = Kind::kSide;
  if (busy(side)) {
    post_result(std::forward<Handler>(handler),
                typename Kind::Result(absl::FailedPreconditionError(
                    side == Side::Reader ? "another receive is pending on this connection"
                                         : "another send is pending on this connection")));
    return;
  }
  void* mem;
  if constexpr (sizeof(Impl) <= kOpStorage && alignof(Impl) <= alignof(std::max_align_t)) {
    mem = storage(side);
  } else {
    ++op_overflows_;
    mem = ::operator new(sizeof(Impl), std::align_val_t{alignof(Impl)});
  }
  Impl* op = new (mem) Impl(*this, std::forward<Handler>(handler), std::forward<Args>(args)...);
  start_op(op, side);
}

template <typename Endpoint>
template <typename T>
void Transport<Endpoint>::free_op(T* op) noexcept {
  const Side side = op->side();
  void* mem = op;
  op->~T();
  if constexpr (sizeof(T) <= kOpStorage && alignof(T) <= alignof(std::max_align_t)) {
    (void)mem;
  } else {
    ::operator delete(mem, std::align_val_t{alignof(T)});
  }
  slot(side) = nullptr;
  deliver_pending_[static_cast<int>(side)] = false;
}

extern template class Transport<ws::Connection>;
extern template class Transport<http::ClientConnection>;

}  // namespace tern::asio::detail

#endif  // TERN_BACKENDS_ASIO_TRANSPORT_H_
