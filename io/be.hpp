// Big-endian (network order) loads and stores of fixed-width fields, for wire formats that
// specify it (VITA 49: every 32-bit word most significant byte first).
#pragma once

#include <cstdint>
#include <cstring>

namespace radarpipe::io::be {

template <class T>
inline void put(unsigned char* p, T v) {
  static_assert(sizeof(T) <= 8);
  std::uint64_t u = 0;
  std::memcpy(&u, &v, sizeof(T));
  for (std::size_t i = 0; i < sizeof(T); ++i)
    p[i] = static_cast<unsigned char>(u >> (8 * (sizeof(T) - 1 - i)));
}

template <class T>
inline T get(const unsigned char* p) {
  static_assert(sizeof(T) <= 8);
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) u = (u << 8) | p[i];
  T v;
  std::memcpy(&v, &u, sizeof(T));
  return v;
}

}  // namespace radarpipe::io::be
