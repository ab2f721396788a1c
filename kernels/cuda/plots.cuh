// Plot extraction's device half (RADAR-MODEL.md "Plots"): the CFAR's crossing masks are
// compacted on the GPU into per-map lists in (d, m) order, the first `capacity` of each map
// exactly as the CPU stage keeps them, each with its power, its Z and the four neighbours that
// the parabolic interpolation needs; only those lists cross to the host, where
// cpu::PlotExtractor clusters them (crossings are few; the host time is timed with the rest).
//
// Per call, on one stream: exclusive scan of the mask popcounts (CUB) -> per-map totals and the
// start of each map's kept run in one shared list -> one thread per mask word writes its
// crossings at their positions; then an asynchronous copy of the totals and noise sums to
// pinned host memory. After the stream has reached that point, download() copies the kept
// crossings (the totals say how many) in one contiguous copy per array and waits for them.
//
// Memory: the maps share one list of pool() crossings (pool_size: one map's capacity, the
// CPU's max_crossings, or at least 64 Ki), not maps x capacity; 16 per-channel maps at the
// default 2^20 took 512 MiB per slot that way. Each map keeps its first `capacity` crossings
// in (d, m) order, as the CPU stage does, while the list has room; what does not fit is
// counted (crossings(map) - stored(map)).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cfar.hpp"
#include "kernels/cpu/plots.hpp"
#include "kernels/cuda/cfar.cuh"
#include "kernels/cuda/memory.cuh"

namespace radarpipe::cuda {

class CrossingCollector {
 public:
  /// For `cfar`'s maps, keeping at most `capacity` crossings per map (>= 1) and `pool` of all
  /// maps together (>= 1).
  CrossingCollector(const Cfar& cfar, std::size_t capacity, std::size_t pool);
  /// The list's size for `maps` maps of `capacity` crossings each: min(maps x capacity,
  /// max(capacity, 65536)).
  static std::size_t pool_size(std::size_t maps, std::size_t capacity);

  /// Compacts the crossings of cfar's last process() on d_maps (the maps it tested) and starts
  /// the copy of the per-map totals to the host. No allocation, no synchronisation.
  void collect(const Cfar& cfar, const float* d_maps, cudaStream_t s);
  /// Waits for s, copies the kept crossings to the host, waits again.
  void download(cudaStream_t s);

  /// Host results of the last collect() + download().
  std::uint64_t crossings(std::size_t map) const { return totals_[map]; }  ///< all, kept or not
  /// Kept: min(total, capacity), less what did not fit in the shared list.
  std::size_t stored(std::size_t map) const;
  double noise_sum(std::size_t map) const { return noise_host_[map]; }
  const cpu::CfarCrossing* host_crossings(std::size_t map) const {
    return crossings_host_.data() + start(map);
  }
  const cpu::CellNeighbours* host_neighbours(std::size_t map) const {
    return neighbours_host_.data() + start(map);
  }
  std::size_t capacity() const { return capacity_; }
  std::size_t pool() const { return pool_; }

 private:
  /// Where map's kept run starts in the list (the kept counts of the maps before it).
  std::size_t start(std::size_t map) const;

  std::size_t maps_, doppler_bins_, gates_, words_per_row_, capacity_, pool_;
  DeviceBuffer<std::uint32_t> offsets_;  ///< exclusive scan of the popcounts (words + 1)
  DeviceBuffer<unsigned char> scan_temp_;
  std::size_t scan_temp_bytes_ = 0;
  DeviceBuffer<cpu::CfarCrossing> crossings_;     ///< [pool], maps' runs one after another
  DeviceBuffer<cpu::CellNeighbours> neighbours_;  ///< [pool]
  DeviceBuffer<std::uint32_t> totals_dev_;        ///< per map
  DeviceBuffer<std::uint32_t> starts_dev_;        ///< per map: start of its kept run
  PinnedBuffer<std::uint32_t> totals_;
  PinnedBuffer<double> noise_host_;
  PinnedBuffer<cpu::CfarCrossing> crossings_host_;
  PinnedBuffer<cpu::CellNeighbours> neighbours_host_;
};

}  // namespace radarpipe::cuda
