// File: callgrind_collect.h
//
// The measured loop of the instruction-count drivers (pool_instr,
// driver_instr): a warm-up, then `ops` steps with callgrind collecting
// around them only, so valgrind's "Collected" over the steps done is
// instructions per step.
#ifndef TERN_BENCH_POOL_CALLGRIND_COLLECT_H_
#define TERN_BENCH_POOL_CALLGRIND_COLLECT_H_

#include <valgrind/callgrind.h>

namespace tern::pool::bench {

// `step` returns 1 for a step done, 0 for one that found nothing to do.
template <class Step>
long collect(long ops, Step&& step) {
  // The first atomic cycle finds the return stack empty.
  for (int i = 0; i < 16; ++i) step();
  long done = 0;
  CALLGRIND_TOGGLE_COLLECT;
  for (long i = 0; i < ops; ++i) done += step();
  CALLGRIND_TOGGLE_COLLECT;
  return done;
}

}  // namespace tern::pool::bench

#endif  // TERN_BENCH_POOL_CALLGRIND_COLLECT_H_
