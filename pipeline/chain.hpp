// The whole pulse-Doppler chain on the CPU: pulse compression -> MTI + Doppler + power + channel
// combining -> CFAR -> plots, for one CPI at a time. Construction validates the mode, makes the
// FFTW plans and allocates every buffer; process() then never allocates (asserted by the tests)
// and spreads each stage over a fixed pool of threads.
//
// A chain may also be built for a run of stages only (a streaming segment, docs/streaming.md):
// it then plans and allocates for those stages alone, and compress() / doppler() / detect() run
// them on caller-owned buffers, so a segment works in place on pooled message buffers.
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

/// The CFAR and plot stage configurations a mode implies (shared by the CPU and CUDA chains).
cpu::CfarStageConfig cfar_stage_config(const Mode& mode, const ModeGeometry& geometry);
cpu::PlotConfig plot_config(const Mode& mode, const ModeGeometry& geometry);

/// std::invalid_argument naming the CPI, its shape and the mode's, unless they agree.
void check_cpi_shape(const Cpi& cpi, const Mode& mode);

/// What the runtime drives (process_recording, the stream runner, the demo): the CPU chain
/// (CpuChain, below) or the CUDA chain (pipeline/cuda_chain.hpp), chosen by
/// make_chain (pipeline/backend.hpp). Both honour the same contracts.
class SignalChain {
 public:
  virtual ~SignalChain() = default;
  /// The whole chain on one CPI of the mode's shape (std::invalid_argument otherwise); the
  /// report stays valid until the next call.
  virtual const DetectionReport& process(const Cpi& cpi) = 0;
  /// The chain's stages first..last on host buffers (see CpuChain::run_stages).
  virtual const DetectionReport* run_stages(const void* in, void* out, std::uint64_t cpi,
                                            std::int64_t timestamp_ns, double* stage_seconds) = 0;
  /// A copy of the last process()'s power maps (for pictures; not on the hot path).
  virtual void copy_power(PowerMap& out) const = 0;
  virtual Backend backend() const = 0;
  virtual Stage first() const = 0;
  virtual Stage last() const = 0;
};

struct ChainOptions {
  std::size_t threads = 0;              ///< workers including the caller; 0 = hardware concurrency
  std::size_t doppler_tile_gates = 32;  ///< range gates per Doppler tile
  Stage first = Stage::PulseCompression;  ///< the stages this chain plans for: first..last
  Stage last = Stage::Detection;
};

class CpuChain final : public SignalChain {
 public:
  /// Throws ConfigError if the mode is invalid.
  explicit CpuChain(const Mode& mode, ChainOptions options = {});

  /// Runs the chain on one CPI (shape channels x pulses x range_gates of the mode) and returns
  /// its report, valid until the next call. Throws std::invalid_argument only for a CPI of the
  /// wrong shape, std::logic_error for a chain built for some stages only; otherwise no throw
  /// and no allocation.
  const DetectionReport& process(const Cpi& cpi) override;

  /// The stages one by one, on buffers of the mode's sizes (cube: channels x pulses x gates
  /// cf32, x[c][p][n]; maps: maps x doppler_fft_size x gates float). Each needs its stage in
  /// first..last (std::logic_error otherwise); none allocates.
  void compress(const cf32* iq, cf32* compressed);
  void doppler(const cf32* compressed, float* maps);
  /// compress() then doppler(), with the compressed cube in range tiles in between
  /// (kernels/cpu/range_tiles.hpp: the Doppler stage's reads become sequential). Needs both
  /// stages; the same result as the two calls. seconds, when given, gets the two stages' wall
  /// times (pulse compression, Doppler).
  void compress_doppler(const cf32* iq, float* maps, double* seconds = nullptr);
  const DetectionReport& detect(const float* maps, std::uint64_t cpi, std::int64_t timestamp_ns);

  /// Runs this chain's stages first..last on one CPI. `in`: the first stage's input (the IQ
  /// cube for pulse compression, the compressed cube for doppler, the maps for cfar); `out`: the
  /// last stage's output buffer (unused when the last stage is cfar). Returns the report when
  /// the last stage is cfar, else nullptr. stage_seconds[s] gets stage s's wall time (others 0).
  const DetectionReport* run_stages(const void* in, void* out, std::uint64_t cpi,
                                    std::int64_t timestamp_ns, double* stage_seconds) override;
  void copy_power(PowerMap& out) const override;
  Backend backend() const override { return Backend::Cpu; }

  bool has(Stage s) const { return s >= first_ && s <= last_; }
  Stage first() const override { return first_; }
  Stage last() const override { return last_; }
  std::size_t cube_samples() const;  ///< channels x pulses x gates
  std::size_t map_cells() const;     ///< maps x doppler_fft_size x gates

  /// The FFTs of process() alone (same plans, sizes and threads): the CPU transform floor.
  void transforms_only();

  const Mode& mode() const { return mode_; }
  const ModeGeometry& geometry() const { return geometry_; }
  std::size_t threads() const { return pool_.size(); }
  /// The power maps of the last process() call.
  const PowerMap& power() const { return power_; }
  const cpu::PulseCompressor& pulse_compressor() const { return *pc_; }
  const cpu::DopplerProcessor& doppler() const { return *doppler_; }
  const cpu::Cfar& cfar() const { return *cfar_; }

 private:
  void detect_map(const float* p, int channel);
  void require(Stage s, const char* what) const;

  Mode mode_;
  Stage first_, last_;
  ModeGeometry geometry_;
  WorkerPool pool_;
  std::unique_ptr<cpu::PulseCompressor> pc_;
  std::unique_ptr<cpu::DopplerProcessor> doppler_;
  std::unique_ptr<cpu::Cfar> cfar_;
  std::unique_ptr<cpu::PlotExtractor> plots_;
  cpu::RangeTiles tiles_;      ///< layout of tiled_
  AlignedBuffer<cf32> tiled_;  ///< the compressed cube in range tiles (compress_doppler)
  PowerMap power_;
  std::size_t cfar_blocks_;
  std::vector<AlignedBuffer<cpu::CfarCrossing>> block_crossings_;  ///< one per CFAR row block
  std::vector<cpu::CfarStats> block_stats_;
  AlignedBuffer<cpu::CfarCrossing> crossings_;  ///< concatenated, (d, m) order
  DetectionReport report_;
};

}  // namespace radarpipe
