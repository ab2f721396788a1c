// Fuzz target: CURVE certificates (io/curve_cert.hpp), the key files a mode's security: section
// names. Any bytes must give a certificate whose keys are 40 Z85 characters (and whose secret key
// gives its public key), or std::invalid_argument naming the line: never a crash or undefined
// behaviour.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "io/curve_cert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > radarpipe::io::kMaxCurveCertBytes) return 0;  // read_curve_cert refuses these
  try {
    const radarpipe::io::CurveCert c = radarpipe::io::parse_curve_cert(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    if (c.public_key.size() != 40 || !(c.secret_key.empty() || c.secret_key.size() == 40))
      __builtin_trap();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
