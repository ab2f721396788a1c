// A fixed set of equal, 64-byte aligned buffers, allocated once. Streaming stages take a buffer,
// fill it, and hand it on inside a ZeroMQ message whose free function gives it back (so over
// inproc:// the receiver works on the very same memory, and over tcp:// it returns once ZeroMQ
// has sent it). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "core/cpi.hpp"

namespace radarpipe::stream {

class BufferPool {
 public:
  BufferPool(std::size_t count, std::size_t bytes);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// A free buffer, or nullptr at once if none is free.
  void* try_acquire();
  /// A free buffer, waiting up to `timeout`; nullptr if none came.
  void* acquire(std::chrono::milliseconds timeout);
  void release(void* buffer);
  /// Whether `p` is the start of one of this pool's buffers.
  bool owns(const void* p) const;

  std::size_t count() const { return slots_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t available() const;

  /// zmq_free_fn: `hint` is the pool, which must outlive the message.
  static void release_fn(void* data, void* hint);
  /// zmq_free_fn for a message that keeps its pool alive: `hint` is a heap-allocated
  /// std::shared_ptr<BufferPool> (shared_hint()), deleted here. A message still queued when its
  /// socket closes is freed by ZeroMQ later, from its own thread (a socket's linger), after the
  /// runtime that owned the pool may be gone: the pool lives until its last message is freed.
  static void release_shared_fn(void* data, void* hint) noexcept;
  static void* shared_hint(const std::shared_ptr<BufferPool>& pool);

 private:
  std::size_t bytes_;
  std::vector<AlignedBuffer<unsigned char>> slots_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<void*> free_;
};

}  // namespace radarpipe::stream
