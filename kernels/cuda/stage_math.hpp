// Per-element math of the CUDA stages, as __host__ __device__ inline functions of scalars and
// small accessors. The kernels in kernels/cuda/*.cu call these; the CPU test suite
// (tests/kernels/cuda_stage_math_test.cpp) runs the same functions on the host against the CPU
// stages and brute-force references, so the GPU's arithmetic is checked in CI without a GPU.
// No CUDA headers here: this file compiles with the host compiler alone.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <string>

#include "core/hd.hpp"
#include "core/radar_math.hpp"

namespace radarpipe::stage_math {

/// Interleaved complex float, the layout of cf32 / cufftComplex / float2.
struct Complex {
  float re, im;
};

/// a * b, every product and sum rounded on its own (core/hd.hpp: no FMA contraction on the
/// device, so both sides give the same bits).
RP_HD inline Complex cmul(Complex a, Complex b) {
  return Complex{sub_rn(mul_rn(a.re, b.re), mul_rn(a.im, b.im)),
                 add_rn(mul_rn(a.re, b.im), mul_rn(a.im, b.re))};
}

/// One ci16 sample to complex float: value * scale (scale = the value of one LSB).
RP_HD inline Complex ci16_to_complex(int16_t re, int16_t im, float scale) {
  return Complex{mul_rn(static_cast<float>(re), scale), mul_rn(static_cast<float>(im), scale)};
}

/// The Doppler input of pulse p (0 <= p < P') at one range gate: the MTI canceller's output
/// sum_j taps[j] y[p + j] times the window w[p] (RADAR-MODEL.md "MTI", "Doppler processing").
/// y(q) returns the pulse-compressed sample of pulse q at that gate. The weights c_j = w * taps[j]
/// are formed first and summed in j order, as the CPU stage does (kernels/cpu/doppler.cpp).
template <class Column>
RP_HD inline Complex mti_window_sample(const Column& y, int p, int order, const float taps[3],
                                       float w) {
  float re = 0.0f, im = 0.0f;
  for (int j = 0; j <= order; ++j) {
    const float c = mul_rn(w, taps[j]);
    const Complex v = y(p + j);
    re = add_rn(re, mul_rn(c, v.re));
    im = add_rn(im, mul_rn(c, v.im));
  }
  return Complex{re, im};
}

/// The unshifted Doppler FFT bin that the shifted map row d shows: k = (d - M/2) mod M, so that
/// row M/2 holds zero Doppler (radar_math.hpp doppler_zero_bin).
RP_HD inline int doppler_source_bin(int d, int fft_size) {
  const int shift = static_cast<int>(doppler_zero_bin(fft_size));
  return (d - shift + fft_size) % fft_size;
}

/// Row index d + dd taken mod M (Doppler is circular).
RP_HD inline int wrap_row(int d, int fft_size) {
  const int r = d % fft_size;
  return r < 0 ? r + fft_size : r;
}

// ---- CFAR (RADAR-MODEL.md "CFAR"; the contract of kernels/cpu/cfar.hpp) --------------------

/// CFAR variant codes passed to kernels (the order of CfarType in core/mode.hpp).
enum CfarKind : int { kCfarCa = 0, kCfarGo = 1, kCfarSo = 2, kCfarOs = 3 };

/// The window: guard and training cells each side, in range (gr, tr) and Doppler (gd, td).
struct CfarWindow {
  int gr = 0, gd = 0, tr = 0, td = 0;
  RP_HD int big_r() const { return gr + tr; }  ///< R: range half-width
  RP_HD int big_d() const { return gd + td; }  ///< D: Doppler half-width
};

/// Doppler band sums of one range column around the CUT's row: lead = rows dd in [-D, -gd-1],
/// guard = |dd| <= gd, lag = [gd+1, D]. col(dd) returns P[d + dd mod M][column]. Summed in
/// double, in dd order.
template <class Column>
RP_HD inline void cfar_column_bands(const Column& col, const CfarWindow& w, double* lead,
                                    double* guard, double* lag) {
  double a = 0.0, g = 0.0, b = 0.0;
  for (int dd = -w.big_d(); dd < -w.gd; ++dd) a += static_cast<double>(col(dd));
  for (int dd = -w.gd; dd <= w.gd; ++dd) g += static_cast<double>(col(dd));
  for (int dd = w.gd + 1; dd <= w.big_d(); ++dd) b += static_cast<double>(col(dd));
  *lead = a;
  *guard = g;
  *lag = b;
}

/// Leading and lagging half sums of the CUT at column offset 0, from per-column band sums:
/// full(j) = lead + guard + lag and guard(j) of the column j range bins away (j in [-R, R]),
/// both 0 for columns off the map (range does not wrap, so the missing cells add nothing and
/// the training-cell counts of the CPU stage hold), lead0 / lag0 the CUT column's own bands.
///   s1 = sum_{j=-R}^{-1} full(j) - sum_{j=-gr}^{-1} guard(j) + lead0
///   s2 = sum_{j=1}^{R} full(j) - sum_{j=1}^{gr} guard(j) + lag0
template <class Full, class Guard>
RP_HD inline void cfar_halves(const Full& full, const Guard& guard, double lead0, double lag0,
                              const CfarWindow& w, double* s1, double* s2) {
  double a = 0.0, b = 0.0;
  for (int j = 1; j <= w.big_r(); ++j) {
    a += full(-j);
    b += full(j);
  }
  double ga = 0.0, gb = 0.0;
  for (int j = 1; j <= w.gr; ++j) {
    ga += guard(-j);
    gb += guard(j);
  }
  *s1 = (a - ga) + lead0;
  *s2 = (b - gb) + lag0;
}

/// The noise estimate Z of CA / GO / SO from the half sums and their training-cell counts. A
/// half left empty by a range edge makes GO and SO use the other half alone (CA on it).
RP_HD inline double cfar_noise(int kind, double s1, double s2, double n1, double n2) {
  if (kind == kCfarCa || n1 == 0.0 || n2 == 0.0) return (s1 + s2) / (n1 + n2);
  const double z1 = s1 / n1, z2 = s2 / n2;
  if (kind == kCfarGo) return z1 > z2 ? z1 : z2;
  return z1 < z2 ? z1 : z2;
}

// ---- The CFAR kernel's tiling (kernels/cuda/cfar.cu), host-testable ------------------------

/// Range bins per CFAR block (= threads per block).
constexpr int kCfarTileGates = 128;
/// CUDA's limits on a grid's y and z extents.
constexpr long long kGridYZLimit = 65535;

/// The CFAR launch: x blocks of kCfarTileGates range bins, y blocks of `rows` Doppler rows,
/// z = maps.
struct CfarGrid {
  long long x = 0, y = 0, z = 0;
};
RP_HD inline CfarGrid cfar_grid(long long doppler_bins, long long gates, long long maps, int rows) {
  return CfarGrid{(gates + kCfarTileGates - 1) / kCfarTileGates, (doppler_bins + rows - 1) / rows,
                  maps};
}

/// Why the CFAR grid cannot be launched ("" when it can): y (Doppler row blocks) and z (maps)
/// are limited to 65535 by CUDA. Checked at construction, so a mode the device cannot run is
/// refused with its reason before the first CPI.
inline std::string cfar_grid_error(long long doppler_bins, long long gates, long long maps,
                                   int rows) {
  const CfarGrid g = cfar_grid(doppler_bins, gates, maps, rows);
  if (g.y > kGridYZLimit)
    return std::to_string(doppler_bins) + " Doppler bins in blocks of " + std::to_string(rows) +
           " rows make " + std::to_string(g.y) + " row blocks; a CUDA grid holds at most " +
           std::to_string(kGridYZLimit) +
           " (reduce processing.doppler_fft_size or the CFAR window)";
  if (g.z > kGridYZLimit)
    return std::to_string(maps) + " maps; a CUDA grid holds at most " +
           std::to_string(kGridYZLimit) + " (combine the channels noncoherently)";
  return "";
}

/// Width of a block's tile: its range bins and R halo bins each side.
RP_HD inline int cfar_tile_width(const CfarWindow& w) {
  return kCfarTileGates + 2 * w.big_r();
}

/// Shared memory of one block: the tile of (rows + 2D) x width floats and, for CA / GO / SO, the
/// full and guard band sums of rows x width doubles each (at least the 4 doubles of the final
/// noise reduction).
RP_HD inline size_t cfar_shared_bytes(int rows, const CfarWindow& w, bool os) {
  const size_t tw = static_cast<size_t>(cfar_tile_width(w));
  size_t bytes =
      (static_cast<size_t>(rows) + 2 * static_cast<size_t>(w.big_d())) * tw * sizeof(float);
  if (!os) bytes += 2 * static_cast<size_t>(rows) * tw * sizeof(double);
  return bytes < 4 * sizeof(double) ? 4 * sizeof(double) : bytes;
}

/// Doppler rows per block: 8, halved while the block's shared memory exceeds `limit` bytes (the
/// device's opt-in maximum per block), down to 1.
inline int cfar_rows_per_block(size_t limit, const CfarWindow& w, bool os) {
  int rows = 8;
  while (rows > 1 && cfar_shared_bytes(rows, w, os) > limit) rows /= 2;
  return rows;
}

/// Where tile element i of the block whose first row is d0 and first range bin m0 is loaded
/// from: map row (Doppler wrapped, so always in [0, M)) and column; `inside` is false for
/// columns off the map (loaded as 0: range does not wrap).
RP_HD inline void cfar_tile_source(int i, const CfarWindow& w, int d0, int m0, int doppler_bins,
                                   int gates, int* row, int* col, bool* inside) {
  const int tw = cfar_tile_width(w);
  const int tr = i / tw, tc = i % tw;
  *row = wrap_row(d0 - w.big_d() + tr, doppler_bins);
  *col = m0 - w.big_r() + tc;
  *inside = *col >= 0 && *col < gates;
}

/// The threshold factor at (d, m): the range factor times the Doppler row's factor (1 except
/// for calibrated thresholds with MTI), one double multiplication as cpu::Cfar forms it.
RP_HD inline double cfar_alpha(double range_alpha, double row_factor) {
  return mul_rn(range_alpha, row_factor);
}

/// CA / GO / SO decision: P(CUT) > alpha * Z, in double.
RP_HD inline bool cfar_hit(float power, double alpha, double z) {
  return static_cast<double>(power) > alpha * z;
}

/// Calls f(value) for every training cell of the CUT at range bin m (bins 0..gates-1) in the
/// order of the CPU stage: Doppler offsets dd = -D..D, then range bins ascending, the guard
/// rectangle |dd| <= gd, |m' - m| <= gr left out, range clipped to the map. at(dd, m') returns
/// P[d + dd mod M][m'].
template <class Map, class F>
RP_HD inline void os_for_each_training(const Map& at, int m, int gates, const CfarWindow& w,
                                       F&& f) {
  const int lo = m - w.big_r() < 0 ? 0 : m - w.big_r();
  const int hi = m + w.big_r() > gates - 1 ? gates - 1 : m + w.big_r();
  for (int dd = -w.big_d(); dd <= w.big_d(); ++dd) {
    const bool in_guard_rows = dd >= -w.gd && dd <= w.gd;
    for (int c = lo; c <= hi; ++c) {
      if (in_guard_rows && c >= m - w.gr && c <= m + w.gr) continue;
      f(at(dd, c));
    }
  }
}

/// OS decision without a selection: P > alpha * X_(k) <=> at least k training cells x have
/// alpha * x < P (float arithmetic, as the CPU stage).
template <class Map>
RP_HD inline int os_count_below(const Map& at, int m, int gates, const CfarWindow& w, float alpha,
                                float power) {
  int count = 0;
  os_for_each_training(at, m, gates, w, [&](float x) { count += (alpha * x < power) ? 1 : 0; });
  return count;
}

/// A float's bits mapped to an unsigned key with the same order (negative values too).
RP_HD inline uint32_t float_order_key(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
RP_HD inline float float_of_order_key(uint32_t k) {
  const uint32_t u = (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k;
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/// The k-th smallest training value (1-based) by a bitwise search on the order keys: 32 counting
/// passes, no scratch memory, the same value a sort would give.
template <class Map>
RP_HD inline float os_select(const Map& at, int m, int gates, const CfarWindow& w, int k) {
  uint32_t t = 0;
  for (int bit = 31; bit >= 0; --bit) {
    const uint32_t low = t | ((1u << bit) - 1u);  // this bit 0, the lower bits all 1
    int count = 0;
    os_for_each_training(at, m, gates, w,
                         [&](float x) { count += float_order_key(x) <= low ? 1 : 0; });
    if (count < k) t |= 1u << bit;
  }
  return float_of_order_key(t);
}

// ---- Crossing compaction ----------------------------------------------------------------

/// Position of a crossing among the set bits of a row-major bit mask: the number of set bits
/// before bit b of word w is offset(w) + popcount(word & ((1 << b) - 1)).
RP_HD inline uint32_t bits_below(uint32_t word, int bit) {
  const uint32_t below = bit == 0 ? 0u : (word & ((1u << bit) - 1u));
#if defined(__CUDA_ARCH__)
  return static_cast<uint32_t>(__popc(below));
#else
  return static_cast<uint32_t>(__builtin_popcount(below));
#endif
}

}  // namespace radarpipe::stage_math
