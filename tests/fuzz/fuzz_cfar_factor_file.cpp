// Fuzz target: solved CFAR factor files (pipeline/chain/cfar_factor_cache.hpp), checked against
// a 16 x 40 map and the key "fuzz". Any bytes must give a table or a CfarFactorFileError naming
// what is wrong: never a crash, an allocation beyond the file's own size, or undefined
// behaviour. The first byte chooses the input's form: odd, the rest is a file body that gets its
// SHA-512 trailer appended (so mutations reach the checks behind the checksum); even, the rest
// is the whole file.
#include <cstdint>
#include <exception>
#include <string>

#include "io/sha512.hpp"
#include "pipeline/chain/cfar_factor_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > (1u << 20)) return 0;
  static const std::string key = radarpipe::cfar_key_digest("fuzz");
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    radarpipe::io::Sha512 h;
    h.update(bytes.data(), bytes.size());
    bytes += h.hex_digest();
  }
  try {
    const radarpipe::cpu::CfarFactorTable t =
        radarpipe::parse_cfar_factor_file(bytes, key, 16, 40, "fuzz");
    // What was accepted is a table for this map: every class index inside it.
    for (std::uint32_t c : t.row_class)
      if (static_cast<std::size_t>(c) * 16 + 15 >= t.row_factor.size()) __builtin_trap();
  } catch (const radarpipe::CfarFactorFileError&) {
  }
  return 0;
}
