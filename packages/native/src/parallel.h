// A small persistent thread pool for the kernels. Kernels are called synchronously from the
// JavaScript thread, which takes part in the work; the pool's threads sleep between calls.
#pragma once

#include <cstdint>
#include <functional>

namespace mwt {

// Number of threads kernels may use (the calling thread included). MWT_NATIVE_THREADS overrides
// the default, the machine's hardware concurrency.
int threadCount();

// Sends the pool's idle threads to sleep now instead of letting them spin for the next job: called
// before work goes to another thread pool (oneDNN's OpenMP threads), whose threads would otherwise
// share the cores with ours spinning. The next job wakes them.
void parkHelpers();

// Calls body(begin, end) on disjoint chunks covering [0, n), in parallel when the work is worth it:
// `cost` is a rough count of operations per item; small jobs run inline on the calling thread.
// For bodies whose result does not depend on how [0, n) is cut.
void parallelFor(int64_t n, double cost, const std::function<void(int64_t, int64_t)>& body);

// How many chunks parallelForChunks cuts [0, n) into for this cost: 1 when not worth threads, else
// one per thread (at most n). A function of the sizes only, so results are reproducible run to run.
int64_t chunkCount(int64_t n, double cost);

// Calls body(chunk, begin, end) for chunk = 0 .. chunks-1 with fixed bounds, each chunk on whichever
// thread is free. For kernels with an accumulator per chunk, added up in chunk order afterwards: the
// sum then does not depend on which thread ran what (floating-point addition is not associative).
void parallelForChunks(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t, int64_t)>& body);

}  // namespace mwt
