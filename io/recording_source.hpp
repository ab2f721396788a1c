// CPIs from a SigMF recording. Each capture is cut into whole CPIs (pulses x range_gates samples
// per channel) starting at its core:sample_start; what is left at the end of a capture (or of a
// truncated file) is counted, never processed as a partial CPI. A CPI's timestamp is the time of
// its first pulse: the capture's core:datetime plus the pulses since the capture's start times
// the PRI (the recording holds N samples per PRI, so sample offset / fs would be wrong whenever
// N / fs != PRI).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/cpi.hpp"
#include "io/sigmf_file.hpp"

namespace radarpipe::io {

struct CpiSlot {
  std::uint64_t cpi = 0;               ///< its number: from 0, or from its capture's radar:cpi
  std::uint64_t first_sample = 0;      ///< per-channel sample index of the CPI's first sample
  std::size_t capture = 0;             ///< index into meta().captures
  std::int64_t timestamp_ns = 0;       ///< UTC ns of the first pulse (0-based epoch if undated)
  std::optional<double> frequency_hz;  ///< the capture's core:frequency
};

class RecordingCpiSource {
 public:
  /// pulses, gates: the CPI shape per channel; pri_s for timestamps.
  RecordingCpiSource(SigmfReader& reader, std::size_t pulses, std::size_t gates, double pri_s);

  std::size_t pulses() const { return pulses_; }
  std::size_t gates() const { return gates_; }
  /// Every CPI the recording holds, in order (a few bytes per CPI).
  const std::vector<CpiSlot>& slots() const { return slots_; }
  /// Per-channel samples not in any whole CPI (capture tails), plus the partial sample bytes.
  std::uint64_t leftover_samples() const { return leftover_samples_; }
  std::uint64_t leftover_bytes() const { return reader_.leftover_bytes(); }

  /// Reads the next CPI into `cpi` (shape channels x pulses x gates, reshaped if needed).
  /// Returns false after the last one; `slot` then refers to it.
  bool next(Cpi& cpi);
  const CpiSlot& slot() const { return slots_[next_ - 1]; }
  /// Reads CPI `index` of slots() (random access; does not move next()).
  void read(std::size_t index, Cpi& cpi);
  std::size_t position() const { return next_; }

 private:
  SigmfReader& reader_;
  std::size_t pulses_, gates_;
  std::vector<CpiSlot> slots_;
  std::uint64_t leftover_samples_ = 0;
  std::size_t next_ = 0;
};

}  // namespace radarpipe::io
