#include "kernels/cpu/plots.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/radar_math.hpp"

namespace radarpipe::cpu {

PlotExtractor::PlotExtractor(const PlotConfig& config) : cfg_(config) {
  if (cfg_.doppler_bins < 1 || cfg_.gates < 1 || cfg_.max_crossings < 1)
    throw std::invalid_argument("plots: doppler_bins, gates and max_crossings must be >= 1");
  if (!(cfg_.sample_rate_hz > 0 && cfg_.prf_hz > 0 && cfg_.wavelength_m > 0))
    throw std::invalid_argument("plots: sample_rate_hz, prf_hz and wavelength_m must be > 0");
  label_.assign(cfg_.doppler_bins * cfg_.gates, -1);
  parent_.resize(cfg_.max_crossings);
  peak_.resize(cfg_.max_crossings);
  cells_.resize(cfg_.max_crossings);
  m_min_.resize(cfg_.max_crossings);
  m_max_.resize(cfg_.max_crossings);
}

std::uint32_t PlotExtractor::find(std::uint32_t i) noexcept {
  while (parent_[i] != i) {
    parent_[i] = parent_[parent_[i]];
    i = parent_[i];
  }
  return i;
}

PlotExtractor::Result PlotExtractor::extract(const CfarCrossing* xs, std::size_t count,
                                             const float* map, int channel,
                                             std::vector<Detection>& out) noexcept {
  const std::size_t n = cfg_.gates;
  const std::size_t md = cfg_.doppler_bins;
  auto neighbours = [&](std::size_t i) {
    const std::size_t d = xs[i].doppler_bin, m = xs[i].range_bin;
    const float* row = map + d * n;
    CellNeighbours nb;
    nb.left = m > 0 ? row[m - 1] : 0.0f;
    nb.right = m + 1 < n ? row[m + 1] : 0.0f;
    nb.up = map[((d + md - 1) % md) * n + m];
    nb.down = map[((d + 1) % md) * n + m];
    return nb;
  };
  return extract_with(xs, count, neighbours, channel, out);
}

PlotExtractor::Result PlotExtractor::extract(const CfarCrossing* xs, std::size_t count,
                                             const CellNeighbours* nbs, int channel,
                                             std::vector<Detection>& out) noexcept {
  return extract_with(
      xs, count, [&](std::size_t i) { return nbs[i]; }, channel, out);
}

template <class Neighbours>
PlotExtractor::Result PlotExtractor::extract_with(const CfarCrossing* xs, std::size_t count,
                                                  const Neighbours& neighbours, int channel,
                                                  std::vector<Detection>& out) noexcept {
  Result res;
  count = std::min(count, cfg_.max_crossings);
  const std::size_t n = cfg_.gates;
  const long md = static_cast<long>(cfg_.doppler_bins);
  for (std::size_t i = 0; i < count; ++i) {
    label_[xs[i].doppler_bin * n + xs[i].range_bin] = static_cast<std::int32_t>(i);
    parent_[i] = static_cast<std::uint32_t>(i);
  }
  // Each 8-neighbour pair is seen from one side: (d, m-1) and the row above (d-1, m-1..m+1),
  // the row above taken mod M so that the first and last Doppler rows connect.
  auto unite = [&](std::uint32_t i, long d, long m) {
    if (m < 0 || m >= static_cast<long>(n)) return;
    long r = d % md;
    if (r < 0) r += md;
    const std::int32_t j = label_[static_cast<std::size_t>(r) * n + static_cast<std::size_t>(m)];
    if (j < 0) return;
    const std::uint32_t a = find(i), b = find(static_cast<std::uint32_t>(j));
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  };
  for (std::size_t i = 0; i < count; ++i) {
    const long d = xs[i].doppler_bin, m = xs[i].range_bin;
    const std::uint32_t u = static_cast<std::uint32_t>(i);
    unite(u, d, m - 1);
    unite(u, d - 1, m - 1);
    unite(u, d - 1, m);
    unite(u, d - 1, m + 1);
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t r = find(static_cast<std::uint32_t>(i));
    const std::uint32_t m = xs[i].range_bin;
    if (r == i) {
      peak_[r] = r;
      cells_[r] = 0;
      m_min_[r] = m_max_[r] = m;
    }
    ++cells_[r];
    m_min_[r] = std::min(m_min_[r], m);
    m_max_[r] = std::max(m_max_[r], m);
    if (xs[i].power > xs[peak_[r]].power) peak_[r] = static_cast<std::uint32_t>(i);
  }

  auto db = [](double p) { return 10.0 * std::log10(std::max(p, 1e-30)); };
  for (std::size_t i = 0; i < count; ++i) {
    if (parent_[i] != i) continue;  // roots are exactly the clusters, in order of first cell
    if (out.size() >= out.capacity()) {
      ++res.dropped;
      continue;
    }
    const CfarCrossing& pk = xs[peak_[i]];
    const long d = pk.doppler_bin, m = pk.range_bin;
    const CellNeighbours nb = neighbours(peak_[i]);
    double dr = 0.0;
    if (cfg_.interpolate_range && m > 0 && m + 1 < static_cast<long>(n))
      dr = parabolic_offset(db(nb.left), db(pk.power), db(nb.right));
    double dd = 0.0;
    if (md >= 3) dd = parabolic_offset(db(nb.up), db(pk.power), db(nb.down));
    Detection det;
    det.range_bin = static_cast<std::int32_t>(m);
    det.doppler_bin = static_cast<std::int32_t>(d);
    det.range_bin_frac = static_cast<double>(m) + dr + cfg_.range_offset_bins;
    double dfrac = static_cast<double>(d) + dd;
    if (dfrac < -0.5) dfrac += static_cast<double>(md);
    if (dfrac >= static_cast<double>(md) - 0.5) dfrac -= static_cast<double>(md);
    det.doppler_bin_frac = dfrac;
    det.range_m = range_of_bin_m(det.range_bin_frac, cfg_.window_start_s, cfg_.sample_rate_hz);
    // Keep f_D in [-PRF/2, PRF/2): a refined bin below -0.5 past the first row aliases upward.
    double f = doppler_of_bin_hz(dfrac, md, cfg_.prf_hz);
    if (f >= 0.5 * cfg_.prf_hz) f -= cfg_.prf_hz;
    if (f < -0.5 * cfg_.prf_hz) f += cfg_.prf_hz;
    det.doppler_hz = f;
    det.range_rate_mps = range_rate_of_doppler_mps(f, cfg_.wavelength_m);
    det.power_db = db(pk.power);
    det.noise_db = db(pk.noise);
    det.snr_db = det.power_db - det.noise_db;
    det.channel = channel;
    det.cells = cells_[i];
    det.range_extent_bins = m_max_[i] - m_min_[i] + 1;
    det.eclipsed = static_cast<std::size_t>(m) >= cfg_.first_eclipsed_bin;
    out.push_back(det);
    ++res.detections;
  }
  for (std::size_t i = 0; i < count; ++i) label_[xs[i].doppler_bin * n + xs[i].range_bin] = -1;
  return res;
}

}  // namespace radarpipe::cpu
