// File: malloc_counter.h
//
// Counts calls to the C allocator (malloc, calloc, realloc, aligned_alloc,
// posix_memalign, memalign), which the operator new counter
// (tests/support/alloc_counter.h) does not see: Asio's recycling caches and
// coroutine frames fall back to aligned_alloc, not operator new. The test
// binary that links //tests/asio:malloc_counter replaces those functions
// with ones that count and forward to glibc's own.
//
// Not available under a sanitizer (it replaces the allocator itself):
// available() is false there and the count stays 0.
#ifndef TERN_TESTS_ASIO_MALLOC_COUNTER_H_
#define TERN_TESTS_ASIO_MALLOC_COUNTER_H_

#include <cstddef>

namespace tern::asio::testing {

bool malloc_counting_available() noexcept;
// C allocator calls in this process so far (all threads).
std::size_t total_mallocs() noexcept;

class MallocCounter {
 public:
  MallocCounter() noexcept : start_(total_mallocs()) {}
  std::size_t mallocs() const noexcept { return total_mallocs() - start_; }

 private:
  std::size_t start_;
};

}  // namespace tern::asio::testing

#endif  // TERN_TESTS_ASIO_MALLOC_COUNTER_H_
