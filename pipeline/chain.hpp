// The whole pulse-Doppler chain on the CPU: pulse compression -> MTI + Doppler + power + channel
// combining -> CFAR -> plots, for one CPI at a time. Construction validates the mode, makes the
// FFTW plans and allocates every buffer; process() then never allocates (asserted by the tests)
// and spreads each stage over a fixed pool of threads.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/cpu/cfar.hpp"
#include "kernels/cpu/doppler.hpp"
#include "kernels/cpu/plots.hpp"
#include "kernels/cpu/pulse_compression.hpp"
#include "pipeline/core/cpi.hpp"
#include "pipeline/core/detection.hpp"
#include "pipeline/core/mode.hpp"
#include "pipeline/worker_pool.hpp"

namespace radarpipe {

struct ChainOptions {
  std::size_t threads = 0;              ///< workers including the caller; 0 = hardware concurrency
  std::size_t doppler_tile_gates = 32;  ///< range gates per Doppler tile
};

class CpuChain {
 public:
  /// Throws ConfigError if the mode is invalid.
  explicit CpuChain(const Mode& mode, ChainOptions options = {});

  /// Runs the chain on one CPI (shape channels x pulses x range_gates of the mode) and returns
  /// its report, valid until the next call. Throws std::invalid_argument only for a CPI of the
  /// wrong shape; otherwise no throw and no allocation.
  const DetectionReport& process(const Cpi& cpi);

  /// The FFTs of process() alone (same plans, sizes and threads): the CPU transform floor.
  void transforms_only();

  const Mode& mode() const { return mode_; }
  const ModeGeometry& geometry() const { return geometry_; }
  std::size_t threads() const { return pool_.size(); }
  /// Intermediate results of the last process() call.
  const Cpi& compressed() const { return compressed_; }
  const PowerMap& power() const { return power_; }
  const cpu::PulseCompressor& pulse_compressor() const { return *pc_; }
  const cpu::DopplerProcessor& doppler() const { return *doppler_; }
  const cpu::Cfar& cfar() const { return *cfar_; }

 private:
  void detect_map(std::size_t map, int channel);

  Mode mode_;
  ModeGeometry geometry_;
  WorkerPool pool_;
  std::unique_ptr<cpu::PulseCompressor> pc_;
  std::unique_ptr<cpu::DopplerProcessor> doppler_;
  std::unique_ptr<cpu::Cfar> cfar_;
  std::unique_ptr<cpu::PlotExtractor> plots_;
  Cpi compressed_;
  PowerMap power_;
  std::size_t cfar_blocks_;
  std::vector<AlignedBuffer<cpu::CfarCrossing>> block_crossings_;  ///< one per CFAR row block
  std::vector<cpu::CfarStats> block_stats_;
  AlignedBuffer<cpu::CfarCrossing> crossings_;  ///< concatenated, (d, m) order
  DetectionReport report_;
};

}  // namespace radarpipe
