// Fuzz target: the ASTERIX encoder (io/asterix.hpp) on whatever a report can hold: any
// timestamps (backwards, far apart, near INT64 limits), ranges, speeds, SNRs, powers and
// azimuths (NaN, infinities, huge), channels, cluster sizes, on a fixed or rotating beam with
// datagram limits from 64 bytes. What it checks, with a reading of its own: every datagram is
// one CAT048 or CAT034 data block no larger than the limit whose length field is its size, and
// every detection is either written or dropped and counted (the encoder's counts). Never a crash or
// undefined behaviour (a float-to-integer conversion of a value out of range included).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "io/asterix.hpp"

namespace {

class Bytes {
 public:
  Bytes(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  bool empty() const { return at_ >= n_; }
  std::uint8_t u8() { return at_ < n_ ? d_[at_++] : 0; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return v;
  }
  double f64() {
    const std::uint64_t u = u64();
    double v;
    std::memcpy(&v, &u, 8);
    return v;
  }

 private:
  const std::uint8_t* d_;
  std::size_t n_, at_ = 0;
};

// One datagram's framing, read here rather than by split_blocks.
void check_datagram(const std::vector<std::uint8_t>& g, std::size_t limit) {
  if (g.size() < 3 || g.size() > limit) __builtin_trap();
  const std::size_t len = (static_cast<std::size_t>(g[1]) << 8) | g[2];
  if (len != g.size()) __builtin_trap();
  if (g[0] != radarpipe::io::asterix::kCat048 && g[0] != radarpipe::io::asterix::kCat034)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace radarpipe;
  if (size < 4 || size > (1u << 16)) return 0;
  Bytes b(data, size);
  AsterixConfig cfg;
  cfg.present = true;
  cfg.sac = b.u8();
  cfg.sic = b.u8();
  cfg.max_datagram_bytes = 64 + (static_cast<std::size_t>(b.u8()) << 4);  // 64 .. 4144
  cfg.amplitude_offset_db = static_cast<double>(static_cast<int>(b.u8()) - 128);
  const std::uint8_t shape = b.u8();
  cfg.cat034 = shape & 1;
  AntennaConfig ant;
  ant.present = true;
  ant.beamwidth_deg = 0.5 + (shape >> 4);
  ant.azimuth_deg = static_cast<double>(b.u8()) * 1.4;
  if (shape & 2) {
    ant.scan = ScanType::Rotating;
    ant.rotation_period_s = 0.1 + static_cast<double>(b.u8()) * 0.5;
    ant.direction = (shape & 4) ? -1 : +1;
    ant.sectors = std::size_t{1} << (b.u8() % 9);
  }
  io::asterix::Encoder enc(cfg, ant, 7.49, 0.0128);
  std::vector<std::vector<std::uint8_t>> out;
  for (int reports = 0; !b.empty() && reports < 64; ++reports) {
    DetectionReport r;
    r.cpi = static_cast<std::uint64_t>(reports);
    r.timestamp_ns = static_cast<std::int64_t>(b.u64());
    const std::size_t n = b.u8() % 32;
    for (std::size_t i = 0; i < n && !b.empty(); ++i) {
      Detection d;
      d.range_m = b.f64();
      d.range_rate_mps = b.f64();
      d.snr_db = b.f64();
      d.power_db = b.f64();
      d.azimuth_deg = b.f64();
      d.channel = static_cast<std::int32_t>(static_cast<std::int8_t>(b.u8()));
      d.cells = static_cast<std::uint32_t>(b.u64());
      d.range_extent_bins = static_cast<std::uint32_t>(b.u64());
      r.detections.push_back(d);
    }
    const std::uint64_t plots_before = enc.counts().plots;
    std::uint64_t dropped_before = 0;
    for (const auto& [cause, c] : enc.counts().plots_dropped) dropped_before += c;
    enc.encode(r, out);
    std::uint64_t dropped_after = 0;
    for (const auto& [cause, c] : enc.counts().plots_dropped) dropped_after += c;
    // Every detection written or dropped and counted.
    if (enc.counts().plots - plots_before + dropped_after - dropped_before != r.detections.size())
      __builtin_trap();
    for (const auto& g : out) check_datagram(g, cfg.max_datagram_bytes);
  }
  return 0;
}
