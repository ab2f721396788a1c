#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cuda/cfar.cuh"
#include "kernels/cuda/stage_math.hpp"

namespace radarpipe::cuda {
namespace {

using stage_math::CfarWindow;

constexpr int kTileGates = stage_math::kCfarTileGates;  // range bins = threads per block

struct CfarArgs {
  const float* maps;
  int doppler_bins, gates, words_per_row, noise_gates;
  CfarWindow w;
  int kind, rows_per_block, os_stride;
  const double* alpha;             // per range bin
  const double* row_factor;        // row classes x Doppler bins
  const std::uint32_t* row_class;  // per range bin
  const double* n_lead;
  const double* n_lag;
  const int* os_k;
  std::uint32_t* masks;
  std::uint32_t* popcounts;
  float* noise_map;
  double* noise_sums;
};

// Shared memory: the map tile (TD + 2D) x TW floats, TW = 128 + 2R; CA/GO/SO add the full
// and guard band sums TD x TW doubles each.
__global__ void __launch_bounds__(kTileGates) cfar_kernel(CfarArgs a) {
  extern __shared__ double shared[];
  const int td = a.rows_per_block, big_d = a.w.big_d(), big_r = a.w.big_r();
  const int tw = kTileGates + 2 * big_r;
  const int map = blockIdx.z;
  const int d0 = blockIdx.y * td, m0 = blockIdx.x * kTileGates;
  const int tid = threadIdx.x;
  const bool os = a.kind == stage_math::kCfarOs;
  double* full = shared;                                               // [td][tw]
  double* guard = full + (os ? 0 : td * tw);                           // [td][tw]
  float* tile = reinterpret_cast<float*>(guard + (os ? 0 : td * tw));  // [td + 2D][tw]
  const float* src = a.maps + static_cast<size_t>(map) * a.doppler_bins * a.gates;

  const int tile_rows = td + 2 * big_d;
  for (int i = tid; i < tile_rows * tw; i += blockDim.x) {
    int row, col;
    bool inside;
    stage_math::cfar_tile_source(i, a.w, d0, m0, a.doppler_bins, a.gates, &row, &col, &inside);
    tile[i] = inside ? src[static_cast<size_t>(row) * a.gates + col] : 0.0f;
  }
  __syncthreads();

  if (!os) {
    for (int i = tid; i < td * tw; i += blockDim.x) {
      const int r = i / tw, tc = i % tw;
      auto col = [&](int dd) { return tile[(r + big_d + dd) * tw + tc]; };
      double lead, g, lag;
      stage_math::cfar_column_bands(col, a.w, &lead, &g, &lag);
      full[i] = lead + g + lag;
      guard[i] = g;
    }
    __syncthreads();
  }

  const int m = m0 + tid;
  const int lane = tid & 31, word = (m0 >> 5) + (tid >> 5);
  double noise = 0.0;
  for (int r = 0; r < td; ++r) {
    const int d = d0 + r;
    if (d >= a.doppler_bins) break;  // uniform across the block
    bool hit = false;
    if (m < a.gates) {
      const float p = tile[(r + big_d) * tw + big_r + tid];
      const double row_factor =
          a.row_factor[static_cast<size_t>(a.row_class[m]) * a.doppler_bins + d];
      if (!os) {
        auto col = [&](int dd) { return tile[(r + big_d + dd) * tw + big_r + tid]; };
        double lead0, g0, lag0;
        stage_math::cfar_column_bands(col, a.w, &lead0, &g0, &lag0);
        const double* fr = full + r * tw + big_r + tid;
        const double* gr = guard + r * tw + big_r + tid;
        double s1, s2;
        stage_math::cfar_halves([&](int j) { return fr[j]; }, [&](int j) { return gr[j]; }, lead0,
                                lag0, a.w, &s1, &s2);
        const double z = stage_math::cfar_noise(a.kind, s1, s2, a.n_lead[m], a.n_lag[m]);
        if (m < a.noise_gates) noise += z;
        hit = stage_math::cfar_hit(p, stage_math::cfar_alpha(a.alpha[m], row_factor), z);
        if (hit)
          a.noise_map[(static_cast<size_t>(map) * a.doppler_bins + d) * a.gates + m] =
              static_cast<float>(z);
      } else {
        auto at = [&](int dd, int c) { return tile[(r + big_d + dd) * tw + (c - m0 + big_r)]; };
        const float alpha_f = static_cast<float>(stage_math::cfar_alpha(a.alpha[m], row_factor));
        hit = stage_math::os_count_below(at, m, a.gates, a.w, alpha_f, p) >= a.os_k[m];
        const bool sample = d % a.os_stride == 0 && m % a.os_stride == 0 && m < a.noise_gates;
        if (hit || sample) {
          const float z = stage_math::os_select(at, m, a.gates, a.w, a.os_k[m]);
          if (sample) noise += z;
          if (hit) a.noise_map[(static_cast<size_t>(map) * a.doppler_bins + d) * a.gates + m] = z;
        }
      }
    }
    const unsigned bits = __ballot_sync(0xffffffffu, hit);
    if (lane == 0 && word < a.words_per_row) {
      const size_t wi = (static_cast<size_t>(map) * a.doppler_bins + d) * a.words_per_row + word;
      a.masks[wi] = bits;
      a.popcounts[wi] = static_cast<std::uint32_t>(__popc(bits));
    }
  }

  // Block sum of the noise statistic (fixed order within the block), one atomic per block.
  for (int off = 16; off > 0; off >>= 1) noise += __shfl_down_sync(0xffffffffu, noise, off);
  __syncthreads();  // the tile is no longer read: reuse the start of shared memory
  double* warp_sums = shared;
  if (lane == 0) warp_sums[tid >> 5] = noise;
  __syncthreads();
  if (tid == 0) {
    double s = 0.0;
    for (int i = 0; i < kTileGates / 32; ++i) s += warp_sums[i];
    if (s != 0.0) atomicAdd(a.noise_sums + map, s);
  }
}

}  // namespace

namespace {
std::shared_ptr<const cpu::Cfar> solve_reference(cpu::CfarStageConfig config) {
  config.workers = 1;
  return std::make_shared<const cpu::Cfar>(config);  // validates, solves the thresholds
}
}  // namespace

Cfar::Cfar(const cpu::CfarStageConfig& config, std::size_t maps)
    : Cfar(solve_reference(config), maps) {}

Cfar::Cfar(std::shared_ptr<const cpu::Cfar> reference, std::size_t maps)
    : maps_(maps),
      doppler_bins_(reference ? reference->doppler_bins() : 0),
      gates_(reference ? reference->gates() : 0),
      words_per_row_((gates_ + 31) / 32),
      noise_gates_(reference ? reference->noise_gates() : 0),
      kind_(reference ? static_cast<int>(reference->config().type) : 0),
      reference_(std::move(reference)) {
  if (!reference_) throw std::invalid_argument("cuda cfar: no CPU reference stage");
  if (maps_ < 1) throw std::invalid_argument("cuda cfar: maps must be >= 1");
  const CfarConfig& config = reference_->config();

  CfarWindow w;
  w.gr = static_cast<int>(config.guard_range);
  w.gd = static_cast<int>(config.guard_doppler);
  w.tr = static_cast<int>(config.train_range);
  w.td = static_cast<int>(config.train_doppler);
  const bool os = config.type == CfarType::Os;
  int device = 0, optin = 0;
  RP_CUDA_CHECK(cudaGetDevice(&device));
  RP_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  rows_per_block_ = stage_math::cfar_rows_per_block(static_cast<std::size_t>(optin), w, os);
  shared_bytes_ = stage_math::cfar_shared_bytes(rows_per_block_, w, os);
  const std::string grid_error = stage_math::cfar_grid_error(
      static_cast<long long>(doppler_bins_), static_cast<long long>(gates_),
      static_cast<long long>(maps_), rows_per_block_);
  if (!grid_error.empty()) throw std::invalid_argument("cuda cfar: " + grid_error);
  if (shared_bytes_ > static_cast<std::size_t>(optin))
    throw std::invalid_argument(
        "cuda cfar: a window of " + std::to_string(2 * w.big_d() + 1) + " Doppler x " +
        std::to_string(2 * w.big_r() + 1) + " range cells needs " + std::to_string(shared_bytes_) +
        " bytes of shared memory per block; this device offers " + std::to_string(optin));
  RP_CUDA_CHECK(cudaFuncSetAttribute(cfar_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     static_cast<int>(shared_bytes_)));

  const std::size_t classes = reference_->row_classes();
  std::vector<double> alpha(gates_), n1(gates_), n2(gates_), rows(classes * doppler_bins_);
  // The thresholds are the CPU stage's (calibrated or textbook), read once; the device tables
  // are this stage's own.
  std::vector<int> k(gates_);
  std::vector<std::uint32_t> row_class(gates_);
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t d = 0; d < doppler_bins_; ++d)
      rows[c * doppler_bins_ + d] = reference_->row_factor(c, d);
  for (std::size_t m = 0; m < gates_; ++m) {
    row_class[m] = reference_->row_class_at(m);
    alpha[m] = reference_->alpha_at(m);
    n1[m] = static_cast<double>(reference_->leading_cells_at(m));
    n2[m] = static_cast<double>(reference_->lagging_cells_at(m));
    k[m] = static_cast<int>(reference_->os_rank_at(m));
  }
  auto upload = [](auto& buf, const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    buf = std::decay_t<decltype(buf)>(v.size());
    RP_CUDA_CHECK(cudaMemcpy(buf.data(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  };
  upload(alpha_, alpha);
  upload(row_factor_, rows);
  upload(row_class_, row_class);
  upload(n_lead_, n1);
  upload(n_lag_, n2);
  upload(os_k_, k);
  os_stride_ = static_cast<int>(reference_->os_noise_stride());
  if (os) {
    const std::uint64_t rows = (doppler_bins_ + os_stride_ - 1) / os_stride_;
    const std::uint64_t cols = (noise_gates_ + os_stride_ - 1) / os_stride_;
    noise_cells_per_map_ = rows * cols;
  } else {
    noise_cells_per_map_ = static_cast<std::uint64_t>(doppler_bins_) * noise_gates_;
  }
  masks_ = DeviceBuffer<std::uint32_t>(words());
  popcounts_ = DeviceBuffer<std::uint32_t>(words() + 1);  // the last entry stays 0
  noise_map_ = DeviceBuffer<float>(maps_ * doppler_bins_ * gates_);
  noise_sums_ = DeviceBuffer<double>(maps_);
  RP_CUDA_CHECK(cudaDeviceSynchronize());
}

void Cfar::process(const float* d_maps, cudaStream_t s) {
  RP_CUDA_CHECK(cudaMemsetAsync(noise_sums_.data(), 0, maps_ * sizeof(double), s));
  CfarArgs a{};
  a.maps = d_maps;
  a.doppler_bins = static_cast<int>(doppler_bins_);
  a.gates = static_cast<int>(gates_);
  a.words_per_row = static_cast<int>(words_per_row_);
  a.noise_gates = static_cast<int>(noise_gates_);
  const CfarConfig& c = reference_->config();
  a.w.gr = static_cast<int>(c.guard_range);
  a.w.gd = static_cast<int>(c.guard_doppler);
  a.w.tr = static_cast<int>(c.train_range);
  a.w.td = static_cast<int>(c.train_doppler);
  a.kind = kind_;
  a.rows_per_block = rows_per_block_;
  a.os_stride = os_stride_;
  a.alpha = alpha_.data();
  a.row_factor = row_factor_.data();
  a.row_class = row_class_.data();
  a.n_lead = n_lead_.data();
  a.n_lag = n_lag_.data();
  a.os_k = os_k_.data();
  a.masks = masks_.data();
  a.popcounts = popcounts_.data();
  a.noise_map = noise_map_.data();
  a.noise_sums = noise_sums_.data();
  const stage_math::CfarGrid g =
      stage_math::cfar_grid(static_cast<long long>(doppler_bins_), static_cast<long long>(gates_),
                            static_cast<long long>(maps_), rows_per_block_);
  const dim3 grid(static_cast<unsigned>(g.x), static_cast<unsigned>(g.y),
                  static_cast<unsigned>(g.z));
  cfar_kernel<<<grid, kTileGates, shared_bytes_, s>>>(a);
  RP_CUDA_CHECK_LAUNCH();
}

std::size_t Cfar::bytes_moved() const {
  // Read each map cell once, write the mask words and their popcounts.
  return maps_ * doppler_bins_ * gates_ * sizeof(float) + 2 * words() * sizeof(std::uint32_t);
}

}  // namespace radarpipe::cuda
