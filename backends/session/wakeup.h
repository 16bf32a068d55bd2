// File: wakeup.h
//
// Wakeup is an eventfd that one thread signals and another polls: how the
// blocking (posix) session driver, waiting in poll(2) on its connections,
// learns that a helper thread finished a connect or that stop() was called
// from another thread. The event-loop drivers never create one.
// signal() may be called from any thread; drain() and fd() belong to the
// waiting thread.
#ifndef TERN_BACKENDS_SESSION_WAKEUP_H_
#define TERN_BACKENDS_SESSION_WAKEUP_H_

namespace tern::session::detail {

class Wakeup {
 public:
  Wakeup() noexcept = default;
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;
  ~Wakeup();

  // Creates the eventfd (once); false if the process is out of descriptors.
  bool open() noexcept;
  // -1 until open().
  int fd() const noexcept { return fd_; }
  // Any thread: makes fd() readable.
  void signal() noexcept;
  // Makes fd() unreadable again.
  void drain() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace tern::session::detail

#endif  // TERN_BACKENDS_SESSION_WAKEUP_H_
