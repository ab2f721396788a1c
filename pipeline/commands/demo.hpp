// `radarpipe demo`: the README's first command. Simulates the embedded scene
// (configs/scenarios/demo.yaml) with the embedded mode (configs/demo.yaml), processes the
// recording like `radarpipe process`, scores it like `radarpipe score`, prints a table of
// detections against truth and writes the range-Doppler map of the last CPI as a PNG.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace radarpipe {

struct DemoOptions {
  std::string output_dir = "radarpipe-demo";
  std::uint64_t cpis = 48;
  std::size_t threads = 0;
};

/// The embedded mode and scenario texts (copies of the configs/ files made at build time).
const char* demo_mode_yaml();
const char* demo_scenario_yaml();

/// Returns the process exit code (0 when every target was found in the last CPI).
int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& log);

}  // namespace radarpipe
