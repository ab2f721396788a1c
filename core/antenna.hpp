// The antenna's scan model (docs/trackers.md "Azimuth"): where the beam points at a UTC time,
// and when a rotating beam crosses its sector boundaries (CAT034 north markers and sector
// crossings). Azimuths are degrees clockwise from true north in [0, 360).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/mode.hpp"

namespace radarpipe {

/// v wrapped into [0, 360).
inline double wrap_degrees(double v) {
  double w = std::fmod(v, 360.0);
  if (w < 0) w += 360.0;
  return w >= 360.0 ? 0.0 : w;
}

/// a mod b for b > 0, in [0, b).
inline std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  const std::int64_t m = a % b;
  return m < 0 ? m + b : m;
}

inline std::int64_t rotation_period_ns(const AntennaConfig& a) {
  return std::llround(a.rotation_period_s * 1e9);
}

/// The beam's azimuth at `t_ns` (UTC ns) for `channel` (-1: the combined map).
inline double beam_azimuth_deg(const AntennaConfig& a, std::int64_t t_ns, int channel) {
  if (a.scan == ScanType::Fixed) {
    if (channel >= 0 && static_cast<std::size_t>(channel) < a.channel_azimuths_deg.size())
      return a.channel_azimuths_deg[static_cast<std::size_t>(channel)];
    return a.azimuth_deg;
  }
  const std::int64_t p = rotation_period_ns(a);
  const double turn = static_cast<double>(floor_mod(t_ns, p)) / static_cast<double>(p);
  return wrap_degrees(a.azimuth_deg + a.direction * 360.0 * turn);
}

struct SectorCrossing {
  std::int64_t time_ns = 0;  ///< UTC ns when the beam reaches the boundary
  std::uint32_t sector = 0;  ///< boundary k: azimuth k * 360 / sectors; 0 is north
};

/// Every sector boundary a rotating beam reaches in [t0_ns, t1_ns), in time order (nothing for a
/// fixed beam). Boundaries are the antenna's `sectors` equal divisions of the turn from north.
inline std::vector<SectorCrossing> sector_crossings(const AntennaConfig& a, std::int64_t t0_ns,
                                                    std::int64_t t1_ns) {
  std::vector<SectorCrossing> out;
  if (a.scan != ScanType::Rotating || t1_ns <= t0_ns) return out;
  const std::int64_t p = rotation_period_ns(a);
  for (std::uint32_t k = 0; k < a.sectors; ++k) {
    const double boundary = 360.0 * k / static_cast<double>(a.sectors);
    // Fraction of a turn after each period's start at which the beam reaches the boundary.
    const double deg = a.direction > 0 ? wrap_degrees(boundary - a.azimuth_deg)
                                       : wrap_degrees(a.azimuth_deg - boundary);
    const std::int64_t offset = std::llround(deg / 360.0 * static_cast<double>(p)) % p;
    // The first t >= t0 with t = offset (mod p): t0 + ((offset - t0) mod p), the difference
    // taken of residues so that no step overflows at the int64 limits (a stream's timestamps
    // can be anything); a crossing beyond INT64_MAX does not exist.
    std::int64_t t;
    if (__builtin_add_overflow(t0_ns, floor_mod(floor_mod(offset, p) - floor_mod(t0_ns, p), p), &t))
      continue;
    while (t < t1_ns) {
      out.push_back({t, k});
      if (__builtin_add_overflow(t, p, &t)) break;
    }
  }
  std::sort(out.begin(), out.end(), [](const SectorCrossing& x, const SectorCrossing& y) {
    return x.time_ns != y.time_ns ? x.time_ns < y.time_ns : x.sector < y.sector;
  });
  return out;
}

}  // namespace radarpipe
