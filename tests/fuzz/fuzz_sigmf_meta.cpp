// Fuzz target: SigMF metadata (io/sigmf_meta.hpp), the first bytes of every recording. Any text
// gives metadata or io::SigmfError naming the field: never a crash or undefined behaviour.
#include <cstdint>
#include <exception>
#include <string>

#include "io/sigmf_meta.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1u << 16)) return 0;
  try {
    const radarpipe::io::SigmfMeta m = radarpipe::io::parse_sigmf_meta(
        std::string(reinterpret_cast<const char*>(data), size), "fuzz.sigmf-meta");
    (void)radarpipe::io::sigmf_meta_to_json(m).dump();
  } catch (const std::exception&) {
  }
  return 0;
}
