#include "pipeline/chain/worker_pool.hpp"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace radarpipe {
namespace {

// How long a thread spins for the next hand-over before it sleeps.
constexpr std::chrono::microseconds kSpin{200};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Spins until done() or kSpin has passed; true if done() came true.
template <class Done>
bool spin_until(Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (unsigned i = 1;; ++i) {
    if (done()) return true;
    cpu_relax();
    if (i % 256 == 0 && std::chrono::steady_clock::now() > deadline) return done();
  }
}

}  // namespace

WorkerPool::WorkerPool(std::size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads_.reserve(threads - 1);
  for (std::size_t w = 1; w < threads; ++w) threads_.emplace_back([this, w] { loop(w); });
}

WorkerPool::~WorkerPool() {
  stop_.store(true);
  { std::lock_guard<std::mutex> lock(mutex_); }
  start_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::drain(std::size_t worker) {
  for (std::size_t t = next_.fetch_add(1); t < tasks_; t = next_.fetch_add(1)) fn_(ctx_, t, worker);
}

void WorkerPool::run(std::size_t tasks, TaskFn fn, void* ctx) {
  if (tasks == 0) return;
  if (threads_.empty() || tasks == 1) {
    for (std::size_t t = 0; t < tasks; ++t) fn(ctx, t, 0);
    return;
  }
  // The loop's fields, then the generation that publishes them (sequentially consistent
  // atomics throughout: a helper that sees the new generation sees the fields).
  fn_ = fn;
  ctx_ = ctx;
  tasks_ = tasks;
  next_.store(0);
  busy_.store(threads_.size());
  generation_.fetch_add(1);
  // A helper about to sleep has counted itself in sleepers_ before it checks the generation
  // under the lock; taking the lock here means it is then either asleep or yet to check.
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    start_cv_.notify_all();
  }
  drain(0);
  if (spin_until([this] { return busy_.load() == 0; })) return;
  std::unique_lock<std::mutex> lock(mutex_);
  caller_sleeping_.store(true);
  done_cv_.wait(lock, [this] { return busy_.load() == 0; });
  caller_sleeping_.store(false);
}

void WorkerPool::loop(std::size_t worker) {
  std::size_t seen = 0;
  for (;;) {
    auto ready = [&] { return stop_.load() || generation_.load() != seen; };
    if (!spin_until(ready)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      start_cv_.wait(lock, ready);
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load();
    drain(worker);
    // The last helper out wakes the caller if it went to sleep (it sets caller_sleeping_ under
    // the lock before it checks busy_, so one of the two sees the other).
    if (busy_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      done_cv_.notify_one();
    }
  }
}

}  // namespace radarpipe
