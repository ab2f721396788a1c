// Fuzz target: mode files (pipeline/config/mode_file.hpp). Any text must give a Mode or a
// ConfigError / std::exception naming what is wrong: never a crash, a hang or undefined
// behaviour. A recording's radar:processing reaches the same parser (process without --mode).
#include <cstdint>
#include <exception>
#include <string>

#include "pipeline/config/mode_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1u << 16)) return 0;  // mode files are small; the reader caps metadata elsewhere
  try {
    const radarpipe::Mode m =
        radarpipe::parse_mode_yaml(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    // A valid mode round-trips through its own JSON form.
    (void)radarpipe::parse_mode_yaml(radarpipe::mode_file_json(m).dump(), "fuzz (round trip)");
  } catch (const std::exception&) {
  }
  return 0;
}
