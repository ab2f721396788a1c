#include <stdexcept>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/clutter_map.cuh"

namespace radarpipe::cuda {
namespace {

struct MapArgs {
  const float* maps;
  float* mean;
  float* spread;
  std::uint32_t* learned;
  std::uint32_t* run;
  std::uint32_t* quiet;
  cpu::ClutterMapTables tables;
  cpu::ClutterMapRules rules;
  int doppler_bins, gates, first_row, rows, words_per_row;
  std::size_t azimuth_cells, azimuth_cell, words;  // words: maps x rows x words_per_row
  std::uint32_t* masks;
  std::uint32_t* popcounts;
  float* noise_map;
  unsigned long long* counts;
};

// A warp per mask word (32 range bins of one row of one map), a thread per cell.
__global__ void __launch_bounds__(256) clutter_map_kernel(MapArgs a) {
  const std::size_t t = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::size_t w = t / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (w >= a.words) return;  // whole warps leave together: words are warp-sized
  const std::size_t per_map = static_cast<std::size_t>(a.rows) * a.words_per_row;
  const std::size_t map = w / per_map;
  const int r = static_cast<int>((w % per_map) / a.words_per_row);
  const int word = static_cast<int>(w % a.words_per_row);
  const int d = a.first_row + r;
  const int m = word * 32 + lane;
  bool hit = false, tested = false;
  if (m < a.gates) {
    const std::size_t cell = ((map * a.azimuth_cells + a.azimuth_cell) * a.rows + r) * a.gates + m;
    const std::size_t at = (map * a.doppler_bins + d) * a.gates + m;
    const float before = a.mean[cell];
    const std::uint32_t n = a.learned[cell] < a.rules.last ? a.learned[cell] : a.rules.last;
    tested = n >= a.rules.warmup;
    hit = cpu::clutter_map_step(a.maps[at], a.mean[cell], a.spread[cell], a.learned[cell],
                                a.run[cell], a.quiet[cell], a.tables, a.rules);
    if (hit) a.noise_map[at] = before;
  }
  const unsigned bits = __ballot_sync(0xffffffffu, hit);
  const unsigned tested_bits = __ballot_sync(0xffffffffu, tested);
  if (lane == 0) {
    const std::size_t wi = (map * a.doppler_bins + d) * a.words_per_row + word;
    a.masks[wi] = bits;
    a.popcounts[wi] = static_cast<std::uint32_t>(__popc(bits));
    atomicAdd(&a.counts[2 * map], static_cast<unsigned long long>(__popc(tested_bits)));
    atomicAdd(&a.counts[2 * map + 1], static_cast<unsigned long long>(__popc(bits)));
  }
}

}  // namespace

ClutterMap::ClutterMap(std::shared_ptr<const cpu::ClutterMap> reference)
    : reference_(std::move(reference)), cfg_(reference_->config()), done_(false) {
  const cpu::ClutterMap& ref = *reference_;
  rules_ = ref.rules();
  factor_ = DeviceBuffer<float>(ref.factors().size());
  rate_ = DeviceBuffer<float>(ref.rates().size());
  limit_ = DeviceBuffer<float>(std::max<std::size_t>(1, ref.shape_limits().size()));
  RP_CUDA_CHECK(
      cudaMemcpy(factor_.data(), ref.factors().data(), factor_.bytes(), cudaMemcpyHostToDevice));
  RP_CUDA_CHECK(
      cudaMemcpy(rate_.data(), ref.rates().data(), rate_.bytes(), cudaMemcpyHostToDevice));
  if (!ref.shape_limits().empty())
    RP_CUDA_CHECK(cudaMemcpy(limit_.data(), ref.shape_limits().data(),
                             ref.shape_limits().size() * sizeof(float), cudaMemcpyHostToDevice));
  tables_ = cpu::ClutterMapTables{factor_.data(), rate_.data(), limit_.data(),
                                  static_cast<std::uint32_t>(ref.shape_limits().size())};
  const std::size_t cells = ref.state().cells();
  mean_ = DeviceBuffer<float>(cells);
  spread_ = DeviceBuffer<float>(cells);
  learned_ = DeviceBuffer<std::uint32_t>(cells);
  run_ = DeviceBuffer<std::uint32_t>(cells);
  quiet_ = DeviceBuffer<std::uint32_t>(cells);  // zeroed: the map has learned nothing
  done_.record(nullptr);
  RP_CUDA_CHECK(cudaDeviceSynchronize());
}

void ClutterMap::process(const float* d_maps, std::size_t azimuth_cell, Cfar& cfar,
                         unsigned long long* counts, unsigned long long* host_counts,
                         cudaStream_t s) {
  RP_CUDA_CHECK(cudaStreamWaitEvent(s, done_.get(), 0));
  RP_CUDA_CHECK(cudaMemsetAsync(counts, 0, 2 * cfg_.maps * sizeof(unsigned long long), s));
  MapArgs a{};
  a.maps = d_maps;
  a.mean = mean_.data();
  a.spread = spread_.data();
  a.learned = learned_.data();
  a.run = run_.data();
  a.quiet = quiet_.data();
  a.tables = tables_;
  a.rules = rules_;
  a.doppler_bins = static_cast<int>(cfg_.doppler_bins);
  a.gates = static_cast<int>(cfg_.gates);
  a.first_row = static_cast<int>(cfg_.first_row);
  a.rows = static_cast<int>(cfg_.rows);
  a.words_per_row = static_cast<int>(cfar.words_per_row());
  a.azimuth_cells = cfg_.azimuth_cells;
  a.azimuth_cell = azimuth_cell < cfg_.azimuth_cells ? azimuth_cell : 0;
  a.words = cfg_.maps * cfg_.rows * cfar.words_per_row();
  a.masks = cfar.masks_for_writing();
  a.popcounts = cfar.popcounts_for_writing();
  a.noise_map = cfar.noise_map_for_writing();
  a.counts = counts;
  const std::size_t threads = a.words * 32;
  clutter_map_kernel<<<static_cast<unsigned>((threads + 255) / 256), 256, 0, s>>>(a);
  RP_CUDA_CHECK_LAUNCH();
  done_.record(s);
  ++cpis_;
  RP_CUDA_CHECK(cudaMemcpyAsync(host_counts, counts, 2 * cfg_.maps * sizeof(unsigned long long),
                                cudaMemcpyDeviceToHost, s));
}

void ClutterMap::download(ClutterMapState& out) {
  RP_CUDA_CHECK(cudaDeviceSynchronize());
  out = reference_->state();  // the shape
  out.cpis = cpis_;
  RP_CUDA_CHECK(cudaMemcpy(out.mean.data(), mean_.data(), mean_.bytes(), cudaMemcpyDeviceToHost));
  RP_CUDA_CHECK(
      cudaMemcpy(out.spread.data(), spread_.data(), spread_.bytes(), cudaMemcpyDeviceToHost));
  RP_CUDA_CHECK(
      cudaMemcpy(out.learned.data(), learned_.data(), learned_.bytes(), cudaMemcpyDeviceToHost));
  RP_CUDA_CHECK(cudaMemcpy(out.run.data(), run_.data(), run_.bytes(), cudaMemcpyDeviceToHost));
  RP_CUDA_CHECK(
      cudaMemcpy(out.quiet.data(), quiet_.data(), quiet_.bytes(), cudaMemcpyDeviceToHost));
}

void ClutterMap::upload(const ClutterMapState& state) {
  reference_->check(state);
  RP_CUDA_CHECK(cudaDeviceSynchronize());
  RP_CUDA_CHECK(cudaMemcpy(mean_.data(), state.mean.data(), mean_.bytes(), cudaMemcpyHostToDevice));
  RP_CUDA_CHECK(
      cudaMemcpy(spread_.data(), state.spread.data(), spread_.bytes(), cudaMemcpyHostToDevice));
  RP_CUDA_CHECK(
      cudaMemcpy(learned_.data(), state.learned.data(), learned_.bytes(), cudaMemcpyHostToDevice));
  RP_CUDA_CHECK(cudaMemcpy(run_.data(), state.run.data(), run_.bytes(), cudaMemcpyHostToDevice));
  RP_CUDA_CHECK(
      cudaMemcpy(quiet_.data(), state.quiet.data(), quiet_.bytes(), cudaMemcpyHostToDevice));
  cpis_ = state.cpis;
}

}  // namespace radarpipe::cuda
