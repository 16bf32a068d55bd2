// File: op.h
//
// The pieces that turn a transport step into an Asio asynchronous operation
// for any completion token:
//
//   Op               one caller's pending operation on a transport (a recv,
//                    a send, a close, an HTTP request): a step function the
//                    transport retries until it is Done, the result, and
//                    the caller's cancellation slot. Ops live in storage the
//                    transport keeps for its reader and writer sides.
//   HandlerOp<K, H>  an op of kind K (which defines `Result` and `step`)
//                    holding the completion handler H; finish() moves the
//                    handler and result out, frees the op, then invokes the
//                    handler on its associated executor.
//   Bound<H, R>      H with its argument, keeping H's associated executor,
//                    allocator and cancellation slot (for post and dispatch).
//
// Completion follows Asio's rules: a handler is never invoked from inside
// the initiating function (an operation that finishes at once is posted), and
// it runs on its associated executor. An op's memory is released before its
// handler runs, so the handler may start the next operation on the same side.
#ifndef TERN_BACKENDS_ASIO_OP_H_
#define TERN_BACKENDS_ASIO_OP_H_

#include <cstdint>
#include <type_traits>
#include <utility>

#include "asio/any_io_executor.hpp"
#include "asio/associated_allocator.hpp"
#include "asio/associated_cancellation_slot.hpp"
#include "asio/associated_executor.hpp"
#include "asio/associator.hpp"
#include "asio/cancellation_signal.hpp"
#include "asio/cancellation_type.hpp"
#include "asio/dispatch.hpp"
#include "asio/post.hpp"
#include "backends/steps.h"

namespace tern::asio::detail {

using Want = ::tern::steps::Want;
enum class Side : std::uint8_t { Reader, Writer };

struct Op {
  // Tries to finish without waiting: Done once the result is set, Read or
  // Write to wait for the socket. Never blocks.
  Want (*step)(Op* self) noexcept = nullptr;
  // invoke: hand the result to the handler; else destroy it unused (the
  // io_context is shutting down).
  void (*finish)(Op* self, bool invoke) noexcept = nullptr;
  // The caller's cancellation slot, if connected; cleared on completion.
  ::asio::cancellation_slot slot;
  // Set by the cancellation handler; the step decides what it means.
  ::asio::cancellation_type cancelled = ::asio::cancellation_type::none;
  // The caller's handler runs on the connection's own executor.
  bool same_executor = true;
  // Not Done: the caller has just run the step, which said this; start by
  // waiting.
  Want first = Want::Done;
};

// A handler with its argument bound, for post() and dispatch().
template <typename Handler, typename Arg>
struct Bound {
  Handler handler;
  Arg arg;
  void operator()() { std::move(handler)(std::move(arg)); }
};

// Invokes `handler(arg)` on the handler's executor. `here` says the caller
// already runs on it (a connection's handlers run on its executor).
template <typename Handler, typename Arg>
void deliver(const ::asio::any_io_executor& connection, bool here, Handler&& handler, Arg&& arg) {
  if (here) {
    std::move(handler)(std::forward<Arg>(arg));
    return;
  }
  auto ex = ::asio::get_associated_executor(handler, connection);
  ::asio::dispatch(ex, Bound<std::decay_t<Handler>, std::decay_t<Arg>>{std::move(handler), std::forward<Arg>(arg)});
}

// True if the handler's associated executor is the connection's (at
// compile time when the handler names none: a plain callback).
template <typename Handler>
bool runs_on(const Handler& handler, const ::asio::any_io_executor& connection) {
  using Ex = ::asio::associated_executor_t<Handler, ::asio::any_io_executor>;
  if constexpr (requires {
                  typename ::asio::associated_executor<Handler, ::asio::any_io_executor>::
                      asio_associated_executor_is_unspecialised;
                }) {
    return true;
  } else if constexpr (std::is_same_v<Ex, ::asio::any_io_executor>) {
    return ::asio::get_associated_executor(handler, connection) == connection;
  } else {
    return false;
  }
}

// Kind: an op type deriving from Op (through the transport's OpOn), with
// `using Result = ...`, a `Result result` member and `static Want run(Op*)
// noexcept`. Its constructor takes (Transport&, args...). The transport
// constructs it in its storage for the op's side (transport.h: make_op).
template <typename Kind, typename Handler>
struct HandlerOp final : Kind {
  using Result = typename Kind::Result;

  template <typename Transport, typename... Args>
  HandlerOp(Transport& t, Handler&& h, Args&&... args)
      : Kind(t, std::forward<Args>(args)...), handler(std::move(h)) {
    this->step = &Kind::run;
    this->finish = &HandlerOp::do_finish;
    this->same_executor = runs_on(handler, t.executor());
    ::asio::cancellation_slot slot = ::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) this->slot = slot;
  }

  static void do_finish(Op* base, bool invoke) noexcept {
    auto* self = static_cast<HandlerOp*>(base);
    auto& t = self->transport();
    if (invoke && self->slot.is_connected()) self->slot.clear();
    Handler h(std::move(self->handler));
    Result r(std::move(self->result));
    const bool here = self->same_executor;
    t.free_op(self);
    if (invoke) deliver(t.executor(), here, std::move(h), std::move(r));
  }

  Handler handler;
};

}  // namespace tern::asio::detail

namespace asio {

// Bound keeps its handler's executor, allocator and cancellation slot.
template <template <typename, typename> class Associator, typename Handler, typename Arg,
          typename DefaultCandidate>
struct associator<Associator, ::tern::asio::detail::Bound<Handler, Arg>, DefaultCandidate> {
  using type = typename Associator<Handler, DefaultCandidate>::type;
  static type get(const ::tern::asio::detail::Bound<Handler, Arg>& b,
                  const DefaultCandidate& c = DefaultCandidate()) noexcept {
    return Associator<Handler, DefaultCandidate>::get(b.handler, c);
  }
};

}  // namespace asio

#endif  // TERN_BACKENDS_ASIO_OP_H_
