#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "denormals.h"

namespace mwt {
namespace {

// Below this many operations a job is not worth handing to another thread.
constexpr double kMinParallelWork = 100000;
// How long an idle helper spins for the next job before it sleeps: jobs come back to back during
// training, and a wake-up through the condition variable costs tens of microseconds. By time, not a
// count of pause instructions: a pause takes 1 to 140 cycles depending on the CPU (30 ns here, where
// the 20,000 pauses once meant as ~100 us spun for 600 us).
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(100);
// Chunks per thread in parallelFor: enough that the calling thread can finish a job alone when the
// others are late (descheduled on a busy machine) without waiting for them, few enough to keep
// chunks large.
constexpr int kChunksPerThread = 4;

void spinPause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Threads that help the calling thread with its jobs. The calling thread never waits for a helper
// to start: a job is open while the caller works on it, helpers join while it is open, and the
// caller then waits only for those that joined (each finishing at most one chunk).
class Pool {
 public:
  explicit Pool(int threads) : size_(threads) {
    for (int slot = 1; slot < threads; slot++) std::thread([this, slot] { loop(slot); }).detach();
  }

  int size() const { return size_; }

  void run(const std::function<void(int)>& task) {
    task_ = &task;
    parked_.store(false, std::memory_order_relaxed);
    state_.store(kOpen, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    task(0);
    // Close the job to late helpers, then wait for the ones inside it.
    state_.fetch_and(~kOpen, std::memory_order_acq_rel);
    while ((state_.load(std::memory_order_acquire) & kInside) != 0) spinPause();
  }

  void park() { parked_.store(true, std::memory_order_relaxed); }

 private:
  void loop(int slot) {
    flushDenormalsForGood();
    uint64_t seen = 0;
    for (;;) {
      if (!spinForNextJob(seen)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      }
      seen = generation_.load(std::memory_order_acquire);
      // Join only while the job is open: once closed, its task may no longer exist.
      uint64_t state = state_.load(std::memory_order_acquire);
      while ((state & kOpen) != 0) {
        if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
          (*task_)(slot);
          state_.fetch_sub(1, std::memory_order_acq_rel);
          break;
        }
      }
    }
  }

  // True once a job after `seen` began; false when the spin ran out or the pool was parked.
  bool spinForNextJob(uint64_t seen) const {
    const auto until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    for (;;) {
      for (int spins = 0; spins < 64; spins++) {
        if (generation_.load(std::memory_order_acquire) != seen) return true;
        spinPause();
      }
      if (parked_.load(std::memory_order_relaxed) || std::chrono::steady_clock::now() >= until) return false;
    }
  }

  static constexpr uint64_t kOpen = uint64_t{1} << 63;
  static constexpr uint64_t kInside = kOpen - 1;

  const int size_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // Set before the job opens (release) and read by a helper after it joined (acquire).
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  // kOpen while the calling thread accepts helpers; the low bits count the helpers inside.
  std::atomic<uint64_t> state_{0};
  // Set by parkHelpers(), cleared by the next job: idle helpers then sleep instead of spinning.
  std::atomic<bool> parked_{false};
};

int configuredThreads() {
  const char* env = std::getenv("MWT_NATIVE_THREADS");
  if (env != nullptr) {
    int requested = std::atoi(env);
    if (requested >= 1) return std::min(requested, 256);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  // Never destroyed, its threads detached: nothing to join while Node tears the addon down.
  static Pool* instance = new Pool(configuredThreads());
  return *instance;
}

}  // namespace

int threadCount() { return pool().size(); }

void parkHelpers() { pool().park(); }

namespace {

// Runs chunk(i) for i in [0, chunks) on the pool, each index claimed by whichever thread is free.
void runChunks(int64_t chunks, const std::function<void(int64_t)>& chunk) {
  std::atomic<int64_t> next{0};
  pool().run([&](int) {
    for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < chunks; i = next.fetch_add(1, std::memory_order_relaxed)) chunk(i);
  });
}

bool worthThreads(int64_t n, double cost) {
  return threadCount() > 1 && n > 1 && static_cast<double>(n) * cost >= kMinParallelWork;
}

}  // namespace

void parallelFor(int64_t n, double cost, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  if (!worthThreads(n, cost)) {
    body(0, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(n, static_cast<int64_t>(threadCount()) * kChunksPerThread);
  runChunks(chunks, [&](int64_t i) { body(i * n / chunks, (i + 1) * n / chunks); });
}

int64_t chunkCount(int64_t n, double cost) {
  return worthThreads(n, cost) ? std::min<int64_t>(n, threadCount()) : 1;
}

void parallelForChunks(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t, int64_t)>& body) {
  if (n <= 0) return;
  if (chunks <= 1) {
    body(0, 0, n);
    return;
  }
  runChunks(chunks, [&](int64_t i) { body(i, i * n / chunks, (i + 1) * n / chunks); });
}

}  // namespace mwt
