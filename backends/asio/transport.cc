#include "backends/asio/transport.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "asio/error.hpp"
#include "asio/io_context.hpp"
#include "backends/asio/socket.h"
#include "backends/status.h"

namespace tern::asio::detail {

namespace {

constexpr Clock::time_point kNever = Clock::time_point::max();

Clock::duration to_clock(absl::Duration d) {
  return std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(d));
}

// The transports on one io_context, counted (an Asio service, one per
// io_context) so that a read knows whether other connections' work may be
// queued ahead of it.
class ContextConnections : public ::asio::execution_context::service {
 public:
  using key_type = ContextConnections;
  static inline ::asio::execution_context::id id;
  explicit ContextConnections(::asio::execution_context& context) : service(context) {}
  std::atomic<int> count{0};

 private:
  void shutdown() override {}
};

}  // namespace

// What every internal handler shares: it holds a reference to the
// transport while it exists and takes its memory from the connection's
// HandlerMemory. One destroyed without running (a moved-from one never
// counts) means the io_context is going away. Handlers say they run on the
// connection's executor (OnExecutor), except a Kick posted straight to an
// io_context, where saying so would make post() wrap it in a type-erased
// dispatcher that allocates.
template <typename Endpoint>
struct Transport<Endpoint>::HandlerBase {
  explicit HandlerBase(Transport* t) noexcept : t(t), owns(true) { t->add_ref(); }
  HandlerBase(HandlerBase&& o) noexcept : t(o.t), owns(std::exchange(o.owns, false)) {}
  HandlerBase(const HandlerBase&) = delete;
  HandlerBase& operator=(const HandlerBase&) = delete;
  ~HandlerBase() {
    if (owns) {
      t->abandon();
      t->release();
    }
  }
  // Marks the handler as run; the caller releases the reference when done.
  Transport* take() noexcept {
    owns = false;
    return t;
  }

  using allocator_type = HandlerAllocator<void>;
  allocator_type get_allocator() const noexcept { return allocator_type(&t->memory_); }

  Transport* t;
  bool owns;
};

template <typename Endpoint>
struct Transport<Endpoint>::OnExecutor : HandlerBase {
  using HandlerBase::HandlerBase;
  using executor_type = Executor;
  executor_type get_executor() const noexcept { return this->t->executor_; }
};

template <typename Endpoint>
struct Transport<Endpoint>::ReadDone : OnExecutor {
  using OnExecutor::OnExecutor;
  using cancellation_slot_type = ::asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return this->t->read_signal_.slot(); }
  void operator()(const std::error_code& ec, std::size_t n) {
    Transport* t = this->take();
    t->on_read(ec, n);
    t->release();
  }
};

template <typename Endpoint>
struct Transport<Endpoint>::WriteDone : OnExecutor {
  using OnExecutor::OnExecutor;
  using cancellation_slot_type = ::asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return this->t->write_signal_.slot(); }
  void operator()(const std::error_code& ec, std::size_t n) {
    Transport* t = this->take();
    t->on_write(ec, n);
    t->release();
  }
};

template <typename Endpoint>
struct Transport<Endpoint>::TimerDone : OnExecutor {
  TimerDone(Transport* t, std::uint64_t generation) noexcept : OnExecutor(t), generation(generation) {}
  void operator()(const std::error_code&) {
    Transport* t = this->take();
    // A wait replaced by an earlier deadline, or cancelled by owner_gone().
    if (generation == t->timer_generation_ && !t->closed_) t->on_timer();
    t->release();
  }
  std::uint64_t generation;
};

// A completion posted for later: an op finished inside its initiating
// function, or a cancelled op whose socket operation is not the read.
template <typename Endpoint>
template <typename Base>
struct Transport<Endpoint>::Kick : Base {
  Kick(Transport* t, Side side) noexcept : Base(t), side(side) {}
  void operator()() {
    Transport* t = this->take();
    t->on_kick(side);
    t->release();
  }
  Side side;
};

// A read started one turn of the io_context later (start_read()).
template <typename Endpoint>
struct Transport<Endpoint>::ReadLater : HandlerBase {
  using HandlerBase::HandlerBase;
  void operator()() {
    Transport* t = this->take();
    t->on_read_later();
    t->release();
  }
};

// Installed in the caller's cancellation slot while its op waits.
template <typename Endpoint>
struct Transport<Endpoint>::CancelForward {
  Transport* t;
  Side side;
  void operator()(::asio::cancellation_type type) { t->cancel(side, type); }
};

template <typename Endpoint>
Transport<Endpoint>::Transport(Socket socket, const SocketOptions& o, tls::Channel channel, Endpoint endpoint)
    : executor_(socket.get_executor()),
      socket_(std::move(socket)),
      timer_(executor_),
      channel_(std::move(channel)),
      endpoint_(std::move(endpoint)),
      read_timeout_(o.read_timeout),
      write_timeout_(o.write_timeout) {
  if (read_timeout_ != absl::InfiniteDuration()) read_timeout_d_ = to_clock(read_timeout_);
  if (write_timeout_ != absl::InfiniteDuration()) write_timeout_d_ = to_clock(write_timeout_);
  if (o.release_memory_when_idle != absl::InfiniteDuration()) {
    idle_period_ = std::max(to_clock(o.release_memory_when_idle), Clock::duration(1));
  }
  std::error_code ec;
  // Writes are tried directly first; a would-block goes to the reactor.
  socket_.non_blocking(true, ec);
  if (ec) set_error(io_status(ec, "socket"));
  if (const auto* io = executor_.template target<::asio::io_context::executor_type>()) {
    ::asio::execution_context& context = io->context();
    connections_on_context_ = &::asio::use_service<ContextConnections>(context).count;
    connections_on_context_->fetch_add(1, std::memory_order_relaxed);
  }
}

template <typename Endpoint>
Transport<Endpoint>::~Transport() {
  if (connections_on_context_ != nullptr) connections_on_context_->fetch_sub(1, std::memory_order_relaxed);
}

template <typename Endpoint>
void Transport<Endpoint>::owner_gone() noexcept {
  closed_ = true;
  std::error_code ec;
  socket_.close(ec);
  timer_.cancel();
  ++timer_generation_;
  release();
}

// --- operations ----------------------------------------------------------

template <typename Endpoint>
void Transport<Endpoint>::start_op(Op* op, Side side) noexcept {
  slot(side) = op;
  if (side == Side::Reader) reader_wants_ = Want::Done;
  // An op whose caller has just stepped it (recv() after try_recv()) waits
  // at once.
  const Want w = op->first != Want::Done ? op->first : op->step(op);
  if (w == Want::Done) {
    // Asio's rule: never complete inside the initiating function.
    deliver_pending_[static_cast<int>(side)] = true;
    post_kick(side);
    return;
  }
  if (op->slot.is_connected()) op->slot.template emplace<CancelForward>(CancelForward{this, side});
  wait(side, w);
}

template <typename Endpoint>
void Transport<Endpoint>::retry(Side side) noexcept {
  Op* op = slot(side);
  if (op == nullptr || deliver_pending_[static_cast<int>(side)]) return;
  // The read buffer is the kernel's while a read is in flight.
  if (side == Side::Reader && read_in_flight_) return;
  const Want w = op->step(op);
  if (w == Want::Done) {
    op->finish(op, true);
    return;
  }
  wait(side, w);
}

template <typename Endpoint>
void Transport<Endpoint>::wait(Side side, Want want) noexcept {
  if (side == Side::Reader) reader_wants_ = want;
  if (want == Want::Read) {
    start_read();
    const bool deadline = read_timeout_d_ != Clock::duration::zero() && !keep_read_deadline_;
    const bool idle_check = idle_period_ != Clock::duration::zero() && idle_deadline_ == kNever && !released_;
    if (deadline || idle_check) {
      const Clock::time_point now = Clock::now();
      if (deadline) read_deadline_ = now + read_timeout_d_;
      if (idle_check) {
        idle_deadline_ = now + idle_period_;
        idle_mark_ = read_calls_;
      }
      arm_timer();
    }
  } else if (write_timeout_d_ != Clock::duration::zero()) {
    write_deadline_ = Clock::now() + write_timeout_d_;
    arm_timer();
  }
  // Waiting on a write that is not in flight would wait forever: the step
  // said Write because the kernel is full, so flush() started one, unless
  // the transport failed meanwhile (then retry at once).
  if (want == Want::Write && !write_in_flight_) post_kick(side);
}

template <typename Endpoint>
void Transport<Endpoint>::cancel(Side side, ::asio::cancellation_type type) noexcept {
  Op* op = slot(side);
  if (op == nullptr || deliver_pending_[static_cast<int>(side)]) return;
  using ::asio::cancellation_type;
  if ((type & (cancellation_type::terminal | cancellation_type::partial | cancellation_type::total)) ==
      cancellation_type::none) {
    return;
  }
  op->cancelled = op->cancelled | type;
  if (side == Side::Reader) {
    if (reader_wants_ == Want::Read && read_in_flight_) {
      cancel_read();  // on_read steps the op
    } else {
      post_kick(side);
    }
    return;
  }
  // A write: stop the socket operation only where the op's step will honour
  // the cancellation (websocket.h: terminal always; partial while nothing
  // is half-sent). Otherwise the step sees the request when the write
  // completes.
  const bool terminal = (type & cancellation_type::terminal) != cancellation_type::none;
  const bool partial = (type & cancellation_type::partial) != cancellation_type::none;
  if (write_in_flight_ && (terminal || (partial && written_since_drain_ == 0))) {
    write_signal_.emit(cancellation_type::terminal);
  }
}

template <typename Endpoint>
void Transport<Endpoint>::on_kick(Side side) noexcept {
  Op* op = slot(side);
  if (op == nullptr) return;
  if (deliver_pending_[static_cast<int>(side)]) {
    op->finish(op, true);
    return;
  }
  retry(side);
}

template <typename Endpoint>
void Transport<Endpoint>::abandon() noexcept {
  add_ref();
  for (Side side : {Side::Reader, Side::Writer}) {
    if (Op* op = slot(side)) op->finish(op, false);
  }
  release();
}

template <typename Endpoint>
void Transport<Endpoint>::post_kick(Side side) noexcept {
  // On a plain io_context, post to its own executor: the operation then
  // comes from the connection's memory. Anything else (a strand) goes
  // through the type-erased executor, which allocates for it.
  if (const auto* io = executor_.template target<::asio::io_context::executor_type>()) {
    ::asio::post(*io, Kick<HandlerBase>(this, side));
  } else {
    ::asio::post(executor_, Kick<OnExecutor>(this, side));
  }
}

// --- the read and the write in flight -------------------------------------

// The step wants more bytes, so the socket was usually just drained, and
// Asio starts every read with a speculative recv(), which would then fail
// and cost a syscall (3 per echo where Beast makes 2). When other
// connections share the io_context, the read starts one turn later, after
// the handlers already queued (their work), by which time the peer's next
// bytes have often arrived. Alone, there is nothing to wait behind, and a
// posted handler would cost the scheduler an extra epoll_wait.
template <typename Endpoint>
void Transport<Endpoint>::start_read() noexcept {
  if (read_in_flight_ || closed_) return;
  read_in_flight_ = true;
  if (connections_on_context_ != nullptr && connections_on_context_->load(std::memory_order_relaxed) > 1) {
    read_posted_ = true;
    ::asio::post(*executor_.template target<::asio::io_context::executor_type>(), ReadLater(this));
    return;
  }
  start_socket_read();
}

template <typename Endpoint>
void Transport<Endpoint>::start_socket_read() noexcept {
  const std::span<std::uint8_t> space = channel_.read_space(endpoint_.read_buffer());
  socket_.async_read_some(::asio::buffer(space.data(), space.size()), ReadDone(this));
}

template <typename Endpoint>
void Transport<Endpoint>::on_read_later() noexcept {
  read_posted_ = false;
  if (closed_ || std::exchange(read_cancel_requested_, false)) {
    on_read(::asio::error::operation_aborted, 0);
    return;
  }
  start_socket_read();
}

template <typename Endpoint>
void Transport<Endpoint>::cancel_read() noexcept {
  if (read_posted_) {
    read_cancel_requested_ = true;
  } else {
    read_signal_.emit(::asio::cancellation_type::terminal);
  }
}

template <typename Endpoint>
void Transport<Endpoint>::on_read(const std::error_code& ec, std::size_t n) noexcept {
  read_in_flight_ = false;
  const bool aborted = ec && ec == ::asio::error::operation_aborted;
  if (!aborted) ++read_calls_;
  if (ABSL_PREDICT_TRUE(!ec)) {
    released_ = false;
    channel_.received(n, endpoint_.read_buffer());
  } else if (ec == ::asio::error::eof) {
    eof_ = true;
    channel_.received_eof();
  } else if (!aborted) {
    set_error(io_status(ec, "read"));
  }
  // Aborted: a cancellation, a deadline, owner_gone() or the idle release;
  // the step decides (the first three), or the read simply starts again.
  const bool idle_release = std::exchange(release_requested_, false) && aborted;
  if (idle_release) {
    // Nothing is in flight now: the buffers are ours to release.
    endpoint_.release_memory();
    released_ = true;
    ++memory_releases_;
    keep_read_deadline_ = true;  // the same wait for bytes goes on
  } else {
    read_deadline_ = kNever;
  }
  if (reader_wants_ == Want::Read) retry(Side::Reader);
  keep_read_deadline_ = false;
}

template <typename Endpoint>
void Transport<Endpoint>::start_write() noexcept {
  if (write_in_flight_ || closed_ || failed()) return;
  const std::span<const std::uint8_t> out = channel_.output(endpoint_);
  if (out.empty()) return;
  write_in_flight_ = true;
  socket_.async_write_some(::asio::buffer(out.data(), out.size()), WriteDone(this));
}

template <typename Endpoint>
void Transport<Endpoint>::on_write(const std::error_code& ec, std::size_t n) noexcept {
  write_in_flight_ = false;
  ++write_calls_;
  if (!ec) {
    channel_.written(endpoint_, n);
    written_since_drain_ += n;
    if (channel_.output(endpoint_).empty()) written_since_drain_ = 0;
  } else if (ec != ::asio::error::operation_aborted) {
    set_error(io_status(ec, "write"));
    endpoint_.abort();
  }
  // Keep draining unless stopped (a cancellation, a deadline, owner_gone()).
  if (!ec) start_write();
  if (!write_in_flight_) {
    write_deadline_ = kNever;
    if (close_after_flush_ && !failed() && channel_.output(endpoint_).empty()) {
      close_after_flush_ = false;
      close_write();
    }
  }
  if (writer_ != nullptr) retry(Side::Writer);
  if (reader_wants_ == Want::Write) retry(Side::Reader);
}

// --- time -----------------------------------------------------------------

template <typename Endpoint>
void Transport<Endpoint>::set_state_timeout(absl::Duration d) noexcept {
  if (d == absl::InfiniteDuration()) {
    state_deadline_ = kNever;
    // The handshake or close is over; with no read in flight there is
    // nothing to be idle about either.
    if (!read_in_flight_) idle_deadline_ = kNever;
    // Unlike the per-wait deadlines (moved lazily, see arm_timer()), a state
    // ends once: stop the timer now if nothing else needs it, so a finished
    // handshake or close does not keep the io_context busy.
    const bool reading = read_in_flight_ && read_deadline_ != kNever;
    const bool writing = write_in_flight_ && write_deadline_ != kNever;
    if (timer_armed_ && !reading && !writing && idle_deadline_ == kNever) {
      timer_armed_ = false;
      ++timer_generation_;
      timer_.cancel();
    }
    return;
  }
  state_deadline_ = Clock::now() + to_clock(d);
  arm_timer();
}

template <typename Endpoint>
void Transport<Endpoint>::arm_timer() noexcept {
  Clock::time_point earliest = std::min(state_deadline_, idle_deadline_);
  if (read_in_flight_ && read_deadline_ < earliest) earliest = read_deadline_;
  if (write_in_flight_ && write_deadline_ < earliest) earliest = write_deadline_;
  if (earliest == kNever || closed_) return;
  // Armed at or before it: that wait re-arms when it fires.
  if (timer_armed_ && armed_at_ <= earliest) return;
  timer_.expires_at(earliest);  // a pending wait ends as a stale generation
  armed_at_ = earliest;
  timer_armed_ = true;
  timer_.async_wait(TimerDone(this, ++timer_generation_));
}

template <typename Endpoint>
void Transport<Endpoint>::on_timer() noexcept {
  timer_armed_ = false;
  const Clock::time_point now = Clock::now();
  if (read_in_flight_ && read_deadline_ <= now) {
    read_deadline_ = kNever;
    set_error(absl::DeadlineExceededError(
        absl::StrCat("read timed out after ", absl::FormatDuration(read_timeout_))));
    cancel_read();
  }
  if (write_in_flight_ && write_deadline_ <= now && (writer_ != nullptr || reader_wants_ == Want::Write)) {
    write_deadline_ = kNever;
    set_error(absl::DeadlineExceededError(
        absl::StrCat("write timed out after ", absl::FormatDuration(write_timeout_))));
    endpoint_.abort();
    write_signal_.emit(::asio::cancellation_type::terminal);
  }
  if (idle_deadline_ <= now) {
    idle_deadline_ = kNever;
    if (reader_ != nullptr && reader_wants_ == Want::Read && read_in_flight_) {
      if (read_calls_ == idle_mark_ && !failed()) {
        // Idle for a whole period. The buffers may not be touched while the
        // reactor may read into them (on a thread pool, concurrently with
        // this handler): cancel the read, release in on_read().
        release_requested_ = true;
        cancel_read();
      } else {
        idle_deadline_ = now + idle_period_;
        idle_mark_ = read_calls_;
      }
    }
  }
  if (state_deadline_ <= now) {
    state_deadline_ = kNever;
    if (on_state_timeout != nullptr) on_state_timeout(this);
    // The reader learns of it from its next step.
    if (read_in_flight_) {
      cancel_read();
    } else if (reader_wants_ == Want::Write) {
      retry(Side::Reader);
    }
  }
  arm_timer();
}

// --- bytes ------------------------------------------------------------------

template <typename Endpoint>
Want Transport<Endpoint>::fill() noexcept {
  ReadBuf& buf = endpoint_.read_buffer();
  for (;;) {
    if (ABSL_PREDICT_FALSE(failed())) {
      endpoint_.abort();  // a deadline may have failed us between steps
      return Want::Done;
    }
    switch (channel_.pull(buf)) {
      case tls::Pull::Data:
        return Want::Done;
      case tls::Pull::Input:
        if (channel_.read_space(buf).empty()) return fail(absl::ResourceExhaustedError("read buffer full"));
        return Want::Read;
      case tls::Pull::Closed:
        eof_ = true;
        endpoint_.receive_eof();
        return Want::Done;
      case tls::Pull::Failed:
        flush_in_background();  // the alert telling the peer why
        return fail(tls_status(*channel_.codec()));
      case tls::Pull::Full:
        return fail(absl::ResourceExhaustedError("read buffer full"));
      case tls::Pull::Flush:
        if (const Want w = flush(); w != Want::Done) return w;
        continue;
    }
  }
}

template <typename Endpoint>
Want Transport<Endpoint>::flush() noexcept {
  if (write_in_flight_) return Want::Write;
  for (;;) {
    if (ABSL_PREDICT_FALSE(failed())) {
      endpoint_.abort();
      return Want::Done;
    }
    const std::span<const std::uint8_t> out = channel_.output(endpoint_);
    if (out.empty()) {
      written_since_drain_ = 0;
      return Want::Done;
    }
    if (ABSL_PREDICT_FALSE(closed_)) return Want::Done;
    std::error_code ec;
    const std::size_t n = socket_.write_some(::asio::buffer(out.data(), out.size()), ec);
    ++write_calls_;
    if (ABSL_PREDICT_TRUE(!ec)) {
      channel_.written(endpoint_, n);
      written_since_drain_ += n;
      if (ABSL_PREDICT_TRUE(n == out.size())) continue;
      // The kernel is full: the rest goes through the reactor.
      start_write();
      return Want::Write;
    }
    if (ec == ::asio::error::would_block || ec == ::asio::error::try_again) {
      start_write();
      return Want::Write;
    }
    return fail(io_status(ec, "write"));
  }
}

template <typename Endpoint>
void Transport<Endpoint>::flush_then_close() noexcept {
  if (flush() == Want::Done) {
    close_write();
  } else {
    close_after_flush_ = true;
  }
}

template <typename Endpoint>
void Transport<Endpoint>::close_write() noexcept {
  if (closed_) return;
  if (channel_.secure() && !channel_.failed() && !failed()) {
    for (int i = 0; i < 4 && channel_.close_notify() == tls::Progress::NeedsWrite; ++i) {
      if (flush() != Want::Done) {
        close_after_flush_ = true;  // once the write in flight drains
        return;
      }
    }
  }
  std::error_code ec;
  socket_.shutdown(Socket::shutdown_send, ec);
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
    if (eof_) return fail(absl::UnavailableError("tls handshake: peer closed the connection"));
    // The read in flight lands in the codec's ring (channel.read_space()).
    return Want::Read;
  }
}

template class Transport<ws::Connection>;
template class Transport<http::ClientConnection>;

}  // namespace tern::asio::detail
