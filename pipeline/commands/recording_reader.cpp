#include "pipeline/commands/recording_reader.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace radarpipe {

namespace {
// Conversion tasks per worker: enough to even out, few enough to stay in long runs.
constexpr std::size_t kTasksPerWorker = 4;
}  // namespace

RecordingReader::RecordingReader(io::SigmfReader& reader, const io::RecordingCpiSource& source,
                                 SampleFormat format, std::size_t threads)
    : reader_(reader),
      source_(source),
      format_(format),
      per_channel_(source.pulses() * source.gates()),
      pool_(std::max<std::size_t>(1, threads)) {
  if (format_ == SampleFormat::Ci16 && !reader_.stored_as_ci16())
    throw std::invalid_argument("RecordingReader: ci16 output needs a ci16_le recording");
  // Not zero-filled: every byte is read into before it is used (and the pages are faulted in
  // by that first read, as huge pages where the kernel has them: 36 faults for a bench-matx
  // CPI instead of 18,000).
  for (auto& r : raw_)
    r = AlignedBuffer<std::uint8_t>(per_channel_ * reader_.frame_bytes(), kUninitialised);
  thread_ = std::thread([this] { run(); });
  hash_thread_ = std::thread([this] { hash_run(); });
}

RecordingReader::~RecordingReader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  cv_.notify_all();
  hash_cv_.notify_all();
  thread_.join();
  hash_thread_.join();
}

float RecordingReader::scale() const {
  return reader_.meta().sample_scale();
}

std::size_t RecordingReader::cpi_bytes() const {
  return reader_.channels() * per_channel_ * (format_ == SampleFormat::Ci16 ? 4 : sizeof(cf32));
}

void RecordingReader::start(std::size_t index, void* dst) {
  if (index >= source_.slots().size())
    throw std::out_of_range("RecordingReader::start: CPI " + std::to_string(index) +
                            ", the recording holds " + std::to_string(source_.slots().size()));
  std::lock_guard<std::mutex> lock(mutex_);
  if (busy_) throw std::logic_error("RecordingReader::start: the last read was not waited for");
  busy_ = true;
  index_ = index;
  dst_ = dst;
  error_ = nullptr;
  cv_.notify_all();
}

void RecordingReader::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return !busy_; });
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

bool RecordingReader::finish() {
  wait();
  wait_hashed(0);
  wait_hashed(1);
  return reader_.finish_checksum();
}

void RecordingReader::wait_hashed(int b) {
  std::unique_lock<std::mutex> lock(mutex_);
  hash_cv_.wait(lock, [&] { return !hash_jobs_[b].pending || hash_error_; });
  if (hash_error_) std::rethrow_exception(hash_error_);
}

// Hashes the blocks in the order they were read, each once the reader has filled it.
void RecordingReader::hash_run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    hash_cv_.wait(lock, [&] { return quit_ || hash_jobs_[hash_next_].pending; });
    if (quit_) return;
    const int b = hash_next_;
    const std::uint64_t start = hash_jobs_[b].start;
    lock.unlock();
    std::exception_ptr error;
    try {
      reader_.checksum_feed(start, per_channel_, raw_[b].data());
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !hash_error_) hash_error_ = error;
    hash_jobs_[b].pending = false;
    hash_next_ = 1 - b;
    hash_cv_.notify_all();
  }
}

void RecordingReader::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return quit_ || (busy_ && dst_); });
    if (quit_) return;
    const std::size_t index = index_;
    void* dst = dst_;
    lock.unlock();
    std::exception_ptr error;
    try {
      read_one(index, dst);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    dst_ = nullptr;
    busy_ = false;
    cv_.notify_all();
  }
}

void RecordingReader::read_one(std::size_t index, void* dst) {
  const io::CpiSlot& slot = source_.slots().at(index);
  const std::size_t n = per_channel_;
  // The buffer the hash took two reads ago must be hashed before it is read into again.
  const int b = next_raw_;
  wait_hashed(b);
  std::uint8_t* raw = raw_[b].data();
  reader_.read_raw(slot.first_sample, n, raw);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    hash_jobs_[b] = HashJob{true, slot.first_sample};
  }
  hash_cv_.notify_all();
  next_raw_ = 1 - b;
  // The conversion, in runs over the reader's workers, while the hash runs on its own thread.
  const std::size_t frame = reader_.frame_bytes();
  const std::size_t runs = pool_.size() * kTasksPerWorker;
  auto task = [&](std::size_t r, std::size_t) {
    const std::size_t i0 = n * r / runs, i1 = n * (r + 1) / runs;
    if (i1 <= i0) return;
    const std::uint8_t* part = raw + i0 * frame;
    if (format_ == SampleFormat::Ci16)
      reader_.split_ci16(part, i1 - i0, static_cast<std::int16_t*>(dst) + 2 * i0, n);
    else
      reader_.convert(part, i1 - i0, static_cast<cf32*>(dst) + i0, n);
  };
  pool_.parallel_for(runs, task);
}

}  // namespace radarpipe
