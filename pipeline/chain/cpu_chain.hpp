// The whole pulse-Doppler chain on the CPU: pulse compression -> MTI + Doppler + power + channel
// combining -> CFAR -> plots, for one CPI at a time. Construction validates the mode, makes the
// FFTW plans and allocates every buffer; process() then never allocates (asserted by the tests)
// and spreads each stage over a fixed pool of threads.
//
// A chain may also be built for a run of stages only (a streaming segment, docs/streaming.md):
// it then plans and allocates for those stages alone, and compress() / doppler() / detect() run
// them on caller-owned buffers, so a segment works in place on pooled message buffers.
//
// As a SignalChain (pipeline/chain/signal_chain.hpp) it has depth 1: submit() runs the CPI's
// stages on every worker before it returns, collect() hands the result back. Its input may be
// cf32 or ci16 (converted row by row inside pulse compression's tasks, no extra pass).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/cpi.hpp"
#include "core/detection.hpp"
#include "core/mode.hpp"
#include "kernels/cpu/cfar.hpp"
#include "kernels/cpu/doppler.hpp"
#include "kernels/cpu/plots.hpp"
#include "kernels/cpu/pulse_compression.hpp"
#include "pipeline/chain/signal_chain.hpp"
#include "pipeline/chain/stage_config.hpp"
#include "pipeline/chain/worker_pool.hpp"

namespace radarpipe {

class CpuChain final : public SignalChain {
 public:
  /// Throws ConfigError if the mode is invalid.
  explicit CpuChain(const Mode& mode, ChainOptions options = {});

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

  // --- SignalChain ---------------------------------------------------------------------------
  Backend backend() const override { return Backend::Cpu; }
  Stage first() const override { return first_; }
  Stage last() const override { return last_; }
  std::size_t depth() const override { return 1; }
  std::size_t in_flight() const override { return pending_ ? 1 : 0; }
  bool accepts(SampleFormat format) const override;
  void* next_input() override;
  /// Runs the CPI's stages (first..last) on every worker before it returns.
  void submit(const ChainJob& job) override;
  using SignalChain::submit;
  ChainResult collect() override;
  void copy_power(PowerMap& out) const override;
  const ClutterMapState* clutter_map() const override;
  void restore_clutter_map(const ClutterMapState& state) override;

  bool has(Stage s) const { return s >= first_ && s <= last_; }
  std::size_t cube_samples() const;  ///< channels x pulses x gates
  std::size_t map_cells() const;     ///< maps x doppler_fft_size x gates

  /// The FFTs of process() alone (same plans, sizes and threads): the CPU transform floor.
  void transforms_only();

  const Mode& mode() const override { return mode_; }
  const ModeGeometry& geometry() const { return geometry_; }
  std::size_t threads() const { return pool_.size(); }
  /// The power maps of the last whole-chain CPI.
  const PowerMap& power() const { return power_; }
  const cpu::PulseCompressor& pulse_compressor() const { return *pc_; }
  const cpu::DopplerProcessor& doppler() const { return *doppler_; }
  const cpu::Cfar& cfar() const { return *cfar_; }

 private:
  /// The first stage's input as submit() got it.
  struct Input {
    const void* data;
    SampleFormat format;
    float scale;
  };
  /// Rows r0 .. r0 + count - 1 of the input cube as cf32: in place for cf32, converted into
  /// the worker's scratch for ci16.
  const cf32* rows_cf32(const Input& in, std::size_t r0, std::size_t count, std::size_t worker);
  void compress_input(const Input& in, cf32* compressed);
  void compress_doppler_input(const Input& in, float* maps, double* seconds);
  void run(const ChainJob& job, StageSeconds& seconds);
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
  std::unique_ptr<cpu::ClutterMap> clutter_;  ///< processing.clutter_map: its rows' decisions
  ClutterMapGeometry clutter_geometry_;
  AlignedBuffer<cpu::CfarCrossing> map_crossings_;  ///< the map's, one map of one CPI
  cpu::ClutterMapStats map_stats_;
  std::size_t azimuth_cell_ = 0;  ///< the map's azimuth cell for the CPI being detected
  cpu::RangeTiles tiles_;         ///< layout of tiled_
  AlignedBuffer<cf32> tiled_;     ///< the compressed cube in range tiles (compress_doppler)
  PowerMap power_;
  std::size_t cfar_blocks_;
  std::vector<AlignedBuffer<cpu::CfarCrossing>> block_crossings_;  ///< one per CFAR row block
  std::vector<cpu::CfarStats> block_stats_;
  AlignedBuffer<cpu::CfarCrossing> crossings_;  ///< concatenated, (d, m) order
  DetectionReport report_;
  std::vector<AlignedBuffer<cf32>> convert_;  ///< per worker: rows converted from ci16
  AlignedBuffer<unsigned char> input_;        ///< next_input(), allocated on its first call
  bool pending_ = false;                      ///< a CPI submitted and not yet collected
  ChainResult result_;
};

}  // namespace radarpipe
