// SigMF sample formats (`core:datatype`, SigMF spec "Dataset Format"):
//   (r|c)(f64|f32|i32|i16|u32|u16|i8|u8)(_le|_be), the endianness suffix absent for 8 bits.
// radarpipe reads every complex one and converts it to cf32 on read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/cpi.hpp"

namespace radarpipe::io {

struct SampleFormat {
  std::string name;        ///< as written in the metadata, e.g. "ci16_le"
  bool is_complex = true;  ///< 'c' (two components per sample) or 'r'
  char kind = 'f';         ///< 'f' IEEE float, 'i' two's complement, 'u' unsigned
  int bits = 32;           ///< component width: 8, 16, 32 or 64
  bool big_endian = false;

  std::size_t component_bytes() const { return static_cast<std::size_t>(bits / 8); }
  /// Bytes of one sample of one channel (both components when complex).
  std::size_t sample_bytes() const { return component_bytes() * (is_complex ? 2 : 1); }
};

/// Parses a datatype name; throws std::invalid_argument saying what the grammar allows.
SampleFormat parse_datatype(const std::string& name);

/// Converts `components` scalar components (2 per complex sample) from the raw bytes of the
/// format to float: value * scale for signed integers and floats, (value - 2^(bits-1)) * scale
/// for unsigned integers (offset binary, so mid-scale is zero).
void convert_components(const SampleFormat& f, const std::uint8_t* raw, std::size_t components,
                        float scale, float* out);

/// Encodes floats as little-endian int16 components (value / scale, rounded to nearest,
/// saturated); returns how many components saturated.
std::size_t encode_ci16_le(const float* in, std::size_t components, float scale, std::uint8_t* raw);

/// Encodes floats as little-endian IEEE float32 components.
void encode_cf32_le(const float* in, std::size_t components, std::uint8_t* raw);

}  // namespace radarpipe::io
