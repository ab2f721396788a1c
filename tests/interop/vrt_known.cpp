// Writes a known VITA 49.2 stream with radarpipe's encoder (io/vrt.hpp) for vrt_interop.py,
// which decodes it with an independent reader (PyPI vtivrt) and recomputes every value from the
// same formulas: one context packet (VTI's measurement-info class: bandwidth, reference level,
// over-range count, sample rate, temperature), then 20 signal data packets with stream ID, UTC
// and picosecond timestamps, the packet count wrapping 15 -> 0, a class ID on even packets and
// a trailer on packets not divisible by 3, each with 100 sc16 samples.
//
// usage: vrt_known FILE
#include <complex>
#include <cstdio>
#include <fstream>
#include <vector>

#include "io/vrt.hpp"

namespace vrt = radarpipe::io::vrt;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: vrt_known FILE\n");
    return 2;
  }
  std::ofstream f(argv[1], std::ios::binary);
  std::vector<unsigned char> out(4096);
  auto put = [&](std::size_t n) {
    if (n == 0) throw 1;
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(n));
  };
  vrt::Prologue ctx;
  ctx.type = vrt::PacketType::Context;
  ctx.stream_id = 0x100;
  ctx.class_id = vrt::ClassId{0, 0x7C386C, 8, 2};  // VTI: system context, measurement info
  ctx.tsi = vrt::Tsi::Utc;
  ctx.tsf = vrt::Tsf::RealTime;
  ctx.integer_seconds = 1764633600;
  ctx.fractional = 0;
  vrt::Context c;
  c.changed = true;
  c.bandwidth_hz = 15e6;
  c.reference_level_dbm = 10.5;
  c.over_range_count = 3;
  c.sample_rate_hz = 20e6;
  c.temperature_c = 36.5;
  put(vrt::encode_context(ctx, c, out.data(), out.size()));
  const vrt::PayloadFormat sc16 = vrt::PayloadFormat::sc16();
  std::vector<std::complex<float>> s(100);
  std::vector<unsigned char> payload(vrt::payload_bytes(sc16, s.size()));
  for (int k = 0; k < 20; ++k) {
    for (int i = 0; i < 100; ++i)
      s[static_cast<std::size_t>(i)] = {static_cast<float>((k * 1009 + i * 37) % 65536 - 32768),
                                        static_cast<float>(-((k * 211 + i * 5) % 30000))};
    vrt::encode_payload(sc16, s.data(), s.size(), payload.data());
    vrt::Prologue p;
    p.type = vrt::PacketType::SignalWithStream;
    p.stream_id = 0x100;
    if (k % 2 == 0) p.class_id = vrt::ClassId{0, 0x7C386C, 1, 1};  // VTI: single span, int32
    p.tsi = vrt::Tsi::Utc;
    p.tsf = vrt::Tsf::RealTime;
    p.integer_seconds = 1764633600u + static_cast<unsigned>(k / 10);
    p.fractional = static_cast<std::uint64_t>(k % 10) * 100000000000ull;  // 0.1 s steps
    p.count = static_cast<std::uint8_t>((k + 13) % 16);
    std::optional<vrt::Trailer> t;
    if (k % 3 != 0) {
      t = vrt::Trailer{};
      t->set(vrt::Trailer::ValidData, k % 2 == 1);
      t->set(vrt::Trailer::OverRange, k % 4 == 1);
      t->context_count_enabled = true;
      t->context_count = static_cast<std::uint8_t>(k);
    }
    put(vrt::encode_data(p, payload.data(), payload.size(), t, out.data(), out.size()));
  }
  return f ? 0 : 1;
}
