// File: alloc_counter.h
//
// Counts heap allocations made through the global operator new (replaced by
// alloc_counter.cc, which any test linking //tests/support:alloc_counter gets).
// Used to prove that the core allocates nothing in steady state:
//
//   tern::testing::AllocCounter count;   // starts at zero
//   for (...) reader.next(buf);
//   EXPECT_EQ(count.allocations(), 0u);
#ifndef TERN_TESTS_SUPPORT_ALLOC_COUNTER_H_
#define TERN_TESTS_SUPPORT_ALLOC_COUNTER_H_

#include <cstddef>

namespace tern::testing {

// Total operator new calls in this process so far (all threads).
std::size_t total_allocations() noexcept;

// Allocations made since construction.
class AllocCounter {
 public:
  AllocCounter() noexcept : start_(total_allocations()) {}
  std::size_t allocations() const noexcept {
    return total_allocations() - start_;
  }

 private:
  std::size_t start_;
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_ALLOC_COUNTER_H_
