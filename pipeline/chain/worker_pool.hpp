// A fixed set of threads, created once, that split a loop of independent tasks. The caller
// thread is worker 0 and takes part. run() allocates nothing: the loop body is passed as a
// function pointer and a context pointer.
//
// Hand-over: a worker that has finished spins for a while (kSpin) watching for the next loop
// before it sleeps on a condition variable, and the caller spins likewise while it waits for the
// last task. A chain's stages follow each other within microseconds, and waking a sleeping
// thread costs 50-100 us on a virtual machine (measured: a loop of two empty tasks took 75 us
// with sleeping workers), which is several percent of a small CPI.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace radarpipe {

class WorkerPool {
 public:
  /// threads : total workers including the caller, >= 1 (0 means hardware concurrency).
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::size_t size() const { return threads_.size() + 1; }

  /// Calls f(task, worker) for every task in [0, tasks), each once, spread over the workers;
  /// returns when all are done. f must not throw.
  template <class F>
  void parallel_for(std::size_t tasks, F& f) {
    run(
        tasks,
        [](void* ctx, std::size_t task, std::size_t worker) {
          (*static_cast<F*>(ctx))(task, worker);
        },
        &f);
  }

 private:
  using TaskFn = void (*)(void*, std::size_t, std::size_t);
  void run(std::size_t tasks, TaskFn fn, void* ctx);
  void loop(std::size_t worker);
  void drain(std::size_t worker);

  std::vector<std::thread> threads_;
  std::mutex mutex_;  // guards only the sleeps and wake-ups; the hand-over itself is atomic
  std::condition_variable start_cv_, done_cv_;
  std::atomic<std::size_t> generation_{0};  // bumped once per loop, after the loop's fields
  std::atomic<std::size_t> busy_{0};        // helpers still inside the current loop
  std::atomic<std::size_t> sleepers_{0};    // helpers asleep on start_cv_ (or going to)
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  std::size_t tasks_ = 0;
  std::atomic<std::size_t> next_{0};
};

}  // namespace radarpipe
