#include "io/sigmf_datatype.hpp"

#include <cmath>
#include <cstring>

namespace radarpipe::io {
namespace {

const char* kGrammar =
    "expected (r|c)(f32|f64|i32|i16|u32|u16)(_le|_be) or (r|c)(i8|u8), e.g. ci16_le or cf32_le";

template <class U>
U load(const std::uint8_t* p, bool big_endian) {
  U v = 0;
  for (std::size_t b = 0; b < sizeof(U); ++b) {
    const std::size_t shift = 8 * (big_endian ? sizeof(U) - 1 - b : b);
    v = static_cast<U>(v | (static_cast<U>(p[b]) << shift));
  }
  return v;
}

template <class Raw, class Signed>
void convert_int(const std::uint8_t* raw, std::size_t n, bool be, bool is_unsigned, int bits,
                 float scale, float* out) {
  const double offset = is_unsigned ? std::ldexp(1.0, bits - 1) : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const Raw u = load<Raw>(raw + i * sizeof(Raw), be);
    const double v =
        is_unsigned ? static_cast<double>(u) - offset : static_cast<double>(static_cast<Signed>(u));
    out[i] = static_cast<float>(v * scale);
  }
}

}  // namespace

SampleFormat parse_datatype(const std::string& name) {
  SampleFormat f;
  f.name = name;
  auto fail = [&](const std::string& why) -> SampleFormat {
    throw std::invalid_argument("'" + name + "' is not a SigMF datatype (" + why + "; " + kGrammar +
                                ")");
  };
  if (name.size() < 3) return fail("too short");
  if (name[0] == 'c')
    f.is_complex = true;
  else if (name[0] == 'r')
    f.is_complex = false;
  else
    return fail("first letter must be c or r");
  f.kind = name[1];
  if (f.kind != 'f' && f.kind != 'i' && f.kind != 'u') return fail("type must be f, i or u");
  std::size_t i = 2;
  // The width's digits as written: exactly 8, 16, 32 or 64 (no leading zeros, no long runs of
  // digits to overflow on).
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  const std::string digits = name.substr(2, i - 2);
  if (digits != "8" && digits != "16" && digits != "32" && digits != "64")
    return fail("no such width for this type");
  const int bits = std::stoi(digits);
  f.bits = bits;
  const bool float_ok = f.kind == 'f' && (bits == 32 || bits == 64);
  const bool int_ok = f.kind != 'f' && (bits == 8 || bits == 16 || bits == 32);
  if (!float_ok && !int_ok) return fail("no such width for this type");
  const std::string suffix = name.substr(i);
  if (bits == 8) {
    if (!suffix.empty()) return fail("8-bit types take no endianness suffix");
  } else if (suffix == "_le") {
    f.big_endian = false;
  } else if (suffix == "_be") {
    f.big_endian = true;
  } else {
    return fail("an endianness suffix _le or _be is required");
  }
  return f;
}

void convert_components(const SampleFormat& f, const std::uint8_t* raw, std::size_t n, float scale,
                        float* out) {
  const bool be = f.big_endian;
  if (f.kind == 'f') {
    if (f.bits == 32) {
      if (!be && scale == 1.0f) {
        std::memcpy(out, raw, n * 4);  // the host is little-endian (x86-64, aarch64)
        return;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t u = load<std::uint32_t>(raw + 4 * i, be);
        float v;
        std::memcpy(&v, &u, 4);
        out[i] = v * scale;
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t u = load<std::uint64_t>(raw + 8 * i, be);
        double v;
        std::memcpy(&v, &u, 8);
        out[i] = static_cast<float>(v * scale);
      }
    }
    return;
  }
  const bool uns = f.kind == 'u';
  switch (f.bits) {
    case 8:
      convert_int<std::uint8_t, std::int8_t>(raw, n, be, uns, 8, scale, out);
      break;
    case 16:
      convert_int<std::uint16_t, std::int16_t>(raw, n, be, uns, 16, scale, out);
      break;
    default:
      convert_int<std::uint32_t, std::int32_t>(raw, n, be, uns, 32, scale, out);
      break;
  }
}

std::size_t encode_ci16_le(const float* in, std::size_t n, float scale, std::uint8_t* raw) {
  std::size_t clipped = 0;
  const double inv = 1.0 / static_cast<double>(scale);
  for (std::size_t i = 0; i < n; ++i) {
    double v = std::nearbyint(static_cast<double>(in[i]) * inv);
    if (v > 32767.0) {
      v = 32767.0;
      ++clipped;
    } else if (v < -32768.0) {
      v = -32768.0;
      ++clipped;
    } else if (std::isnan(v)) {
      v = 0.0;
      ++clipped;
    }
    const auto u = static_cast<std::uint16_t>(static_cast<std::int16_t>(v));
    raw[2 * i] = static_cast<std::uint8_t>(u & 0xffu);
    raw[2 * i + 1] = static_cast<std::uint8_t>(u >> 8);
  }
  return clipped;
}

void encode_cf32_le(const float* in, std::size_t n, std::uint8_t* raw) {
  std::memcpy(raw, in, n * 4);
}

}  // namespace radarpipe::io
