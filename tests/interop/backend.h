// File: backend.h
//
// The backends the interop programs can drive, selected by --backend=NAME.
// A program is one coroutine template over the Backend concept
// (backends/backend.h); with_backend() instantiates it for the name given
// with that backend's context (nothing for posix, an EventLoop for epoll).
// A new backend adds one line in with_backend(); the programs do not change.
#ifndef TERN_TESTS_INTEROP_BACKEND_H_
#define TERN_TESTS_INTEROP_BACKEND_H_

#include <string>
#include <string_view>
#include <utility>

#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/posix/backend.h"
#include "tests/interop/cli.h"

namespace tern::interop {

// For usage messages: every name with_backend() accepts
// (--backend=posix, --backend=epoll, --backend=asio).
inline constexpr std::string_view kBackendNames = "posix, epoll, asio";
static_assert(posix::Backend::kName == std::string_view("posix"));
static_assert(epoll::Backend::kName == std::string_view("epoll"));
static_assert(asio::Backend::kName == std::string_view("asio"));

// Calls f(Backend{}, context) for the backend called `name` and returns its
// result; returns `unknown` if no backend has that name.
template <typename F>
int with_backend(std::string_view name, int unknown, F&& f) {
  if (name == posix::Backend::kName) {
    posix::Backend::Context context;
    return f(posix::Backend{}, context);
  }
  if (name == epoll::Backend::kName) {
    epoll::EventLoop loop;
    return f(epoll::Backend{}, loop);
  }
  if (name == asio::Backend::kName) {
    asio::Backend::Context io;
    return f(asio::Backend{}, io);
  }
  return unknown;
}

// Runs f(Backend{}, context) for the program's --backend flag (default
// posix), or prints `usage_text` with the list of backends when the name is
// unknown.
template <typename F>
int run_selected_backend(const CommandLine& cl, std::string_view usage_text, F&& f) {
  const std::string_view backend = cl.flag("backend").value_or("posix");
  constexpr int kUnknown = -1;
  const int rc = with_backend(backend, kUnknown, std::forward<F>(f));
  if (rc != kUnknown) return rc;
  const std::string problem = "unknown backend \"" + std::string(backend) + "\" (available: " +
                              std::string(kBackendNames) + ")";
  return usage(usage_text, problem);
}

}  // namespace tern::interop

#endif  // TERN_TESTS_INTEROP_BACKEND_H_
