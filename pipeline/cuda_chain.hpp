// The whole pulse-Doppler chain on a CUDA device (built when nvcc is found): the twin of
// CpuChain with the same contracts, made of the kernels/cuda stages.
//
// Per CPI, on one CUDA stream: host-to-device copy of the IQ cube (from pinned memory) ->
// pulse compression (load/convert, batched cuFFT, filter multiply, inverse cuFFT) -> MTI +
// window gather, strided Doppler cuFFT, power + channel combining -> CFAR -> crossing compaction
// -> copy of the per-map totals to the host; then the kept crossings come back and the host
// clusters them into plots (cpu::PlotExtractor, the CPU stage itself).
//
// Streaming: `slots` (>= 2 by default) independent sets of stream, pinned input buffer, device
// buffers and cuFFT plans, used round-robin, so that CPI n + 1's host-to-device copy and kernels
// overlap CPI n's tail and its host-side plot extraction. Everything is allocated and planned at
// construction; submit() / collect() never allocate (the report's detections vector was
// reserved). CUDA and cuFFT failures throw cuda::CudaError / cuda::CufftError naming the file,
// line, call and error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pipeline/chain.hpp"
#include "pipeline/core/cpi.hpp"
#include "pipeline/core/detection.hpp"
#include "pipeline/core/mode.hpp"

namespace radarpipe {

struct CudaChainOptions {
  int device = 0;         ///< CUDA device index
  std::size_t slots = 2;  ///< CPIs in flight (each with its own stream and buffers), >= 1
  Stage first = Stage::PulseCompression;  ///< the stages this chain plans for: first..last
  Stage last = Stage::Detection;
};

/// Input sample formats on the host side of submit_pinned().
enum class IqFormat { Cf32, Ci16 };

/// Per-stage device times (ms) of one CPI, from CUDA events (CudaChain::time_stages).
struct CudaStageTimes {
  double pulse_compression_ms = 0;  ///< load/convert, transforms, filter multiply (device)
  double doppler_ms = 0;            ///< MTI + window gather, transforms, power (device)
  double cfar_ms = 0;               ///< CFAR kernel (device)
  double compaction_ms = 0;         ///< scan, crossing lists, totals copy (device)
  double host_plots_ms = 0;         ///< crossings' download and clustering (host wall time)
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
  /// submit(cpi) then collect(): one CPI, synchronously.
  const DetectionReport& process(const Cpi& cpi) override;
  /// The stages first..last on host buffers (layouts as CpuChain::run_stages), synchronously;
  /// stage_seconds[s] is stage s's wall time including its share of the copies.
  const DetectionReport* run_stages(const void* in, void* out, std::uint64_t cpi,
                                    std::int64_t timestamp_ns, double* stage_seconds) override;
  void copy_power(PowerMap& out) const override;
  Backend backend() const override { return Backend::Cuda; }
  Stage first() const override { return first_; }
  Stage last() const override { return last_; }

  // --- Pipelined use (whole chain only) ------------------------------------------------------
  std::size_t slots() const;
  std::size_t in_flight() const { return submitted_ - collected_; }
  /// Copies the CPI into the next slot's pinned buffer and enqueues the chain on its stream.
  /// std::logic_error when every slot holds an uncollected CPI.
  void submit(const Cpi& cpi);
  /// The same for cube_samples() samples at `samples` (x[c][p][n]) with their CPI's number.
  void submit_samples(const cf32* samples, std::uint64_t cpi, std::int64_t timestamp_ns);
  /// The pinned input buffer of the slot the next submit_pinned() will use: fill it with
  /// cube_samples() complex samples in `format` (cf32: 8 bytes each, ci16: 4 bytes each),
  /// then call submit_pinned. Lets a producer write where the DMA reads, with no extra copy.
  void* next_pinned_input();
  void submit_pinned(IqFormat format, float scale, std::uint64_t cpi, std::int64_t timestamp_ns);
  /// The report of the oldest submitted CPI (waits for it); valid until the next collect().
  const DetectionReport& collect();
  /// Stage times of the last collected CPI (from events recorded around each stage).
  const CudaStageTimes& last_stage_times() const { return last_times_; }

  // --- Device-resident runs (benchmarks) -----------------------------------------------------
  /// Enqueues the chain on slot `slot` for the IQ already in its device input buffer (as left by
  /// the last copy), without host copies or plot extraction, and waits. Returns the device time
  /// in ms; `times` (optional) gets the device stages' split.
  double run_on_device(std::size_t slot, IqFormat format, CudaStageTimes* times = nullptr);
  /// The cuFFT calls of run_on_device alone (same plans, same buffers), waited for: the floor.
  double transforms_on_device(std::size_t slot);
  /// Copies `bytes` of the slot's pinned input to its device input (timed, ms): the H2D rate.
  double copy_input_on_device(std::size_t slot, std::size_t bytes);

  std::size_t cube_samples() const;
  std::size_t map_cells() const;
  const Mode& mode() const { return mode_; }
  const ModeGeometry& geometry() const { return geometry_; }
  const std::string& device_name() const { return device_name_; }
  /// Least bytes each stage moves through device memory for one CPI (roofline numerators).
  std::size_t pulse_compression_bytes(IqFormat format) const;
  std::size_t doppler_bytes() const;
  std::size_t cfar_bytes() const;

  /// Device intermediate results of the last CPI on slot 0, copied to the host (tests).
  void copy_compressed(Cpi& out) const;              ///< channels x pulses x gates
  void copy_spectrum(std::vector<cf32>& out) const;  ///< C x M x N, unshifted

 private:
  struct Slot;
  struct Impl;
  void enqueue(Slot& s, IqFormat format, float scale);
  void enqueue_stages(Slot& s, IqFormat format, float scale);
  static CudaStageTimes device_times(const Slot& s);
  void finish(Slot& s);
  bool has(Stage s) const { return s >= first_ && s <= last_; }

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
