#include "pipeline/chain/stage_config.hpp"

#include <stdexcept>
#include <string>

#include "core/antenna.hpp"
#include "core/radar_math.hpp"
#include "kernels/cpu/doppler.hpp"
#include "kernels/cpu/fft.hpp"
#include "kernels/cpu/mti.hpp"
#include "kernels/cpu/pulse_compression.hpp"
#include "kernels/cpu/waveform.hpp"

namespace radarpipe {

cpu::CfarStageConfig cfar_stage_config(const Mode& mode, const ModeGeometry& geometry) {
  cpu::CfarStageConfig cc;
  cc.cfar = mode.processing.cfar;
  cc.doppler_bins = mode.processing.doppler_fft_size;
  cc.gates = mode.radar.range_gates;
  cc.noise_gates = geometry.first_eclipsed_bin;
  cc.looks = geometry.cfar_looks;
  cc.correlation = cell_correlation(mode, geometry);
  return cc;
}

cpu::CellCorrelation cell_correlation(const Mode& mode, const ModeGeometry& geometry) {
  const ProcessingConfig& p = mode.processing;
  cpu::CellCorrelation c;
  // The coefficients the stages use, as they use them (float).
  for (const cf32& h : cpu::unit_energy_reference(
           cpu::sample_waveform(mode.radar.waveform, mode.radar.sample_rate_hz), p.range_window))
    c.range_reference.emplace_back(h.real(), h.imag());
  float taps[3];
  const int order = mti_taps(cpu::mti_code(p.mti), taps);
  c.mti_taps.assign(taps, taps + order + 1);
  for (float w : cpu::unit_energy_doppler_window(p.doppler_window, geometry.pulses_after_mti))
    c.doppler_window.push_back(w);
  c.doppler_fft_size = p.doppler_fft_size;
  c.gates = mode.radar.range_gates;
  // Both backends' fast convolutions take this FFT size (pulse_compression.cpp and .cu).
  c.rounding_floor =
      cpu::fft_rounding_floor(cpu::next_fast_fft_size(c.gates + c.range_reference.size() - 1));
  return c;
}

cpu::PlotConfig plot_config(const Mode& mode, const ModeGeometry& geometry) {
  const RadarConfig& r = mode.radar;
  cpu::PlotConfig plc;
  plc.doppler_bins = mode.processing.doppler_fft_size;
  plc.gates = r.range_gates;
  plc.first_eclipsed_bin = geometry.first_eclipsed_bin;
  plc.window_start_s = r.window_start_s;
  plc.sample_rate_hz = r.sample_rate_hz;
  plc.prf_hz = geometry.prf_hz;
  plc.wavelength_m = geometry.wavelength_m;
  plc.max_crossings = mode.processing.max_crossings;
  plc.range_offset_bins = r.waveform.type == WaveformType::Lfm ? 0.0 : -0.5;
  plc.interpolate_range = r.waveform.type == WaveformType::Lfm;
  return plc;
}

cpu::ClutterMapStageConfig clutter_map_stage_config(const Mode& mode) {
  const ClutterMapGeometry g = clutter_map_geometry(mode);
  cpu::ClutterMapStageConfig c;
  c.doppler_bins = mode.processing.doppler_fft_size;
  c.gates = g.gates;
  c.first_row = g.first_row;
  c.rows = g.rows;
  c.maps = g.maps;
  c.azimuth_cells = g.azimuth_cells;
  c.looks = g.looks;
  c.time_constant = g.time_constant_updates;
  c.warmup = g.warmup_updates;
  c.gap = g.gap_updates;
  c.hold = g.hold_updates;
  c.pfa = g.pfa;
  c.factor_db = g.factor_db;
  c.measured_shape = g.shape == ClutterMapShape::Measured;
  return c;
}

std::size_t clutter_map_azimuth_cell(const Mode& mode, const ClutterMapGeometry& map,
                                     std::int64_t timestamp_ns) {
  if (map.azimuth_cells <= 1 || !mode.antenna.present) return 0;
  const double half_cpi_ns = 0.5e9 * static_cast<double>(mode.processing.pulses) * mode.radar.pri_s;
  std::int64_t mid = timestamp_ns;
  if (__builtin_add_overflow(timestamp_ns, static_cast<std::int64_t>(half_cpi_ns), &mid))
    mid = timestamp_ns;
  const double az = beam_azimuth_deg(mode.antenna, mid, -1);
  const auto cell = static_cast<std::size_t>(az / 360.0 * static_cast<double>(map.azimuth_cells));
  return std::min(cell, map.azimuth_cells - 1);
}

void mark_clutter_map_detections(const ClutterMapGeometry& map, DetectionReport& report,
                                 std::size_t first_detection) {
  if (!map.present) return;
  for (std::size_t i = first_detection; i < report.detections.size(); ++i) {
    Detection& d = report.detections[i];
    const auto row = static_cast<std::size_t>(d.doppler_bin);
    if (d.doppler_bin >= 0 && row >= map.first_row && row < map.first_row + map.rows)
      d.decided_by = DecidedBy::ClutterMap;
  }
}

void check_cpi_shape(const Cpi& cpi, const Mode& mode) {
  const CpiShape want{mode.radar.channels, mode.processing.pulses, mode.radar.range_gates};
  if (!(cpi.shape == want))
    throw std::invalid_argument(
        "CPI " + std::to_string(cpi.id) + " has shape " + std::to_string(cpi.shape.channels) + "x" +
        std::to_string(cpi.shape.pulses) + "x" + std::to_string(cpi.shape.gates) +
        " (channels x pulses x gates), the mode expects " + std::to_string(want.channels) + "x" +
        std::to_string(want.pulses) + "x" + std::to_string(want.gates));
}

}  // namespace radarpipe
