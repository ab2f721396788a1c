#include <algorithm>
#include <cub/device/device_scan.cuh>
#include <stdexcept>

#include "kernels/cuda/plots.cuh"
#include "kernels/cuda/stage_math.hpp"

namespace radarpipe::cuda {
namespace {

struct EmitArgs {
  const std::uint32_t* masks;
  const std::uint32_t* offsets;
  const std::uint32_t* starts;
  const float* maps;
  const float* noise_map;
  int doppler_bins, gates, words_per_row, capacity, pool;
  std::size_t words_per_map, words;
  cpu::CfarCrossing* crossings;
  cpu::CellNeighbours* neighbours;
};

// One thread per mask word: each set bit is a crossing whose rank in its map is the scanned
// offset of the word, less the map's first offset, plus the set bits below it in the word.
__global__ void __launch_bounds__(256) emit_kernel(EmitArgs a) {
  const std::size_t w = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (w >= a.words) return;
  std::uint32_t bits = a.masks[w];
  if (bits == 0) return;
  const int map = static_cast<int>(w / a.words_per_map);
  const std::size_t in_map = w % a.words_per_map;
  const int d = static_cast<int>(in_map / a.words_per_row);
  const int word = static_cast<int>(in_map % a.words_per_row);
  const std::uint32_t base =
      a.offsets[w] - a.offsets[static_cast<std::size_t>(map) * a.words_per_map];
  const std::size_t plane = static_cast<std::size_t>(a.doppler_bins) * a.gates;
  const float* p = a.maps + map * plane;
  const float* z = a.noise_map + map * plane;
  const float* row = p + static_cast<std::size_t>(d) * a.gates;
  const float* up =
      p + static_cast<std::size_t>(stage_math::wrap_row(d - 1, a.doppler_bins)) * a.gates;
  const float* down =
      p + static_cast<std::size_t>(stage_math::wrap_row(d + 1, a.doppler_bins)) * a.gates;
  const std::uint32_t all = bits;
  while (bits) {
    const int b = __ffs(bits) - 1;
    bits &= bits - 1;
    const std::uint32_t idx = base + stage_math::bits_below(all, b);
    if (idx >= static_cast<std::uint32_t>(a.capacity)) break;  // later bits rank higher still
    const std::size_t o = static_cast<std::size_t>(a.starts[map]) + idx;
    if (o >= static_cast<std::size_t>(a.pool)) break;  // the shared list is full
    const int m = word * 32 + b;
    cpu::CfarCrossing c;
    c.doppler_bin = static_cast<std::uint32_t>(d);
    c.range_bin = static_cast<std::uint32_t>(m);
    c.power = row[m];
    c.noise = z[static_cast<std::size_t>(d) * a.gates + m];
    cpu::CellNeighbours nb;
    nb.left = m > 0 ? row[m - 1] : 0.0f;
    nb.right = m + 1 < a.gates ? row[m + 1] : 0.0f;
    nb.up = up[m];
    nb.down = down[m];
    a.crossings[o] = c;
    a.neighbours[o] = nb;
  }
}

// One thread: each map's total and the start of its kept run (the kept counts before it, the
// same sum the host forms in start()); maps are few (channels at most).
__global__ void totals_kernel(const std::uint32_t* offsets, std::size_t words_per_map, int maps,
                              std::uint32_t capacity, std::uint32_t* totals,
                              std::uint32_t* starts) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  std::uint32_t start = 0;
  for (int map = 0; map < maps; ++map) {
    const std::uint32_t t = offsets[(map + 1) * words_per_map] - offsets[map * words_per_map];
    totals[map] = t;
    starts[map] = start;
    start += t < capacity ? t : capacity;
  }
}

}  // namespace

std::size_t CrossingCollector::pool_size(std::size_t maps, std::size_t capacity) {
  return std::min(maps * capacity, std::max<std::size_t>(capacity, 65536));
}

CrossingCollector::CrossingCollector(const Cfar& cfar, std::size_t capacity, std::size_t pool)
    : maps_(cfar.maps()),
      doppler_bins_(cfar.doppler_bins()),
      gates_(cfar.gates()),
      words_per_row_(cfar.words_per_row()),
      capacity_(capacity),
      pool_(pool) {
  if (capacity_ < 1) throw std::invalid_argument("cuda plots: capacity must be >= 1");
  if (pool_ < 1) throw std::invalid_argument("cuda plots: the crossing list must hold >= 1");
  if (pool_ >= (std::size_t{1} << 31) || capacity_ >= (std::size_t{1} << 31))
    throw std::invalid_argument("cuda plots: more than 2^31 crossings kept per CPI");
  if (cfar.words() * 32 >= (std::size_t{1} << 32))
    throw std::invalid_argument("cuda plots: more than 2^32 cells per CPI");
  const std::size_t n = cfar.words() + 1;
  offsets_ = DeviceBuffer<std::uint32_t>(n);
  RP_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_temp_bytes_, cfar.popcounts(),
                                              offsets_.data(), static_cast<int>(n)));
  scan_temp_ = DeviceBuffer<unsigned char>(std::max<std::size_t>(scan_temp_bytes_, 1));
  crossings_ = DeviceBuffer<cpu::CfarCrossing>(pool_);
  neighbours_ = DeviceBuffer<cpu::CellNeighbours>(pool_);
  totals_dev_ = DeviceBuffer<std::uint32_t>(maps_);
  starts_dev_ = DeviceBuffer<std::uint32_t>(maps_);
  totals_ = PinnedBuffer<std::uint32_t>(maps_);
  noise_host_ = PinnedBuffer<double>(maps_);
  crossings_host_ = PinnedBuffer<cpu::CfarCrossing>(pool_);
  neighbours_host_ = PinnedBuffer<cpu::CellNeighbours>(pool_);
  for (std::size_t i = 0; i < maps_; ++i) {
    totals_[i] = 0;
    noise_host_[i] = 0.0;
  }
}

void CrossingCollector::collect(const Cfar& cfar, const float* d_maps, cudaStream_t s) {
  const std::size_t n = cfar.words() + 1;
  std::size_t temp = scan_temp_bytes_;
  RP_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(scan_temp_.data(), temp, cfar.popcounts(),
                                              offsets_.data(), static_cast<int>(n), s));
  const std::size_t words_per_map = doppler_bins_ * words_per_row_;
  totals_kernel<<<1, 1, 0, s>>>(offsets_.data(), words_per_map, static_cast<int>(maps_),
                                static_cast<std::uint32_t>(capacity_), totals_dev_.data(),
                                starts_dev_.data());
  RP_CUDA_CHECK_LAUNCH();
  EmitArgs a{};
  a.masks = cfar.masks();
  a.offsets = offsets_.data();
  a.starts = starts_dev_.data();
  a.maps = d_maps;
  a.noise_map = cfar.noise_map();
  a.doppler_bins = static_cast<int>(doppler_bins_);
  a.gates = static_cast<int>(gates_);
  a.words_per_row = static_cast<int>(words_per_row_);
  a.capacity = static_cast<int>(capacity_);
  a.pool = static_cast<int>(pool_);
  a.words_per_map = words_per_map;
  a.words = cfar.words();
  a.crossings = crossings_.data();
  a.neighbours = neighbours_.data();
  emit_kernel<<<static_cast<unsigned>((a.words + 255) / 256), 256, 0, s>>>(a);
  RP_CUDA_CHECK_LAUNCH();
  RP_CUDA_CHECK(cudaMemcpyAsync(totals_.data(), totals_dev_.data(), maps_ * sizeof(std::uint32_t),
                                cudaMemcpyDeviceToHost, s));
  RP_CUDA_CHECK(cudaMemcpyAsync(noise_host_.data(), cfar.noise_sums(), maps_ * sizeof(double),
                                cudaMemcpyDeviceToHost, s));
}

std::size_t CrossingCollector::start(std::size_t map) const {
  std::size_t start = 0;
  for (std::size_t k = 0; k < map; ++k) start += std::min<std::size_t>(totals_[k], capacity_);
  return start;
}

std::size_t CrossingCollector::stored(std::size_t map) const {
  const std::size_t from = start(map);
  if (from >= pool_) return 0;
  return std::min({static_cast<std::size_t>(totals_[map]), capacity_, pool_ - from});
}

void CrossingCollector::download(cudaStream_t s) {
  RP_CUDA_CHECK(cudaStreamSynchronize(s));
  // Every map's kept run lies in [0, kept) of the list, one after another.
  const std::size_t kept = std::min(start(maps_), pool_);
  if (kept > 0) {
    RP_CUDA_CHECK(cudaMemcpyAsync(crossings_host_.data(), crossings_.data(),
                                  kept * sizeof(cpu::CfarCrossing), cudaMemcpyDeviceToHost, s));
    RP_CUDA_CHECK(cudaMemcpyAsync(neighbours_host_.data(), neighbours_.data(),
                                  kept * sizeof(cpu::CellNeighbours), cudaMemcpyDeviceToHost, s));
  }
  RP_CUDA_CHECK(cudaStreamSynchronize(s));
}

}  // namespace radarpipe::cuda
