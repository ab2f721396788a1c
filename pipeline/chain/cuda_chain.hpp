// The whole pulse-Doppler chain on a CUDA device (built when nvcc is found): the twin of
// CpuChain with the same contracts, made of the kernels/cuda stages.
//
// Per CPI, on one CUDA stream: host-to-device copy of the IQ cube (from pinned memory) ->
// pulse compression (load/convert, batched cuFFT, filter multiply, inverse cuFFT) -> MTI +
// window gather, strided Doppler cuFFT, power + channel combining -> CFAR -> crossing compaction
// -> copy of the per-map totals to the host; then the kept crossings come back and the host
// clusters them into plots (cpu::PlotExtractor, the CPU stage itself).
//
// Pipelined (SignalChain, pipeline/chain/signal_chain.hpp): `slots` (2 by default) independent
// sets of stream, pinned input buffer, device buffers and cuFFT plans, used round-robin, so that
// CPI n + 1's host-to-device copy and kernels overlap CPI n's tail and its host-side plot
// extraction; depth() = slots. A producer writes the next CPI into next_input(), the slot's
// pinned buffer, so the upload reads where it wrote. Everything is allocated and planned at
// construction (the CFAR's threshold factors solved once for every slot); submit() / collect()
// never allocate (the report's detections vector was reserved). CUDA and cuFFT failures throw
// cuda::CudaError / cuda::CufftError naming the file, line, call and error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/cpi.hpp"
#include "core/detection.hpp"
#include "core/mode.hpp"
#include "pipeline/chain/signal_chain.hpp"

namespace radarpipe {

struct CudaChainOptions {
  int device = 0;         ///< CUDA device index
  std::size_t slots = 2;  ///< CPIs in flight (each with its own stream and buffers), >= 1
  Stage first = Stage::PulseCompression;  ///< the stages this chain plans for: first..last
  Stage last = Stage::Detection;
  std::string cfar_factors;     ///< solved CFAR tables' directory ("": none), as ChainOptions
  std::ostream* log = nullptr;  ///< warnings about that directory; null: stderr
};

/// Per-stage device times (ms) of one CPI, from CUDA events (run_on_device, last_stage_times).
struct CudaStageTimes {
  double pulse_compression_ms = 0;  ///< load/convert, transforms, filter multiply (device)
  double doppler_ms = 0;            ///< MTI + window gather, transforms, power (device)
  double cfar_ms = 0;               ///< CFAR kernel (device)
  double compaction_ms = 0;         ///< scan, crossing lists, totals copy (device)
  /// Crossings' download and clustering (host wall time), counted from the moment the CPI's
  /// stream is done, so that waiting for the device is not counted twice.
  double host_plots_ms = 0;
};

class CudaChain final : public SignalChain {
 public:
  /// Throws ConfigError for an invalid mode, std::invalid_argument for a configuration the
  /// device cannot run (naming it), cuda::CudaError when the device cannot be used.
  explicit CudaChain(const Mode& mode, CudaChainOptions options = {});
  ~CudaChain() override;
  CudaChain(const CudaChain&) = delete;
  CudaChain& operator=(const CudaChain&) = delete;

  // --- SignalChain -------------------------------------------------------------------------
  Backend backend() const override { return Backend::Cuda; }
  const Mode& mode() const override { return mode_; }
  Stage first() const override { return first_; }
  Stage last() const override { return last_; }
  /// slots() for the whole chain; 1 for a chain of some stages (a segment), which runs each CPI
  /// inside submit() with the copies to and from the host.
  std::size_t depth() const override;
  std::size_t in_flight() const override { return submitted_ - collected_; }
  bool accepts(SampleFormat format) const override;
  /// The pinned input buffer of the slot the next submit() uses (input_bytes(Cf32) bytes);
  /// std::logic_error while every slot holds a CPI in flight (its copy may still be reading).
  void* next_input() override;
  /// Whole chain: copies job.in (if given) into the slot's pinned buffer, then enqueues the
  /// upload and every stage on the slot's stream and returns. A segment: runs synchronously.
  void submit(const ChainJob& job) override;
  using SignalChain::submit;
  ChainResult collect() override;
  void copy_power(PowerMap& out) const override;
  const ClutterMapState* clutter_map() const override;
  void restore_clutter_map(const ClutterMapState& state) override;

  std::size_t slots() const;
  /// Device stage split of the last collected CPI.
  const CudaStageTimes& last_stage_times() const { return last_times_; }

  // --- Device-resident runs (benchmarks) -----------------------------------------------------
  /// Enqueues the chain on slot `slot` for the IQ already in its device input buffer (as left by
  /// the last copy), without host copies or plot extraction, and waits. Returns the device time
  /// in ms; `times` (optional) gets the device stages' split.
  double run_on_device(std::size_t slot, SampleFormat format, CudaStageTimes* times = nullptr);
  /// The cuFFT calls of run_on_device alone (same plans, same buffers), waited for: the floor.
  double transforms_on_device(std::size_t slot);
  /// Copies `bytes` of the slot's pinned input to its device input (timed, ms): the H2D rate.
  double copy_input_on_device(std::size_t slot, std::size_t bytes);

  std::size_t cube_samples() const;
  std::size_t map_cells() const;
  const ModeGeometry& geometry() const { return geometry_; }
  const std::string& device_name() const { return device_name_; }
  /// Least bytes each stage moves through device memory for one CPI (roofline numerators).
  std::size_t pulse_compression_bytes(SampleFormat format) const;
  std::size_t doppler_bytes() const;
  std::size_t cfar_bytes() const;
  /// Crossings each slot can hold for one CPI, all maps together (the overflow is counted).
  std::size_t crossing_capacity() const;

  /// Device intermediate results of the last collected CPI, copied to the host (tests).
  void copy_compressed(Cpi& out) const;              ///< channels x pulses x gates
  void copy_spectrum(std::vector<cf32>& out) const;  ///< C x M x N, unshifted

 private:
  struct Slot;
  struct Impl;
  void enqueue(Slot& s, SampleFormat format, float scale);
  void enqueue_stages(Slot& s, SampleFormat format, float scale);
  void run_segment(Slot& s, const ChainJob& job);
  static CudaStageTimes device_times(const Slot& s);
  void run_clutter_map(Slot& s);
  void finish(Slot& s);
  bool has(Stage s) const { return s >= first_ && s <= last_; }
  bool whole() const { return first_ == Stage::PulseCompression && last_ == Stage::Detection; }

  Mode mode_;
  Stage first_, last_;
  ModeGeometry geometry_;
  std::string device_name_;
  std::unique_ptr<Impl> impl_;
  std::uint64_t submitted_ = 0, collected_ = 0;
  std::size_t last_slot_ = 0;
  CudaStageTimes last_times_;
};

}  // namespace radarpipe
