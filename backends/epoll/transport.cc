#include "backends/epoll/transport.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"

namespace tern::epoll::detail {

TransportBase::TransportBase(EventLoop& loop, int fd, const SocketOptions& o) noexcept
    : loop_(&loop),
      loop_handle_(loop.handle()),
      fd_(fd),
      level_triggered_(loop.level_triggered()),
      read_timeout_ns_(o.read_timeout == absl::InfiniteDuration() ? 0 : EventLoop::to_ns(o.read_timeout)),
      write_timeout_ns_(o.write_timeout == absl::InfiniteDuration() ? 0 : EventLoop::to_ns(o.write_timeout)),
      read_timeout_(o.read_timeout),
      write_timeout_(o.write_timeout),
      idle_release_ns_(o.release_memory_when_idle == absl::InfiniteDuration()
                           ? 0
                           : std::max<std::uint64_t>(1, EventLoop::to_ns(o.release_memory_when_idle))) {
  on_events = &TransportBase::handle_events;
  read_timer_.owner = this;
  write_timer_.owner = this;
  idle_timer_.owner = this;
  idle_timer_.fire = [](Timer* t) {
    TransportBase* self = static_cast<OwnedTimer*>(t)->owner;
    // Still waiting for bytes since the timer was last pushed: idle.
    if (self->reader_ != nullptr && self->reader_wants_ == Want::Read) self->release_memory_(self);
  };
  read_timer_.fire = [](Timer* t) {
    TransportBase* self = static_cast<OwnedTimer*>(t)->owner;
    if (self->reader_ == nullptr) return;
    self->set_error(absl::DeadlineExceededError(
        absl::StrCat("read timed out after ", absl::FormatDuration(self->read_timeout_))));
    // The endpoint learns of it from the operation's next step.
    self->retry(self->reader_);
  };
  write_timer_.fire = [](Timer* t) {
    TransportBase* self = static_cast<OwnedTimer*>(t)->owner;
    if (self->writer_ == nullptr) return;
    self->set_error(absl::DeadlineExceededError(
        absl::StrCat("write timed out after ", absl::FormatDuration(self->write_timeout_))));
    self->retry(self->writer_);
  };
}

TransportBase::~TransportBase() {
  if (loop_handle_->loop != nullptr) {
    finish(reader_, absl::CancelledError("connection destroyed"));
    finish(writer_, absl::CancelledError("connection destroyed"));
    if (fd_ >= 0 && registered_) loop_->remove(fd_);
  }
  // Else the loop went first, and every frame with it (nothing waits here);
  // its wheel disarmed our timers.
  if (fd_ >= 0) ::close(fd_);
}

absl::Status TransportBase::start() noexcept {
  const absl::Status st = loop_->level_triggered()
                              ? loop_->add_level_triggered(fd_, *this, EPOLLIN | EPOLLRDHUP)
                              : loop_->add(fd_, *this);
  if (!st.ok()) return st;
  registered_ = true;
  return absl::OkStatus();
}

void TransportBase::update_level_interest() noexcept {
  if (!registered_) return;
  const bool want = writer_ != nullptr || flush_pending_ || (reader_ != nullptr && reader_wants_ == Want::Write);
  if (want == watching_writes_) return;
  watching_writes_ = want;
  loop_->modify(fd_, *this, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0));
}

std::ptrdiff_t TransportBase::read_some(std::span<std::uint8_t> into) noexcept {
  for (;;) {
    ++read_calls_;
    const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
    if (ABSL_PREDICT_TRUE(n > 0)) {
      // Edge-triggered: a short read drained the socket, and Linux reports
      // the next arrival, so no read that would only say EAGAIN is made.
      // Not after a hangup: the EOF behind these bytes has had its edge.
      if (static_cast<std::size_t>(n) < into.size() && !hangup_) readable_ = false;
      return n;
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      return kWouldBlock;
    }
    set_error(errno_status(errno, "read"));
    return kFailed;
  }
}

std::ptrdiff_t TransportBase::write_some(std::span<const std::uint8_t> bytes) noexcept {
  for (;;) {
    // MSG_NOSIGNAL: a vanished peer is EPIPE, never SIGPIPE.
    ++write_calls_;
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (ABSL_PREDICT_TRUE(n >= 0)) {
      if (static_cast<std::size_t>(n) < bytes.size()) writable_ = false;
      return n == 0 ? kWouldBlock : n;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      writable_ = false;
      return kWouldBlock;
    }
    set_error(errno_status(errno, "write"));
    return kFailed;
  }
}

void TransportBase::shutdown_write() noexcept {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void TransportBase::wait(IoOp& op, Want want) noexcept {
  op.cancel = &TransportBase::cancel_op;
  IoOp*& slot = op.writer ? writer_ : reader_;
  if (ABSL_PREDICT_FALSE(slot != nullptr)) {
    op.fail(&op, absl::FailedPreconditionError(op.writer ? "another coroutine is already sending on this connection"
                                                         : "another coroutine is already receiving on this connection"));
    loop_->make_ready(op);
    return;
  }
  if (op.writer) {
    writer_ = &op;
    if (write_timeout_ns_ != 0) loop_->postpone(write_timer_, loop_->now_ns() + write_timeout_ns_);
  } else {
    // A reader that must first write (TLS) waits for writability in the
    // reader's slot.
    reader_ = &op;
    reader_wants_ = want;
    if (read_timeout_ns_ != 0) loop_->postpone(read_timer_, loop_->now_ns() + read_timeout_ns_);
    if (idle_release_ns_ != 0) loop_->postpone(idle_timer_, loop_->now_ns() + idle_release_ns_);
  }
  loop_->park(op);
  update_interest();
}

void TransportBase::handle_events(Pollable* p, std::uint32_t events) {
  auto* self = static_cast<TransportBase*>(p);
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) self->readable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) self->hangup_ = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) self->writable_ = true;
  if (self->writable_) {
    if (self->writer_ != nullptr) {
      self->retry(self->writer_);
    } else if (self->flush_pending_) {
      self->flush_pending_ = self->background_flush_(self) == Want::Write;
      if (!self->flush_pending_ && self->close_after_flush_) {
        self->close_after_flush_ = false;
        self->background_close_(self);
      }
    }
  }
  if (self->reader_ != nullptr &&
      (self->reader_wants_ == Want::Read ? self->readable_ : self->writable_)) {
    self->retry(self->reader_);
  }
  self->update_interest();
}

void TransportBase::retry(IoOp*& slot) noexcept {
  IoOp* op = slot;
  const Want w = op->step(op);
  if (w == Want::Done) {
    slot = nullptr;
    update_interest();
    loop_->cancel(&slot == &reader_ ? static_cast<Timer&>(read_timer_) : static_cast<Timer&>(write_timer_));
    loop_->make_ready(*op);  // leaves the parked list
    return;
  }
  if (&slot == &reader_) reader_wants_ = w;
}

void TransportBase::finish(IoOp*& slot, absl::Status why) noexcept {
  IoOp* op = slot;
  if (op == nullptr) return;
  slot = nullptr;
  op->fail(op, std::move(why));
  loop_->make_ready(*op);
}

void TransportBase::cancel_op(Waiter* w) noexcept {
  auto* op = static_cast<IoOp*>(w);
  TransportBase* self = op->transport;
  if (self->reader_ == op) {
    self->reader_ = nullptr;
    self->loop_->cancel(self->read_timer_);
  }
  if (self->writer_ == op) {
    self->writer_ = nullptr;
    self->loop_->cancel(self->write_timer_);
  }
  op->fail(op, absl::CancelledError("event loop stopped"));
}

}  // namespace tern::epoll::detail
