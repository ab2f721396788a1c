#include "pipeline/chain/stage_config.hpp"

#include <stdexcept>
#include <string>

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
