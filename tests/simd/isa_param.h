// File: isa_param.h
//
// Runs a test once per SIMD ISA: TEST_P(IsaTest, ...) forces the ISA for the
// body (tern::simd::force_isa) and skips ISAs this CPU cannot run, naming
// them in the output so a reader sees which kernels were exercised.
#ifndef TERN_TESTS_SIMD_ISA_PARAM_H_
#define TERN_TESTS_SIMD_ISA_PARAM_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <ostream>
#include <string>

#include "core/simd/isa.h"
#include "gtest/gtest.h"

namespace tern::simd {
inline void PrintTo(Isa isa, std::ostream* os) { *os << name(isa); }
}  // namespace tern::simd

namespace tern::simd::testing {

class IsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) {
      GTEST_SKIP() << "CPU lacks " << name(GetParam());
    }
    ASSERT_TRUE(force_isa(GetParam()));
    ASSERT_EQ(active_isa(), GetParam());
  }
  void TearDown() override { force_isa(best_isa()); }
};

inline std::string isa_name(const ::testing::TestParamInfo<Isa>& info) {
  return std::string(name(info.param));
}

#define TERN_INSTANTIATE_ISA_TESTS(Suite)                                      \
  INSTANTIATE_TEST_SUITE_P(AllIsas, Suite,                                     \
                           ::testing::ValuesIn(::tern::simd::kAllIsas),        \
                           ::tern::simd::testing::isa_name)

// A heap block of exactly offset + n bytes whose data starts `offset` bytes
// past a 64-byte boundary: under ASan any read or write past data + n, or
// before data, is reported.
class ExactBuffer {
 public:
  ExactBuffer(std::size_t n, std::size_t offset)
      : base_(static_cast<std::uint8_t*>(
            ::operator new(offset + n, std::align_val_t{64}))),
        offset_(offset),
        n_(n) {}
  ~ExactBuffer() { ::operator delete(base_, std::align_val_t{64}); }
  ExactBuffer(const ExactBuffer&) = delete;
  ExactBuffer& operator=(const ExactBuffer&) = delete;
  std::uint8_t* data() { return base_ + offset_; }
  std::size_t size() const { return n_; }

 private:
  std::uint8_t* base_;
  std::size_t offset_;
  std::size_t n_;
};

}  // namespace tern::simd::testing

#endif  // TERN_TESTS_SIMD_ISA_PARAM_H_
