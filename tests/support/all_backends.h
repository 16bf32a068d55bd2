// Every backend, for the typed suites that must behave the same on each
// (conformance, pool, session): one list, so a new backend joins them all.
#ifndef TERN_TESTS_SUPPORT_ALL_BACKENDS_H_
#define TERN_TESTS_SUPPORT_ALL_BACKENDS_H_

#include <string>

#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/posix/backend.h"
#include "gtest/gtest.h"

namespace tern::testing {

using AllBackends = ::testing::Types<posix::Backend, epoll::Backend, asio::Backend>;

// Test names say the backend: Conformance/epoll.WebSocketEcho...
struct BackendNames {
  template <typename B>
  static std::string GetName(int) {
    return std::string(B::kName);
  }
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_ALL_BACKENDS_H_
