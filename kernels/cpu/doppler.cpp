#include "kernels/cpu/doppler.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/mti.hpp"
#include "kernels/cpu/simd.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "core/radar_math.hpp"
#include "kernels/cpu/window.hpp"

namespace radarpipe::cpu {

std::vector<float> unit_energy_doppler_window(const WindowConfig& window, std::size_t used) {
  std::vector<double> w = make_window(window, used);
  normalize_energy(w);
  double energy = 0.0;
  for (double v : w) energy += v * v;
  if (!(energy > 0.0))
    throw std::invalid_argument(std::string("doppler: the ") + to_string(window.type) +
                                " window of length " + std::to_string(used) + " is all zeros");
  return std::vector<float>(w.begin(), w.end());
}

DopplerProcessor::DopplerProcessor(const DopplerConfig& config)
    : pulses_(config.pulses),
      gates_(config.gates),
      fft_size_(config.fft_size),
      tile_gates_(std::min(config.tile_gates, std::max<std::size_t>(config.gates, 1))),
      mti_code_(mti_code(config.mti)) {
  const std::size_t used = mti_output_pulses(config.mti, config.pulses);
  if (config.gates < 1) throw std::invalid_argument("doppler: gates must be >= 1, got 0");
  if (used < 1)
    throw std::invalid_argument("doppler: " + std::to_string(config.pulses) +
                                " pulses leave none after MTI " + to_string(config.mti));
  if (config.fft_size < used)
    throw std::invalid_argument("doppler: fft_size " + std::to_string(config.fft_size) +
                                " is shorter than the " + std::to_string(used) +
                                " pulses left after MTI");
  if (config.workers < 1 || config.tile_gates < 1)
    throw std::invalid_argument("doppler: workers and tile_gates must be >= 1");

  window_ = unit_energy_doppler_window(config.window, used);
  square_law_ = cpu_has_avx2() ? detail::square_law_avx2 : detail::square_law_sse2;

  const std::size_t tile_size = fft_size_ * tile_gates_;
  workspaces_.resize(config.workers);
  for (Workspace& ws : workspaces_) {
    ws.gathered = AlignedBuffer<cf32>(tile_size);
    ws.spectrum = AlignedBuffer<cf32>(tile_size);
    ws.power = AlignedBuffer<float>(tile_size);
  }
  // One M-point transform per gate of a [g][p] tile (the corner turn happens in the gather),
  // run on every row: rows that start aligned unlike row 0 (M not a multiple of the SIMD width)
  // need a plan that does not count on row 0's alignment.
  cf32* gathered = workspaces_[0].gathered.data();
  cf32* spectrum = workspaces_[0].spectrum.data();
  auto align = [](const cf32* p) {
    return fftwf_alignment_of(const_cast<float*>(reinterpret_cast<const float*>(p)));
  };
  bool same = true;
  for (const Workspace& ws : workspaces_)
    for (std::size_t g = 0; g < tile_gates_; ++g)
      same = same && align(ws.gathered.data() + g * fft_size_) == align(gathered) &&
             align(ws.spectrum.data() + g * fft_size_) == align(spectrum);
  const int m = static_cast<int>(fft_size_);
  plan_ = FftPlan(m, 1, gathered, 1, m, spectrum, 1, m, FFTW_FORWARD, config.planning,
                  same ? 0u : unsigned{FFTW_UNALIGNED});
  for (Workspace& ws : workspaces_)
    std::memset(static_cast<void*>(ws.gathered.data()), 0, tile_size * sizeof(cf32));
}

void DopplerProcessor::gather(const cf32* in, std::size_t stride, std::size_t block_stride,
                              std::size_t width, Workspace& ws, Ahead& ahead) const noexcept {
  // Reads each pulse's `width` gates, in blocks of 8: gate g of pulse p is at
  // in + (g / 8) block_stride + p stride + g % 8. Applies the MTI taps and the window, and writes
  // the samples transposed into [g][p] so that every transform is contiguous. Pulses from P' to
  // M stay zero (written once at construction).
  float taps[3];
  const int order = mti_taps(mti_code_, taps);
  const std::size_t used = window_.size();
  cf32* dst = ws.gathered.data();
  const std::size_t m = fft_size_;
  // Blocks of 8 gates: each pulse row contributes one cache line, and the transposed writes go
  // to 8 sequential streams (one per gate) instead of T scattered ones. Every second pulse of a
  // block prefetches a line of the next block, kGatherPrefetchLines in all.
  constexpr std::size_t kBlock = kGatherBlock;
  std::size_t prefetch = kGatherPrefetchLines;
  // Weighted sum of the canceller's rows for pulse p, gate g (window folded into the taps).
  auto sample = [&](std::size_t p, std::size_t g) {
    const cf32* r = in + (g / kBlock) * block_stride + p * stride + g % kBlock;
    float re = 0.0f, im = 0.0f;
    for (int j = 0; j <= order; ++j) {
      const float c = window_[p] * taps[j];
      re += c * r[j * stride].real();
      im += c * r[j * stride].imag();
    }
    return cf32(re, im);
  };
  for (std::size_t gb = 0; gb < width; gb += kBlock) {
    const std::size_t wb = std::min(kBlock, width - gb);
    cf32* d = dst + gb * m;
    std::size_t p = 0;
#if defined(__SSE2__)
    if (wb == kBlock) {
      // Two pulses x two gates per step: rows p and p+1 give [g, g+1] pairs; 64-bit unpacks
      // turn them into [p, p+1] pairs per gate, stored 16 bytes at a time (p even, M even).
      auto combined = [&](std::size_t q, std::size_t g) {
        const float* r =
            reinterpret_cast<const float*>(in + (gb / kBlock) * block_stride + q * stride + g);
        __m128 acc = _mm_mul_ps(_mm_set1_ps(window_[q] * taps[0]), _mm_loadu_ps(r));
        for (int j = 1; j <= order; ++j)
          acc = _mm_add_ps(
              acc, _mm_mul_ps(_mm_set1_ps(window_[q] * taps[j]), _mm_loadu_ps(r + 2 * j * stride)));
        return _mm_castps_pd(acc);
      };
      if (m % 2 == 0) {
        for (; p + 2 <= used; p += 2) {
          if (prefetch > 0) {
            ahead.lines(1);
            --prefetch;
          }
          for (std::size_t g = 0; g < kBlock; g += 2) {
            const __m128d a = combined(p, g), b = combined(p + 1, g);
            _mm_store_pd(reinterpret_cast<double*>(d + g * m + p), _mm_unpacklo_pd(a, b));
            _mm_store_pd(reinterpret_cast<double*>(d + (g + 1) * m + p), _mm_unpackhi_pd(a, b));
          }
        }
      }
    }
#endif
    for (; p < used; ++p)
      for (std::size_t g = 0; g < wb; ++g) d[g * m + p] = sample(p, gb + g);
  }
}

void DopplerProcessor::spectrum_tile(const cf32* in, cf32* out, std::size_t tile,
                                     std::size_t worker) noexcept {
  Workspace& ws = workspaces_[worker];
  const std::size_t g0 = tile * tile_gates_;
  const std::size_t width = std::min(tile_gates_, gates_ - g0);
  Ahead none;
  gather(in + g0, gates_, kGatherBlock, width, ws, none);
  transform(ws, width, none);
  const std::size_t shift =
      static_cast<std::size_t>(doppler_zero_bin(static_cast<long>(fft_size_)));
  const cf32* spec = ws.spectrum.data();
  for (std::size_t k = 0; k < fft_size_; ++k) {
    cf32* dst = out + ((k + shift) % fft_size_) * gates_ + g0;
    for (std::size_t g = 0; g < width; ++g) dst[g] = spec[g * fft_size_ + k];
  }
}

void DopplerProcessor::power_tile(const cf32* in, float* map, bool accumulate, std::size_t tile,
                                  std::size_t worker) noexcept {
  const std::size_t g0 = tile * tile_gates_;
  power_block(in + g0, gates_, kGatherBlock, map, accumulate, tile, worker, Ahead{});
}

void DopplerProcessor::transform(Workspace& ws, std::size_t width, Ahead& ahead, float* acc,
                                 bool add) const noexcept {
  // What is left to prefetch, in equal parts between the calls: a few lines at a time fit in
  // the core's miss buffers and arrive while the next transform runs.
  const std::size_t per = ((ahead.bytes + 63) / 64 + width - 1) / std::max<std::size_t>(width, 1);
  const std::size_t m = fft_size_;
  for (std::size_t g = 0; g < width; ++g) {
    ahead.lines(per);
    cf32* spectrum = ws.spectrum.data() + g * m;
    plan_.execute(ws.gathered.data() + g * m, spectrum);
    if (acc) square_law_(reinterpret_cast<const float*>(spectrum), acc + g * m, m, add);
  }
}

DopplerProcessor::Ahead DopplerProcessor::next_block(const cf32* cube, const RangeTiles& layout,
                                                     std::size_t channels, std::size_t channel,
                                                     std::size_t tile,
                                                     bool next_tile) const noexcept {
  // A channel's blocks of a tile are contiguous in range tiles of the processor's width or of
  // 8 gates: pulses x (the tile's range tiles) x layout width samples.
  const std::size_t lt = layout.tile_gates;
  auto block = [&](std::size_t c, std::size_t t) {
    const std::size_t width = std::min(tile_gates_, gates_ - t * tile_gates_);
    return Ahead{reinterpret_cast<const char*>(cube + layout.tile_offset(c, t * tile_gates_ / lt)),
                 layout.pulses * ((width + lt - 1) / lt) * lt * sizeof(cf32)};
  };
  if (channel + 1 < channels) return block(channel + 1, tile);
  if (channel < channels && next_tile && tile + 1 < tiles()) return block(0, tile + 1);
  return Ahead{};
}

bool DopplerProcessor::accepts(const RangeTiles& layout) const {
  return layout.pulses == pulses_ && layout.gates == gates_ &&
         (layout.tile_gates == tile_gates_ ||
          (layout.tile_gates == kGatherBlock && tile_gates_ % kGatherBlock == 0));
}

void DopplerProcessor::power_tile_tiled(const cf32* cube, const RangeTiles& layout,
                                        std::size_t channel, float* map, bool accumulate,
                                        std::size_t tile, std::size_t worker, std::size_t channels,
                                        bool prefetch_next) noexcept {
  const std::size_t lt = layout.tile_gates;
  const cf32* block = cube + layout.tile_offset(channel, tile * tile_gates_ / lt);
  // Pulse stride: the layout's tile width. Block stride: 8 gates further in a tile as wide as
  // this processor's, the next range tile (a whole P x 8 block further) in tiles of 8.
  const std::size_t block_stride = lt == tile_gates_ ? kGatherBlock : pulses_ * lt;
  power_block(block, lt, block_stride, map, accumulate, tile, worker,
              next_block(cube, layout, channels, channel, tile, prefetch_next));
}

void DopplerProcessor::power_block(const cf32* in, std::size_t pulse_stride,
                                   std::size_t block_stride, float* map, bool accumulate,
                                   std::size_t tile, std::size_t worker, Ahead ahead) noexcept {
  Workspace& ws = workspaces_[worker];
  const std::size_t g0 = tile * tile_gates_;
  const std::size_t width = std::min(tile_gates_, gates_ - g0);
  gather(in, pulse_stride, block_stride, width, ws, ahead);
  transform(ws, width, ahead);
  const std::size_t shift =
      static_cast<std::size_t>(doppler_zero_bin(static_cast<long>(fft_size_)));
  const float* spec = reinterpret_cast<const float*>(ws.spectrum.data());
  const std::size_t stride = 2 * fft_size_;
  // Blocks of 8 gates again: 8 sequential read streams (one spectrum per gate) per block.
  constexpr std::size_t kBlock = 8;
  for (std::size_t gb = 0; gb < width; gb += kBlock) {
    const std::size_t wb = std::min(kBlock, width - gb);
    const float* sb = spec + gb * stride;
    std::size_t k = 0;
#if defined(__SSE2__)
    if (wb == kBlock) {
      // Two Doppler bins x four gates per step: |Y|^2 of [k, k+1] for gates g..g+3, the
      // re^2 + im^2 pair sums gathered with shuffles into one register per bin.
      for (; k + 2 <= fft_size_; k += 2) {
        float* row0 = map + ((k + shift) % fft_size_) * gates_ + g0 + gb;
        float* row1 = map + ((k + 1 + shift) % fft_size_) * gates_ + g0 + gb;
        for (std::size_t g = 0; g < kBlock; g += 4) {
          __m128 v[4];
          for (int i = 0; i < 4; ++i) {
            const __m128 x = _mm_loadu_ps(sb + (g + i) * stride + 2 * k);
            v[i] = _mm_mul_ps(x, x);  // [re_k^2, im_k^2, re_k1^2, im_k1^2]
          }
          const __m128 s01 = _mm_add_ps(_mm_shuffle_ps(v[0], v[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm_shuffle_ps(v[0], v[1], _MM_SHUFFLE(3, 1, 3, 1)));
          const __m128 s23 = _mm_add_ps(_mm_shuffle_ps(v[2], v[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm_shuffle_ps(v[2], v[3], _MM_SHUFFLE(3, 1, 3, 1)));
          // s01 = [p_k(g), p_k1(g), p_k(g+1), p_k1(g+1)], s23 likewise for g+2, g+3.
          __m128 pk = _mm_shuffle_ps(s01, s23, _MM_SHUFFLE(2, 0, 2, 0));
          __m128 pk1 = _mm_shuffle_ps(s01, s23, _MM_SHUFFLE(3, 1, 3, 1));
          if (accumulate) {
            pk = _mm_add_ps(pk, _mm_loadu_ps(row0 + g));
            pk1 = _mm_add_ps(pk1, _mm_loadu_ps(row1 + g));
          }
          _mm_storeu_ps(row0 + g, pk);
          _mm_storeu_ps(row1 + g, pk1);
        }
      }
    }
#endif
    for (; k < fft_size_; ++k) {
      float* dst = map + ((k + shift) % fft_size_) * gates_ + g0 + gb;
      const float* src = sb + 2 * k;
      if (accumulate) {
        for (std::size_t g = 0; g < wb; ++g)
          dst[g] += power_of(src[g * stride], src[g * stride + 1]);
      } else {
        for (std::size_t g = 0; g < wb; ++g)
          dst[g] = power_of(src[g * stride], src[g * stride + 1]);
      }
    }
  }
}

namespace detail {

namespace {
inline void square_law_tail(const float* __restrict s, float* __restrict acc, std::size_t i,
                            std::size_t count, bool add) noexcept {
  for (; i < count; ++i) {
    const float p = power_of(s[2 * i], s[2 * i + 1]);
    acc[i] = add ? p + acc[i] : p;
  }
}
}  // namespace

// acc[i] = |s[i]|^2 (add: acc[i] += |s[i]|^2), s complex; re^2 + im^2 then + acc in every
// version, so all give the same bits.
void square_law_sse2(const float* __restrict s, float* __restrict acc, std::size_t count,
                     bool add) noexcept {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= count; i += 4) {
    const __m128 x0 = _mm_loadu_ps(s + 2 * i), x1 = _mm_loadu_ps(s + 2 * i + 4);
    const __m128 q0 = _mm_mul_ps(x0, x0), q1 = _mm_mul_ps(x1, x1);
    __m128 p = _mm_add_ps(_mm_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)),   // re^2
                          _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1)));  // + im^2
    if (add) p = _mm_add_ps(p, _mm_loadu_ps(acc + i));
    _mm_storeu_ps(acc + i, p);
  }
#endif
  square_law_tail(s, acc, i, count, add);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Eight values a step: the in-lane shuffles leave the powers in the order 0 1 4 5 | 2 3 6 7,
// which one cross-lane permute puts right.
__attribute__((target("avx2"))) void square_law_avx2(const float* __restrict s,
                                                     float* __restrict acc, std::size_t count,
                                                     bool add) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(s + 2 * i), x1 = _mm256_loadu_ps(s + 2 * i + 8);
    const __m256 q0 = _mm256_mul_ps(x0, x0), q1 = _mm256_mul_ps(x1, x1);
    const __m256 p = _mm256_add_ps(_mm256_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm256_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1)));
    __m256 r =
        _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(p), _MM_SHUFFLE(3, 1, 2, 0)));
    if (add) r = _mm256_add_ps(r, _mm256_loadu_ps(acc + i));
    _mm256_storeu_ps(acc + i, r);
  }
  square_law_tail(s, acc, i, count, add);
}
#else
void square_law_avx2(const float* s, float* acc, std::size_t count, bool add) noexcept {
  square_law_sse2(s, acc, count, add);
}
#endif

}  // namespace detail

void DopplerProcessor::combined_power_tile_tiled(const cf32* cube, const RangeTiles& layout,
                                                 std::size_t channels, float* map, std::size_t tile,
                                                 std::size_t worker, bool prefetch_next) noexcept {
  Workspace& ws = workspaces_[worker];
  const std::size_t g0 = tile * tile_gates_;
  const std::size_t width = std::min(tile_gates_, gates_ - g0);
  const std::size_t lt = layout.tile_gates;
  const std::size_t block_stride = lt == tile_gates_ ? kGatherBlock : pulses_ * lt;
  const std::size_t m = fft_size_;
  float* acc = ws.power.data();  // [g][k], the spectra's layout: no transpose per channel
  const std::size_t first_block = tile * tile_gates_ / lt;
  // Each channel's gather and transforms prefetch the next channel's blocks of the tile (after
  // the last channel, the next tile's first when asked); each transform's powers are summed
  // into acc while its spectrum is in L1.
  for (std::size_t c = 0; c < channels; ++c) {
    Ahead ahead = next_block(cube, layout, channels, c, tile, prefetch_next);
    gather(cube + layout.tile_offset(c, first_block), lt, block_stride, width, ws, ahead);
    transform(ws, width, ahead, acc, c > 0);
  }
  // One corner turn for all channels: acc[g][k] -> map[(k + shift) mod M][g0 + g]. Bins four at
  // a time and, for each four, the tile's gates four at a time: every map row's run of `width`
  // gates is written front to back in one visit.
  const std::size_t shift = static_cast<std::size_t>(doppler_zero_bin(static_cast<long>(m)));
  std::size_t wide = 0;  // gates [0, wide) done in 4 x 4 transposes
  std::size_t k = 0;
#if defined(__SSE2__)
  wide = width / 4 * 4;
  for (; k + 4 <= m && wide > 0; k += 4) {
    float* rows[4];
    for (std::size_t i = 0; i < 4; ++i) rows[i] = map + ((k + i + shift) % m) * gates_ + g0;
    for (std::size_t g = 0; g < wide; g += 4) {
      __m128 r0 = _mm_loadu_ps(acc + g * m + k), r1 = _mm_loadu_ps(acc + (g + 1) * m + k);
      __m128 r2 = _mm_loadu_ps(acc + (g + 2) * m + k), r3 = _mm_loadu_ps(acc + (g + 3) * m + k);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_i: bin k + i of gates g..g+3
      _mm_storeu_ps(rows[0] + g, r0);
      _mm_storeu_ps(rows[1] + g, r1);
      _mm_storeu_ps(rows[2] + g, r2);
      _mm_storeu_ps(rows[3] + g, r3);
    }
  }
#endif
  for (; k < m; ++k)  // the bins left over by the blocks of four
    for (std::size_t g = 0; g < wide; ++g)
      map[((k + shift) % m) * gates_ + g0 + g] = acc[g * m + k];
  for (std::size_t g = wide; g < width; ++g)  // the gates left over
    for (std::size_t b = 0; b < m; ++b) map[((b + shift) % m) * gates_ + g0 + g] = acc[g * m + b];
}

void DopplerProcessor::spectrum(const cf32* in, cf32* out) noexcept {
  for (std::size_t t = 0; t < tiles(); ++t) spectrum_tile(in, out, t, 0);
}

void DopplerProcessor::power(const cf32* in, float* map, bool accumulate) noexcept {
  for (std::size_t t = 0; t < tiles(); ++t) power_tile(in, map, accumulate, t, 0);
}

void DopplerProcessor::transforms_only(std::size_t tile, std::size_t worker) noexcept {
  Ahead none;
  transform(workspaces_[worker], std::min(tile_gates_, gates_ - tile * tile_gates_), none);
}

}  // namespace radarpipe::cpu
