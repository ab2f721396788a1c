#include "kernels/cpu/mti.hpp"

#include "core/radar_math.hpp"

namespace radarpipe::cpu {

std::size_t mti_output_pulses(MtiMode mode, std::size_t pulses) {
  float taps[3];
  const std::size_t order = static_cast<std::size_t>(mti_taps(mti_code(mode), taps));
  return pulses > order ? pulses - order : 0;
}

void mti(MtiMode mode, const cf32* in, cf32* out, std::size_t pulses, std::size_t gates) noexcept {
  float taps[3];
  const int order = mti_taps(mti_code(mode), taps);
  const std::size_t outputs = mti_output_pulses(mode, pulses);
  for (std::size_t p = 0; p < outputs; ++p) {
    for (std::size_t n = 0; n < gates; ++n) {
      float re = 0.0f, im = 0.0f;
      for (int j = 0; j <= order; ++j) {
        const cf32 v = in[(p + j) * gates + n];
        re += taps[j] * v.real();
        im += taps[j] * v.imag();
      }
      out[p * gates + n] = cf32(re, im);
    }
  }
}

}  // namespace radarpipe::cpu
