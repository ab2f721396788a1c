// A recording's CPIs read ahead of the chain (docs/recordings.md "Reading"): while the chain
// computes CPI k, a thread of its own reads CPI k + 1 once from the file and converts it into
// the layout the chain takes: ci16 as stored when the recording is ci16_le (the chain scales
// it, on the device for the CUDA chain), else cf32, the conversion split over the reader's
// workers. The same bytes are hashed for core:sha512 by a third thread that may lag one CPI
// behind: the hash is sequential by nature and the slowest step (about 750 MB/s), so neither
// the chain nor the first report waits for it; only the end of the run does.
//
// Memory stays bounded by two CPIs' stored bytes (one being read, one being hashed) plus the
// destinations the caller hands in (the chain's own input buffer, or two buffers the caller
// alternates).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/cpi.hpp"
#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"
#include "pipeline/chain/worker_pool.hpp"

namespace radarpipe {

class RecordingReader {
 public:
  /// CPIs of `source` (its slots) from `reader`, in `format` (Ci16 only when
  /// reader.stored_as_ci16()); `threads` workers for the conversion (>= 1).
  RecordingReader(io::SigmfReader& reader, const io::RecordingCpiSource& source,
                  SampleFormat format, std::size_t threads);
  ~RecordingReader();
  RecordingReader(const RecordingReader&) = delete;
  RecordingReader& operator=(const RecordingReader&) = delete;

  SampleFormat format() const { return format_; }
  /// The scale a chain applies to ci16 input (the recording's radar:sample_scale).
  float scale() const;
  /// Bytes of one CPI in format(): what a destination must hold.
  std::size_t cpi_bytes() const;

  /// Starts reading CPI `index` of the source's slots into `dst` (cpi_bytes(), x[c][p][n]) in
  /// the background. One read at a time: wait() for the last first.
  void start(std::size_t index, void* dst);
  /// Waits for the read started last; rethrows its error (io::SigmfError naming the file).
  void wait();
  /// After the last CPI: hashes what the CPIs did not cover and checks core:sha512 (throws
  /// io::SigmfError naming the file on a mismatch). True when verified.
  bool finish();

 private:
  void run();
  void read_one(std::size_t index, void* dst);
  void hash_run();
  /// Waits until the hash is done with raw buffer `b`; rethrows the hash's error.
  void wait_hashed(int b);

  io::SigmfReader& reader_;
  const io::RecordingCpiSource& source_;
  SampleFormat format_;
  std::size_t per_channel_;  ///< samples of one channel in one CPI
  WorkerPool pool_;
  AlignedBuffer<std::uint8_t> raw_[2];  ///< stored bytes: one being read, one being hashed
  int next_raw_ = 0;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool busy_ = false, quit_ = false;
  std::size_t index_ = 0;
  void* dst_ = nullptr;
  std::exception_ptr error_;

  // The hash's queue: at most one block per raw buffer.
  struct HashJob {
    bool pending = false;
    std::uint64_t start = 0;
  };
  HashJob hash_jobs_[2];
  int hash_next_ = 0;  ///< the buffer the hash takes next (blocks are hashed in read order)
  std::exception_ptr hash_error_;
  std::condition_variable hash_cv_;

  std::thread thread_, hash_thread_;
};

}  // namespace radarpipe
