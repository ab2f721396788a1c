#include "io/clutter_map_file.hpp"

#include <cstring>

#include "io/le.hpp"
#include "io/sha512.hpp"

namespace radarpipe::io {

namespace {

constexpr char kMagic[8] = {'R', 'P', 'C', 'M', 'A', 'P', '0', '2'};
constexpr std::size_t kDigestChars = 128;
constexpr std::uint64_t kHeaderBytes = sizeof kMagic + kDigestChars + 5 * 8;
constexpr std::uint64_t kCellBytes = 4 + 4 + 4 + 4 + 4;  // mean, spread, learned, run, quiet

std::string digest_of(std::string_view bytes) {
  Sha512 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

template <class T>
void put(std::string& out, T v) {
  unsigned char b[sizeof(T)];
  le::put<T>(b, v);
  out.append(reinterpret_cast<const char*>(b), sizeof(T));
}

template <class T>
T get(std::string_view b, std::size_t at) {
  return le::get<T>(reinterpret_cast<const unsigned char*>(b.data()) + at);
}

// The cells of a shape, or 0 when the product would pass 2^40 (no map is that large).
std::uint64_t cells_of(std::uint64_t maps, std::uint64_t az, std::uint64_t rows,
                       std::uint64_t gates) {
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 40;
  std::uint64_t n = 1;
  for (std::uint64_t f : {maps, az, rows, gates}) {
    if (f == 0 || f > kLimit || n > kLimit / f) return 0;
    n *= f;
  }
  return n;
}

std::string shape_text(std::uint64_t maps, std::uint64_t az, std::uint64_t rows,
                       std::uint64_t gates) {
  return std::to_string(maps) + " maps x " + std::to_string(az) + " azimuth cells x " +
         std::to_string(rows) + " rows x " + std::to_string(gates) + " gates";
}

}  // namespace

std::uint64_t clutter_map_file_bytes(const ClutterMapState& s) {
  return kHeaderBytes + cells_of(s.maps, s.azimuth_cells, s.rows, s.gates) * kCellBytes +
         kDigestChars;
}

std::string clutter_map_file(const std::string& key, const ClutterMapState& s) {
  std::string out(kMagic, sizeof kMagic);
  out += digest_of(key);
  for (std::uint64_t v : {std::uint64_t{s.maps}, std::uint64_t{s.azimuth_cells},
                          std::uint64_t{s.rows}, std::uint64_t{s.gates}, s.cpis})
    put(out, v);
  out.reserve(clutter_map_file_bytes(s));
  for (float v : s.mean) put(out, v);
  for (float v : s.spread) put(out, v);
  for (std::uint32_t v : s.learned) put(out, v);
  for (std::uint32_t v : s.run) put(out, v);
  for (std::uint32_t v : s.quiet) put(out, v);
  out += digest_of(out);
  return out;
}

ClutterMapState parse_clutter_map_file(std::string_view b, const std::string& key,
                                       const ClutterMapState& shape, const std::string& name) {
  auto fail = [&](const char* cause, const std::string& msg) {
    throw ClutterMapFileError(cause, name + ": " + msg);
  };
  if (b.size() < kHeaderBytes + kDigestChars)
    fail("size", "is " + std::to_string(b.size()) + " bytes, shorter than a clutter map's " +
                     std::to_string(kHeaderBytes + kDigestChars) + "-byte header and trailer");
  if (std::memcmp(b.data(), kMagic, sizeof kMagic) != 0)
    fail("magic", std::memcmp(b.data(), kMagic, 6) == 0
                      ? "is a clutter map of another format (" + std::string(b.substr(0, 8)) +
                            ", expected RPCMAP02: saved by another radarpipe version)"
                      : "does not start with RPCMAP02 (not a radarpipe clutter map)");
  std::size_t at = sizeof kMagic + kDigestChars;
  const std::uint64_t maps = get<std::uint64_t>(b, at), az = get<std::uint64_t>(b, at + 8),
                      rows = get<std::uint64_t>(b, at + 16), gates = get<std::uint64_t>(b, at + 24),
                      cpis = get<std::uint64_t>(b, at + 32);
  at += 40;
  if (maps != shape.maps || az != shape.azimuth_cells || rows != shape.rows || gates != shape.gates)
    fail("shape", "holds " + shape_text(maps, az, rows, gates) + ", the mode's map is " +
                      shape_text(shape.maps, shape.azimuth_cells, shape.rows, shape.gates));
  const std::uint64_t cells = cells_of(maps, az, rows, gates);
  const std::uint64_t want = kHeaderBytes + cells * kCellBytes + kDigestChars;
  if (cells == 0 || b.size() != want)
    fail("size", "is " + std::to_string(b.size()) + " bytes; a map of " +
                     shape_text(maps, az, rows, gates) + " is " + std::to_string(want));
  const std::string_view body = b.substr(0, b.size() - kDigestChars);
  if (digest_of(body) != b.substr(b.size() - kDigestChars))
    fail("checksum", "its SHA-512 trailer does not match its content (a torn or altered file)");
  if (b.substr(sizeof kMagic, kDigestChars) != digest_of(key))
    fail("key",
         "was saved for another mode (the power map's geometry, the map's rows, azimuth "
         "cells or time constant differ)");
  ClutterMapState s;
  s.maps = maps;
  s.azimuth_cells = az;
  s.rows = rows;
  s.gates = gates;
  s.cpis = cpis;
  s.mean.resize(cells);
  s.spread.resize(cells);
  s.learned.resize(cells);
  s.run.resize(cells);
  s.quiet.resize(cells);
  for (std::uint64_t i = 0; i < cells; ++i, at += 4) s.mean[i] = get<float>(b, at);
  for (std::uint64_t i = 0; i < cells; ++i, at += 4) s.spread[i] = get<float>(b, at);
  for (std::uint64_t i = 0; i < cells; ++i, at += 4) s.learned[i] = get<std::uint32_t>(b, at);
  for (std::uint64_t i = 0; i < cells; ++i, at += 4) s.run[i] = get<std::uint32_t>(b, at);
  for (std::uint64_t i = 0; i < cells; ++i, at += 4) s.quiet[i] = get<std::uint32_t>(b, at);
  return s;
}

}  // namespace radarpipe::io
