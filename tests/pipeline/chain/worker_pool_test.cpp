#include "pipeline/chain/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace radarpipe {
namespace {

TEST(WorkerPool, EveryTaskRunsExactlyOnceOnAValidWorker) {
  for (std::size_t threads : {1u, 2u, 5u}) {
    WorkerPool pool(threads);
    ASSERT_EQ(pool.size(), threads);
    for (std::size_t tasks : {0u, 1u, 3u, 1000u}) {
      std::vector<std::atomic<int>> hits(tasks);
      std::atomic<bool> bad_worker{false};
      auto f = [&](std::size_t t, std::size_t w) {
        hits[t].fetch_add(1);
        if (w >= threads) bad_worker = true;
      };
      for (int round = 0; round < 20; ++round) pool.parallel_for(tasks, f);
      for (std::size_t t = 0; t < tasks; ++t) ASSERT_EQ(hits[t].load(), 20) << t;
      EXPECT_FALSE(bad_worker.load());
    }
  }
}

TEST(WorkerPool, WorkersRunConcurrently) {
  WorkerPool pool(2);
  std::atomic<int> inside{0}, max_inside{0};
  auto f = [&](std::size_t, std::size_t) {
    const int now = ++inside;
    int m = max_inside.load();
    while (now > m && !max_inside.compare_exchange_weak(m, now)) {
    }
    // Held until the other worker is inside too (a fixed busy loop failed when other processes
    // kept the second core for its length); 10 s is far past any scheduling delay.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (max_inside.load() < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    --inside;
  };
  pool.parallel_for(8, f);
  EXPECT_EQ(max_inside.load(), 2);
}

// The sleeping side of the hand-over: helpers that have slept through a long gap (well past
// their spin) wake for the next loop, and a caller that has gone to sleep waiting for a long
// last task is woken by the helper that runs it. Every task still runs exactly once.
TEST(WorkerPool, HandsOverAfterHelpersAndCallerHaveSlept) {
  using namespace std::chrono_literals;
  WorkerPool pool(3);
  for (int round = 0; round < 10; ++round) {
    std::this_thread::sleep_for(2ms);  // the helpers' spin (200 us) runs out: they sleep
    std::vector<std::atomic<int>> hits(64);
    auto f = [&](std::size_t t, std::size_t w) {
      hits[t].fetch_add(1);
      if (w != 0 && t % 16 == 0) std::this_thread::sleep_for(1ms);  // the caller outlasts its spin
    };
    pool.parallel_for(hits.size(), f);
    for (std::size_t t = 0; t < hits.size(); ++t) ASSERT_EQ(hits[t].load(), 1) << t;
  }
}

}  // namespace
}  // namespace radarpipe
