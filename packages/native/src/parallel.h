// A small persistent thread pool for the kernels. Kernels are called synchronously from the
// JavaScript thread, which takes part in the work; the pool's threads sleep between calls.
#pragma once

#include <cstdint>
#include <functional>

namespace mwt {

// Number of threads kernels may use (the calling thread included). MWT_NATIVE_THREADS overrides
// the default, the machine's hardware concurrency.
int threadCount();

// Calls body(begin, end) on disjoint chunks covering [0, n), in parallel when the work is worth it:
// `cost` is a rough count of operations per item; small jobs run inline on the calling thread.
void parallelFor(int64_t n, double cost, const std::function<void(int64_t, int64_t)>& body);

// Like parallelFor, but tells the body which thread slot (0..threadCount()-1) runs it, so that a
// kernel can give each slot its own accumulator (e.g. the filter gradient). A slot may run several
// chunks, one after the other: its accumulator must add up, not be reset per chunk.
void parallelForSlots(int64_t n, double cost, const std::function<void(int, int64_t, int64_t)>& body);

}  // namespace mwt
