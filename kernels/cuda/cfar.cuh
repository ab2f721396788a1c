// 2-D CFAR on the GPU (RADAR-MODEL.md "CFAR"), the twin of kernels/cpu/cfar.hpp: CA, GO, SO
// and OS with the same window, the same range-edge rule, the same threshold factors (taken from
// a cpu::Cfar built with the same configuration, so both sides use identical alphas, training
// counts and OS ranks) and the same per-cell arithmetic (kernels/cuda/stage_math.hpp).
//
// One block tests TD Doppler rows x 128 range bins of one map. It loads the map tile with its
// halo (D rows each side, Doppler wrapped; R bins each side, zero off the map) into shared
// memory; CA/GO/SO then form the Doppler band sums of every tile column in double and the
// range sums per cell from those, OS counts (and, where it must report a value, selects) per
// cell. Decisions leave as a bit mask per row (one 32-bit word per 32 range bins, from a warp
// ballot) with the words' popcounts; a crossing's Z is written to a noise map at its cell only.
// The noise statistic (sum of Z over the full-gain bins; OS on its sampling grid) is summed per
// map in double.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu/cfar.hpp"
#include "kernels/cuda/memory.cuh"

namespace radarpipe::cuda {

class Cfar {
 public:
  /// The CPU stage's configuration (its `workers` is ignored) for `maps` maps of M x N.
  /// Throws std::invalid_argument as cpu::Cfar does, when the window needs more shared memory
  /// than the current device offers per block, or when the grid exceeds CUDA's limits.
  Cfar(const cpu::CfarStageConfig& config, std::size_t maps);
  /// The same with the CPU stage given, its thresholds already solved: the chain's slots share
  /// one (solving the calibrated factors once).
  Cfar(std::shared_ptr<const cpu::Cfar> reference, std::size_t maps);

  std::size_t maps() const { return maps_; }
  std::size_t doppler_bins() const { return doppler_bins_; }
  std::size_t gates() const { return gates_; }
  std::size_t words_per_row() const { return words_per_row_; }
  std::size_t words() const { return maps_ * doppler_bins_ * words_per_row_; }
  /// The CPU stage whose thresholds this one uses.
  const cpu::Cfar& reference() const { return *reference_; }
  /// Noise cells per map (deterministic: the full-gain bins of every row, or OS's grid).
  std::uint64_t noise_cells_per_map() const { return noise_cells_per_map_; }

  /// Tests every cell of d_maps (maps x M x N) on stream s. No allocation, no synchronisation.
  void process(const float* d_maps, cudaStream_t s);

  /// Outputs of the last process(), on the device.
  const std::uint32_t* masks() const { return masks_.data(); }  ///< [map][d][word]
  /// popcount of each mask word, then one 0 (words() + 1 entries, for an exclusive scan).
  const std::uint32_t* popcounts() const { return popcounts_.data(); }
  const float* noise_map() const { return noise_map_.data(); }     ///< Z at crossing cells only
  const double* noise_sums() const { return noise_sums_.data(); }  ///< per map

  /// The same outputs, for a stage that decides some rows itself after process() (the clutter
  /// map's rows: it rewrites their mask words, popcounts and noise at its crossings).
  std::uint32_t* masks_for_writing() { return masks_.data(); }
  std::uint32_t* popcounts_for_writing() { return popcounts_.data(); }
  float* noise_map_for_writing() { return noise_map_.data(); }

  /// Cells the last process() must at least read and write, for the roofline.
  std::size_t bytes_moved() const;

 private:
  std::size_t maps_, doppler_bins_, gates_, words_per_row_, noise_gates_;
  int kind_;
  int rows_per_block_;
  std::size_t shared_bytes_;
  std::uint64_t noise_cells_per_map_ = 0;
  std::shared_ptr<const cpu::Cfar> reference_;
  DeviceBuffer<double> alpha_;  ///< per range bin
  /// Row classes x Doppler bins: alpha(d, m) = alpha_[m] * row_factor_[row_class_[m] M + d]
  DeviceBuffer<double> row_factor_;
  DeviceBuffer<std::uint32_t> row_class_;  ///< per range bin
  DeviceBuffer<double> n_lead_, n_lag_;
  DeviceBuffer<int> os_k_;
  DeviceBuffer<std::uint32_t> masks_;
  DeviceBuffer<std::uint32_t> popcounts_;
  DeviceBuffer<float> noise_map_;
  DeviceBuffer<double> noise_sums_;
  int os_stride_ = 1;
};

}  // namespace radarpipe::cuda
