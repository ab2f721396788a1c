// Fuzz target: scenario files (pipeline/config/scenario_file.hpp), validated against the demo
// mode. Any text must give a Scenario or an exception naming what is wrong: never a crash, a
// hang or undefined behaviour (noise_bandwidth_hz, gains, targets and clutter included).
#include <cstdint>
#include <exception>
#include <string>

#include "pipeline/config/mode_file.hpp"
#include "pipeline/config/scenario_file.hpp"

namespace {

// The demo's geometry (20 MHz, 1800 gates, 128 pulses); fixed, so only the scenario varies.
const radarpipe::Mode& fuzz_mode() {
  static const radarpipe::Mode m = radarpipe::parse_mode_yaml(R"(radar:
  center_frequency_hz: 9.4e9
  sample_rate_hz: 20.0e6
  pri_s: 100.0e-6
  range_gates: 1800
  waveform: {type: lfm, pulse_width_s: 10.0e-6, bandwidth_hz: 15.0e6}
processing:
  pulses: 128
  cfar: {type: ca, guard_cells: {range: 2, doppler: 1}, training_cells: {range: 8, doppler: 4}, pfa: 1.0e-6}
)",
                                                              "fuzz mode");
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1u << 16)) return 0;  // scenario files are small
  try {
    (void)radarpipe::parse_scenario_yaml(std::string(reinterpret_cast<const char*>(data), size),
                                         fuzz_mode(), "fuzz");
  } catch (const std::exception&) {
  }
  return 0;
}
