// The clutter map on the GPU (docs/signal-chain.md "Clutter map"), the twin of
// kernels/cpu/clutter_map.hpp: the same tables (taken from the CPU stage, which solves them),
// the same per-cell step (cpu::clutter_map_step, a __host__ __device__ function), the same
// state layout. One thread per cell, a warp per 32 range bins of a row: after the CFAR has
// tested the whole map, the map's rows' mask words, popcounts and noise (the cell's average
// before this CPI, at its crossings) are written over the CFAR's, so the crossing collector
// gathers both in (d, m) order. The state lives on the device across CPIs; the chain's slots
// take turns on it in CPI order (an event between their streams).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "core/clutter_map_state.hpp"
#include "kernels/cpu/clutter_map.hpp"
#include "kernels/cuda/cfar.cuh"
#include "kernels/cuda/memory.cuh"

namespace radarpipe::cuda {

class ClutterMap {
 public:
  /// The CPU stage (its tables and configuration; its state is the initial state).
  explicit ClutterMap(std::shared_ptr<const cpu::ClutterMap> reference);

  const cpu::ClutterMap& reference() const { return *reference_; }

  /// Decides and learns the map's rows of d_maps (maps x M x N) for `azimuth_cell`, after
  /// `cfar` tested them, on stream s, waiting for the previous CPI's map on any stream first.
  /// counts (device, 2 per map: cells tested, crossings) are zeroed and summed, then copied to
  /// host_counts (pinned; valid once s is synchronised). No allocation, no synchronisation.
  void process(const float* d_maps, std::size_t azimuth_cell, Cfar& cfar,
               unsigned long long* counts, unsigned long long* host_counts, cudaStream_t s);

  /// The state on the host (synchronises the device) / replaced from the host (checked by the
  /// CPU stage's rules first: std::invalid_argument).
  void download(ClutterMapState& out);
  void upload(const ClutterMapState& state);

 private:
  std::shared_ptr<const cpu::ClutterMap> reference_;
  cpu::ClutterMapStageConfig cfg_;
  cpu::ClutterMapRules rules_;
  DeviceBuffer<float> factor_, rate_, limit_;
  cpu::ClutterMapTables tables_{};  ///< pointers into factor_, rate_, limit_
  DeviceBuffer<float> mean_, spread_;
  DeviceBuffer<std::uint32_t> learned_, run_, quiet_;
  std::uint64_t cpis_ = 0;
  Event done_;  ///< recorded after each CPI's kernel: the next waits for it
};

}  // namespace radarpipe::cuda
