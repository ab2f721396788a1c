// A fixed set of threads, created once, that split a loop of independent tasks. The caller
// thread is worker 0 and takes part. run() allocates nothing: the loop body is passed as a
// function pointer and a context pointer.
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
  std::mutex mutex_;
  std::condition_variable start_cv_, done_cv_;
  std::size_t generation_ = 0;
  std::size_t busy_ = 0;
  bool stop_ = false;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  std::size_t tasks_ = 0;
  std::atomic<std::size_t> next_{0};
};

}  // namespace radarpipe
