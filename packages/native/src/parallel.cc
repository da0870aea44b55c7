#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace mwt {
namespace {

// Below this many operations a job is not worth handing to another thread.
constexpr double kMinParallelWork = 100000;

class Pool {
 public:
  explicit Pool(int threads) : size_(threads) {
    for (int slot = 1; slot < threads; slot++) workers_.emplace_back([this, slot] { loop(slot); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  int size() const { return size_; }

  // Runs task(slot) on every slot, the calling thread being slot 0; returns when all are done.
  void run(const std::function<void(int)>& task) {
    task_ = &task;
    pending_.store(size_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    task(0);
    // The others finish about when we do: spin rather than sleep.
    while (pending_.load(std::memory_order_acquire) != 0) spinPause();
  }

 private:
  void loop(int slot) {
    uint64_t seen = 0;
    for (;;) {
      // Kernels come back to back during training: spin a little before sleeping, so that a new
      // job starts within a microsecond instead of a futex wake-up (tens of microseconds).
      for (int spins = 0; spins < kSpins && generation_.load(std::memory_order_acquire) == seen; spins++) spinPause();
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_.load(std::memory_order_acquire) != seen; });
        if (stopping_) return;
      }
      seen = generation_.load(std::memory_order_acquire);
      (*task_)(slot);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  static void spinPause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // About 100 us of spinning.
  static constexpr int kSpins = 20000;

  const int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // Written before generation_ is bumped (release) and read after it is seen (acquire).
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stopping_ = false;
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
  // Never destroyed: worker threads must not be joined while Node tears the addon down.
  static Pool* instance = new Pool(configuredThreads());
  return *instance;
}

}  // namespace

int threadCount() { return pool().size(); }

void parallelForSlots(int64_t n, double cost, const std::function<void(int, int64_t, int64_t)>& body) {
  if (n <= 0) return;
  const int threads = static_cast<int>(std::min<int64_t>(threadCount(), n));
  if (threads <= 1 || static_cast<double>(n) * cost < kMinParallelWork) {
    body(0, 0, n);
    return;
  }
  const int64_t chunk = (n + threads - 1) / threads;
  pool().run([&](int slot) {
    const int64_t begin = slot * chunk;
    const int64_t end = std::min(n, begin + chunk);
    if (begin < end) body(slot, begin, end);
  });
}

void parallelFor(int64_t n, double cost, const std::function<void(int64_t, int64_t)>& body) {
  parallelForSlots(n, cost, [&](int, int64_t begin, int64_t end) { body(begin, end); });
}

}  // namespace mwt
