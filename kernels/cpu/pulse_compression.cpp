#include "kernels/cpu/pulse_compression.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/cpu/memory.hpp"
#include "kernels/cpu/simd.hpp"
#include "kernels/cpu/window.hpp"

namespace radarpipe::cpu {
namespace detail {

// Written out (std::complex's operator* calls __mulsc3 without -ffast-math). Both vector
// versions compute re = a c - b d and im = b c + a d with the same roundings as the scalar tail,
// so every version gives the same bits. The prefetch goes one cache line per 8 values: spread
// over the loop, the requests overlap its arithmetic, where one burst of prefetches would stall
// like the loads it replaces.
namespace {
inline void multiply_tail(float* __restrict f, const float* __restrict h, std::size_t i,
                          std::size_t n) noexcept {
  for (; i < n; ++i) {
    const float a = f[2 * i], b = f[2 * i + 1];
    const float c = h[2 * i], d = h[2 * i + 1];
    f[2 * i] = a * c - b * d;
    f[2 * i + 1] = a * d + b * c;
  }
}
}  // namespace

void multiply_spectrum_sse2(float* __restrict f, const float* __restrict h, std::size_t n,
                            const char* ahead, std::size_t ahead_bytes) noexcept {
  std::size_t i = 0;
#if defined(__SSE2__)
  PrefetchWindow next{ahead, ahead_bytes};
  // Two complex values per register: [a0 b0 a1 b1] x [c0 d0 c1 d1]
  //   = [a0 c0, b0 c0, ...] + [-b0 d0, a0 d0, ...].
  const __m128 sign = _mm_castsi128_ps(
      _mm_set_epi32(0, static_cast<int>(0x80000000u), 0, static_cast<int>(0x80000000u)));
  for (; i + 2 <= n; i += 2) {
    if (i % 8 == 0) next.lines(1);
    const __m128 x = _mm_load_ps(f + 2 * i);
    const __m128 y = _mm_load_ps(h + 2 * i);
    const __m128 y_re = _mm_shuffle_ps(y, y, _MM_SHUFFLE(2, 2, 0, 0));
    const __m128 y_im = _mm_shuffle_ps(y, y, _MM_SHUFFLE(3, 3, 1, 1));
    const __m128 x_sw = _mm_shuffle_ps(x, x, _MM_SHUFFLE(2, 3, 0, 1));
    const __m128 r = _mm_add_ps(_mm_mul_ps(x, y_re), _mm_xor_ps(_mm_mul_ps(x_sw, y_im), sign));
    _mm_store_ps(f + 2 * i, r);
  }
#else
  (void)ahead;
  (void)ahead_bytes;
#endif
  multiply_tail(f, h, i, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Four complex values per register; addsub gives a c - b d in the even lanes, b c + a d in the
// odd ones (no FMA: the products are rounded as in the SSE2 version).
__attribute__((target("avx2"))) void multiply_spectrum_avx2(float* __restrict f,
                                                            const float* __restrict h,
                                                            std::size_t n, const char* ahead,
                                                            std::size_t ahead_bytes) noexcept {
  std::size_t i = 0;
  PrefetchWindow next{ahead, ahead_bytes};
  for (; i + 4 <= n; i += 4) {
    if (i % 8 == 0) next.lines(1);
    const __m256 x = _mm256_load_ps(f + 2 * i);
    const __m256 y = _mm256_load_ps(h + 2 * i);
    const __m256 x_sw = _mm256_permute_ps(x, _MM_SHUFFLE(2, 3, 0, 1));
    _mm256_store_ps(f + 2 * i, _mm256_addsub_ps(_mm256_mul_ps(x, _mm256_moveldup_ps(y)),
                                                _mm256_mul_ps(x_sw, _mm256_movehdup_ps(y))));
  }
  multiply_tail(f, h, i, n);
}
#else
void multiply_spectrum_avx2(float* f, const float* h, std::size_t n, const char* ahead,
                            std::size_t ahead_bytes) noexcept {
  multiply_spectrum_sse2(f, h, n, ahead, ahead_bytes);
}
#endif

}  // namespace detail

std::vector<cf32> unit_energy_reference(const std::vector<std::complex<double>>& waveform,
                                        const WindowConfig& window) {
  const std::size_t l = waveform.size();
  const std::vector<double> w = make_window(window, l);
  std::vector<std::complex<double>> h(l);
  double energy = 0.0;
  for (std::size_t k = 0; k < l; ++k) {
    h[k] = w[k] * waveform[k];
    energy += std::norm(h[k]);
  }
  if (!(energy > 0.0))
    throw std::invalid_argument(std::string("pulse compression: the ") + to_string(window.type) +
                                " window of length " + std::to_string(l) +
                                " leaves a reference of zero energy");
  std::vector<cf32> ref(l);
  const double scale = 1.0 / std::sqrt(energy);
  for (std::size_t k = 0; k < l; ++k) {
    const std::complex<double> v = h[k] * scale;
    ref[k] = cf32(static_cast<float>(v.real()), static_cast<float>(v.imag()));
  }
  return ref;
}

PulseCompressor::PulseCompressor(const PulseCompressionConfig& config) : gates_(config.gates) {
  const std::size_t n = config.gates;
  const std::size_t l = config.waveform.size();
  if (n < 1) throw std::invalid_argument("pulse compression: gates must be >= 1, got 0");
  if (l < 1 || l > n)
    throw std::invalid_argument("pulse compression: waveform length " + std::to_string(l) +
                                " is not in [1, gates = " + std::to_string(n) + "]");
  if (config.workers < 1) throw std::invalid_argument("pulse compression: workers must be >= 1");

  reference_ = unit_energy_reference(config.waveform, config.window);
  multiply_ = cpu_has_avx2() ? detail::multiply_spectrum_avx2 : detail::multiply_spectrum_sse2;

  fft_size_ = next_fast_fft_size(n + l - 1);
  const int k_size = static_cast<int>(fft_size_);
  // Result slots start on cache lines, so that every slot is aligned as the plan's output was.
  result_stride_ = (fft_size_ + 7) / 8 * 8;
  workspaces_.resize(config.workers);
  for (Workspace& ws : workspaces_) {
    ws.time = AlignedBuffer<cf32>(fft_size_);
    ws.freq = AlignedBuffer<cf32>(fft_size_);
    ws.results = AlignedBuffer<cf32>(kStoreRows * result_stride_);
  }
  cf32* time0 = workspaces_[0].time.data();
  cf32* freq0 = workspaces_[0].freq.data();
  forward_ = FftPlan(k_size, 1, time0, 1, k_size, freq0, 1, k_size, FFTW_FORWARD, config.planning);
  inverse_ = FftPlan(k_size, 1, freq0, 1, k_size, workspaces_[0].results.data(), 1, k_size,
                     FFTW_BACKWARD, config.planning);
  // Planning with MEASURE may have scribbled on the buffers; the zero tail must be zero.
  for (Workspace& ws : workspaces_)
    std::memset(static_cast<void*>(ws.time.data()), 0, fft_size_ * sizeof(cf32));

  // The filter's spectrum, computed in double by a direct transform of the zero-padded h would
  // be O(K L); instead use the forward plan in float on the padded reference, which is what the
  // correlation's round-off budget (1e-4 relative) allows, then conjugate and fold in 1/K.
  filter_ = AlignedBuffer<cf32>(fft_size_);
  for (std::size_t k = 0; k < l; ++k) time0[k] = reference_[k];
  forward_.execute(time0, filter_.data());
  std::memset(static_cast<void*>(time0), 0, fft_size_ * sizeof(cf32));
  const float scale = 1.0f / static_cast<float>(fft_size_);
  for (std::size_t i = 0; i < fft_size_; ++i)
    filter_[i] = cf32(filter_[i].real() * scale, -filter_[i].imag() * scale);
}

void PulseCompressor::compress_row(const cf32* in, const cf32* next, Workspace& ws,
                                   cf32* result) const noexcept {
  const std::size_t n = gates_;
  std::memcpy(static_cast<void*>(ws.time.data()), in, n * sizeof(cf32));
  forward_.execute(ws.time.data(), ws.freq.data());
  multiply_(reinterpret_cast<float*>(ws.freq.data()),
            reinterpret_cast<const float*>(filter_.data()), fft_size_,
            reinterpret_cast<const char*>(next), next ? n * sizeof(cf32) : 0);
  inverse_.execute(ws.freq.data(), result);
}

void PulseCompressor::process_rows(const cf32* in, cf32* out, std::size_t rows,
                                   std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  const std::size_t n = gates_;
  for (std::size_t r = 0; r < rows; ++r) {
    compress_row(in + r * n, r + 1 < rows ? in + (r + 1) * n : nullptr, ws, ws.results.data());
    stream_copy(reinterpret_cast<float*>(out + r * n),
                reinterpret_cast<const float*>(ws.results.data()), 2 * n);
  }
  store_fence();
}

void PulseCompressor::process_rows_tiled(const cf32* in, std::size_t first_row, std::size_t rows,
                                         const RangeTiles& layout, cf32* out,
                                         std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  const std::size_t n = gates_, t_gates = layout.tile_gates, tiles = layout.tiles();
  const std::size_t tile_stride = layout.pulses * t_gates;
  for (std::size_t r0 = 0; r0 < rows;) {
    // A group of consecutive pulses of one channel, compressed into the result slots, then
    // stored tile by tile: the group's runs in a tile are adjacent, so each store burst covers
    // `count` cache lines of one DRAM page instead of one line.
    const std::size_t row = first_row + r0;
    const std::size_t c = row / layout.pulses, p = row % layout.pulses;
    const std::size_t count = std::min({kStoreRows, rows - r0, layout.pulses - p});
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t r = r0 + i;
      compress_row(in + r * n, r + 1 < rows ? in + (r + 1) * n : nullptr, ws,
                   ws.results.data() + i * result_stride_);
    }
    cf32* dst = out + layout.tile_offset(c, 0) + p * t_gates;
    for (std::size_t t = 0; t < tiles; ++t) {
      const std::size_t g0 = t * t_gates, width = std::min(t_gates, n - g0);
      for (std::size_t i = 0; i < count; ++i) {
        const cf32* src = ws.results.data() + i * result_stride_ + g0;
        cf32* d = dst + t * tile_stride + i * t_gates;
        stream_copy(reinterpret_cast<float*>(d), reinterpret_cast<const float*>(src), 2 * width);
      }
    }
    r0 += count;
  }
  store_fence();
}

void PulseCompressor::process(const Cpi& in, Cpi& out) noexcept {
  process_rows(in.samples.data(), out.samples.data(), in.shape.channels * in.shape.pulses, 0);
}

void PulseCompressor::transforms_only(std::size_t rows, std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  for (std::size_t r = 0; r < rows; ++r) {
    forward_.execute(ws.time.data(), ws.freq.data());
    inverse_.execute(ws.freq.data(), ws.results.data());
  }
}

}  // namespace radarpipe::cpu
