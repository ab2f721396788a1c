// The small mode both streaming test files run: 2 channels x 32 pulses x 256 gates, planned
// with FFTW_ESTIMATE so that two runs pick the same plans and agree bit for bit.
#pragma once

namespace radarpipe::test {

inline constexpr const char* kStreamMode = R"(
radar:
  center_frequency_hz: 9.4e9
  sample_rate_hz: 10.0e6
  pri_s: 50.0e-6
  range_gates: 256
  channels: 2
  waveform: {type: lfm, pulse_width_s: 2.0e-6, bandwidth_hz: 5.0e6, direction: up}
processing:
  pulses: 32
  range_window: hamming
  doppler_window: hann
  doppler_fft_size: 32
  fft_planning: estimate
  cfar: {type: ca, guard_cells: {range: 2, doppler: 1}, training_cells: {range: 6, doppler: 3}, pfa: 1.0e-4}
pipeline:
  cpis_in_flight: 16
)";

/// The same mode cut into two segments, the second bound on a free tcp port.
inline constexpr const char* kStreamTwoSegments = R"(  segments:
    - {name: compress, stages: [pulse_compression]}
    - {name: detect, stages: [doppler, cfar, plots], from: 'tcp://127.0.0.1:*'}
)";

}  // namespace radarpipe::test
