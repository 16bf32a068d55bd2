// File: spawn.h
//
// spawn() runs an asio::awaitable<T> (T an absl::Status or StatusOr) as an
// asynchronous operation completing with void(T), for initiating functions
// whose work is a coroutine (opening a connection: resolve, connect, TLS,
// upgrade). co_spawn does the work: the handler's cancellation slot reaches
// every operation the coroutine awaits, and the handler runs on its
// associated executor. Not for the hot path (a coroutine frame per call).
#ifndef TERN_BACKENDS_ASIO_SPAWN_H_
#define TERN_BACKENDS_ASIO_SPAWN_H_

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "asio/any_io_executor.hpp"
#include "asio/associator.hpp"
#include "asio/awaitable.hpp"
#include "asio/co_spawn.hpp"

namespace tern::asio::detail {

// co_spawn's completion (exception_ptr, T) as the caller's void(T).
template <typename Handler, typename T>
struct SpawnDone {
  Handler handler;
  void operator()(std::exception_ptr e, T result) {
    // tern's coroutines do not throw; Asio reports a cancelled co_await as
    // an exception only if asked to, which they do not.
    if (e) result = absl::InternalError("exception escaped a tern coroutine");
    std::move(handler)(std::move(result));
  }
};

template <typename T, typename Handler>
void spawn(const ::asio::any_io_executor& ex, ::asio::awaitable<T> work, Handler&& handler) {
  ::asio::co_spawn(ex, std::move(work), SpawnDone<std::decay_t<Handler>, T>{std::forward<Handler>(handler)});
}

}  // namespace tern::asio::detail

namespace asio {

template <template <typename, typename> class Associator, typename Handler, typename T, typename DefaultCandidate>
struct associator<Associator, ::tern::asio::detail::SpawnDone<Handler, T>, DefaultCandidate> {
  using type = typename Associator<Handler, DefaultCandidate>::type;
  static type get(const ::tern::asio::detail::SpawnDone<Handler, T>& d,
                  const DefaultCandidate& c = DefaultCandidate()) noexcept {
    return Associator<Handler, DefaultCandidate>::get(d.handler, c);
  }
};

}  // namespace asio

#endif  // TERN_BACKENDS_ASIO_SPAWN_H_
