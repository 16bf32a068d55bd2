// File: check.h
//
// The one assertion fuzz targets use: unlike assert() it is never compiled
// out, and it names the invariant, so a crash report says what broke.
#ifndef TERN_FUZZ_CHECK_H_
#define TERN_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

namespace tern::fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace tern::fuzz

#endif  // TERN_FUZZ_CHECK_H_
