// A recording's CPIs read ahead of the chain (docs/recordings.md "Reading"): while the chain
// computes CPI k, a thread of its own reads CPI k + 1 once from the file and, in the same
// pass over the bytes, hashes them for core:sha512 and converts them into the layout the chain
// takes: ci16 as stored when the recording is ci16_le (the chain scales it, on the device for
// the CUDA chain), else cf32. Conversion is split over the reader's workers; the hash, which
// is sequential by nature, runs beside the conversion on one of them.
//
// Memory stays bounded by one CPI's stored bytes plus the destinations the caller hands in
// (the chain's own input buffer, or two buffers the caller alternates).
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

  io::SigmfReader& reader_;
  const io::RecordingCpiSource& source_;
  SampleFormat format_;
  std::size_t per_channel_;  ///< samples of one channel in one CPI
  WorkerPool pool_;
  std::vector<std::uint8_t> raw_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool busy_ = false, quit_ = false;
  std::size_t index_ = 0;
  void* dst_ = nullptr;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace radarpipe
