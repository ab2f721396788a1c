// Fuzz target: saved clutter maps (io/clutter_map_file.hpp), checked against the key "fuzz" and
// a map of 2 maps x 1 azimuth cell x 3 rows x 7 gates, then by the stage's own checks
// (cpu::ClutterMap::check). Any bytes must give a state or a ClutterMapFileError /
// std::invalid_argument naming what is wrong: never a crash, an allocation beyond the file's
// size, or undefined behaviour. The first byte chooses the input's form: odd, the rest is a file
// body that gets its SHA-512 trailer appended (so mutations reach the checks behind the
// checksum); even, the rest is the whole file.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "io/clutter_map_file.hpp"
#include "io/sha512.hpp"
#include "kernels/cpu/clutter_map.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > (1u << 20)) return 0;
  static const radarpipe::cpu::ClutterMap stage([] {
    radarpipe::cpu::ClutterMapStageConfig c;
    c.doppler_bins = 8;
    c.gates = 7;
    c.first_row = 2;
    c.rows = 3;
    c.maps = 2;
    c.time_constant = 4;
    c.warmup = 4;
    c.gap = 4;
    c.pfa = 1e-3;
    return c;
  }());
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    radarpipe::io::Sha512 h;
    h.update(bytes.data(), bytes.size());
    bytes += h.hex_digest();
  }
  try {
    const radarpipe::ClutterMapState s =
        radarpipe::io::parse_clutter_map_file(bytes, "fuzz", stage.state(), "fuzz");
    // What was accepted has this map's shape, each array whole.
    if (s.mean.size() != 42 || s.spread.size() != 42 || s.learned.size() != 42 ||
        s.run.size() != 42 || s.quiet.size() != 42)
      __builtin_trap();
    stage.check(s);
  } catch (const radarpipe::io::ClutterMapFileError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
