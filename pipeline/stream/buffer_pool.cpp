#include "pipeline/stream/buffer_pool.hpp"

#include <algorithm>
#include <stdexcept>

namespace radarpipe::stream {

BufferPool::BufferPool(std::size_t count, std::size_t bytes) : bytes_(bytes) {
  if (count == 0 || bytes == 0) throw std::invalid_argument("BufferPool: empty pool");
  slots_.reserve(count);
  free_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    slots_.emplace_back(bytes);
    free_.push_back(slots_.back().data());
  }
}

void* BufferPool::try_acquire() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.empty()) return nullptr;
  void* p = free_.back();
  free_.pop_back();
  return p;
}

void* BufferPool::acquire(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!cv_.wait_for(lock, timeout, [&] { return !free_.empty(); })) return nullptr;
  void* p = free_.back();
  free_.pop_back();
  return p;
}

void BufferPool::release(void* buffer) {
  if (!owns(buffer)) throw std::logic_error("BufferPool::release: not a buffer of this pool");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(buffer);
  }
  cv_.notify_one();
}

bool BufferPool::owns(const void* p) const {
  return std::any_of(slots_.begin(), slots_.end(),
                     [&](const AlignedBuffer<unsigned char>& s) { return s.data() == p; });
}

std::size_t BufferPool::available() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return free_.size();
}

void BufferPool::release_fn(void* data, void* hint) {
  static_cast<BufferPool*>(hint)->release(data);
}

void* BufferPool::shared_hint(const std::shared_ptr<BufferPool>& pool) {
  return new std::shared_ptr<BufferPool>(pool);
}

void BufferPool::release_shared_fn(void* data, void* hint) noexcept {
  auto* keep = static_cast<std::shared_ptr<BufferPool>*>(hint);
  BufferPool& pool = **keep;
  if (pool.owns(data)) {  // always, for a message made with shared_hint of this pool
    {
      std::lock_guard<std::mutex> lock(pool.mutex_);
      pool.free_.push_back(data);
    }
    pool.cv_.notify_one();
  }
  delete keep;  // the pool goes with its last holder
}

}  // namespace radarpipe::stream
