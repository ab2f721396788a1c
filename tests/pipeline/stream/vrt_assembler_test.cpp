// CPI assembly from VITA 49 packets, without sockets (the end-to-end equality with `process`
// over UDP and TCP is tests/interop/vrt_run_interop.py): which stream is taken, where the epoch
// is, context packets (a sample-rate contradiction, a retune, the payload format), the 4-bit
// count, a sender that restarts, samples outside a window, an overrun, the scale. Packets are
// made with io/vrt's encoder, whose bytes are checked against the standard's layout on their own
// (tests/io/vrt_test.cpp, tests/interop/vrt_interop.py).
#include "pipeline/stream/vrt_assembler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace radarpipe::stream {
namespace {

namespace vrt = io::vrt;

// 1 channel x 4 pulses x 8 gates; 1 MHz, PRI 20 samples, the window from sample 2.
Mode small_mode() {
  Mode m;
  m.radar.sample_rate_hz = 1e6;
  m.radar.pri_s = 20e-6;
  m.radar.window_start_s = 2e-6;
  m.radar.range_gates = 8;
  m.radar.channels = 1;
  m.radar.waveform.pulse_width_s = 2e-6;
  m.radar.waveform.bandwidth_hz = 0.5e6;
  m.processing.pulses = 4;
  m.processing.doppler_fft_size = 4;
  m.processing.cfar.train_doppler = 1;
  m.processing.cfar.guard_doppler = 0;
  m.processing.cfar.train_range = 1;
  m.processing.cfar.guard_range = 1;
  m.validate();
  return m;
}

constexpr std::uint32_t kSecond = 1800000000;  // 2027-01-15, as UTC seconds

// Gate n of pulse k: a value no other sample has (in sc16 LSBs).
cf32 value(std::int64_t k, std::int64_t n) {
  return cf32(static_cast<float>(100 * (k % 300) + n), static_cast<float>(-(k % 50) - 1));
}

struct Harness {
  Mode mode;
  VrtCounters counters;
  AssemblerCounters frames;
  std::vector<std::vector<cf32>> buffers;
  std::vector<AssembledCpi> out;
  std::vector<std::string> log;
  std::size_t free = 60;  // buffers the test lends (an emitted CPI keeps its own)
  std::optional<VrtAssembler> a;

  explicit Harness(Mode m) : mode(std::move(m)) {
    a.emplace(
        mode, counters, frames,
        [this]() -> void* {
          if (free == 0) return nullptr;
          --free;
          buffers.emplace_back(mode.radar.channels * mode.processing.pulses *
                               mode.radar.range_gates);
          return buffers.back().data();
        },
        [this](void*) { ++free; }, [this](const AssembledCpi& c) { out.push_back(c); },
        [this](const std::string& l) { log.push_back(l); });
    buffers.reserve(64);  // pointers into it stay valid
  }
  void push(const std::vector<unsigned char>& p) { a->push(p.data(), p.size(), 0); }
  std::uint64_t rejected(VrtReject r) const {
    return counters.rejected_by[static_cast<int>(r)].load();
  }
  std::uint64_t dropped(CpiDrop d) const { return frames.dropped[static_cast<int>(d)].load(); }
};

std::vector<unsigned char> data_packet(std::uint32_t stream, std::uint8_t count, double t_s,
                                       const std::vector<cf32>& samples,
                                       vrt::Tsi tsi = vrt::Tsi::Utc,
                                       vrt::PayloadFormat f = vrt::PayloadFormat::sc16()) {
  std::vector<unsigned char> payload(vrt::payload_bytes(f, samples.size()));
  vrt::encode_payload(f, samples.data(), samples.size(), payload.data());
  vrt::Prologue p;
  p.stream_id = stream;
  p.count = count;
  p.tsi = tsi;
  p.tsf = vrt::Tsf::RealTime;
  const double whole = std::floor(t_s);
  // t_s may be negative (a packet before the epoch's second): added as signed seconds.
  p.integer_seconds = static_cast<std::uint32_t>(static_cast<std::int64_t>(kSecond) +
                                                 static_cast<std::int64_t>(whole));
  p.fractional = static_cast<std::uint64_t>(std::llround((t_s - whole) * 1e12));
  std::vector<unsigned char> out(payload.size() + 64);
  out.resize(
      vrt::encode_data(p, payload.data(), payload.size(), std::nullopt, out.data(), out.size()));
  return out;
}

std::vector<unsigned char> context_packet(std::uint32_t stream, double t_s, double rate_hz,
                                          double rf_hz) {
  vrt::Prologue p;
  p.type = vrt::PacketType::Context;
  p.stream_id = stream;
  p.tsi = vrt::Tsi::Utc;
  p.tsf = vrt::Tsf::RealTime;
  p.integer_seconds = kSecond + static_cast<std::uint32_t>(t_s);
  p.fractional = static_cast<std::uint64_t>(std::llround((t_s - std::floor(t_s)) * 1e12));
  vrt::Context c;
  c.sample_rate_hz = rate_hz;
  c.rf_reference_hz = rf_hz;
  std::vector<unsigned char> out(256);
  out.resize(vrt::encode_context(p, c, out.data(), out.size()));
  return out;
}

// Pulse k's window (gated), from pulse 0 at `epoch_s` (seconds after kSecond).
std::vector<unsigned char> pulse(std::uint32_t stream, std::int64_t k, double epoch_s = 0.0,
                                 vrt::Tsi tsi = vrt::Tsi::Utc) {
  std::vector<cf32> s(8);
  for (int n = 0; n < 8; ++n) s[n] = value(k, n);
  return data_packet(stream, static_cast<std::uint8_t>(k & 15),
                     epoch_s + static_cast<double>(k) * 20e-6 + 2e-6, s, tsi);
}

void expect_cpi(const Harness& h, const AssembledCpi& c, std::uint64_t m) {
  EXPECT_EQ(c.cpi, m);
  const cf32* x = static_cast<const cf32*>(c.buffer);
  for (int p = 0; p < 4; ++p)
    for (int n = 0; n < 8; ++n)
      ASSERT_EQ(x[p * 8 + n], value(static_cast<std::int64_t>(m) * 4 + p, n) *
                                  static_cast<float>(h.mode.input.vrt.scale))
          << "CPI " << m << " pulse " << p << " gate " << n;
}

TEST(VrtAssembler, TheFirstStreamIsTakenAndAStrangerChangesNothing) {
  Harness h(small_mode());
  for (int k = 0; k < 8; ++k) {
    h.push(pulse(42, k));
    if (k == 5) h.push(pulse(43, k));  // a stranger, in the middle of CPI 1
  }
  ASSERT_EQ(h.out.size(), 2u);
  expect_cpi(h, h.out[0], 0);
  expect_cpi(h, h.out[1], 1);
  EXPECT_EQ(h.out[0].stream_id, 42u);
  EXPECT_EQ(h.rejected(VrtReject::Stream), 1u);
  EXPECT_EQ(h.frames.cpis_dropped.load(), 0u);
  // CPI m at the epoch (the first sample less the window start) plus m x P x PRI.
  const std::int64_t epoch_ns = std::int64_t{kSecond} * 1000000000;
  EXPECT_EQ(h.out[1].timestamp_ns, epoch_ns + 80000);
}

TEST(VrtAssembler, ScaleAndCountWrapAndAMiscountedPacket) {
  Mode m = small_mode();
  m.input.vrt.scale = 0.25;
  Harness h(m);
  // 40 pulses: the count wraps 15 -> 0 twice without a loss; then one packet miscounted.
  for (int k = 0; k < 40; ++k) {
    auto p = pulse(1, k);
    if (k == 37) p[1] = static_cast<unsigned char>((p[1] & 0xf0) | ((k + 3) & 15));
    h.push(p);
  }
  ASSERT_EQ(h.out.size(), 10u);
  for (std::size_t i = 0; i < h.out.size(); ++i) expect_cpi(h, h.out[i], i);
  EXPECT_EQ(h.counters.packets_lost.load(), 0u);
  EXPECT_EQ(h.counters.count_errors.load(), 2u);  // 37 (says 40), and 38 after it (says 38)
}

TEST(VrtAssembler, AModeEpochCountsCpisFromItAndSkipsTheFirstPartialCpi) {
  Mode m = small_mode();
  m.input.vrt.epoch = VrtEpoch::Time;
  m.input.vrt.epoch_ns = std::int64_t{kSecond} * 1000000000;  // pulse 0 there
  Harness h(m);
  // The digitizer starts at pulse 1000002: CPI 250000 is missed in part, 250001 is whole.
  for (std::int64_t k = 1000002; k < 1000012; ++k) h.push(pulse(1, k));
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.out[0].cpi, 250001u);
  expect_cpi(h, h.out[0], 250001);
  EXPECT_EQ(h.out[0].timestamp_ns, m.input.vrt.epoch_ns + 250001LL * 80000);
  EXPECT_EQ(h.frames.cpis_dropped.load(), 0u);
}

TEST(VrtAssembler, AContextEpochWaitsForTheContextAndCarriesItsFrequency) {
  Mode m = small_mode();
  m.input.vrt.epoch = VrtEpoch::Context;
  Harness h(m);
  h.push(pulse(1, 0, -1.0));  // before any context: not placed
  h.push(context_packet(1, 0.0, 1e6, 9.1e9));
  for (int k = 0; k < 4; ++k) h.push(pulse(1, k));
  h.push(context_packet(1, 80e-6, 1e6, 9.3e9));  // a retune before CPI 1
  for (int k = 4; k < 8; ++k) h.push(pulse(1, k));
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.counters.before_epoch.load(), 1u);
  EXPECT_EQ(h.out[0].center_frequency_hz, 9.1e9);
  EXPECT_EQ(h.out[1].center_frequency_hz, 9.3e9);
  EXPECT_EQ(h.counters.retunes.load(), 1u);
  expect_cpi(h, h.out[1], 1);
}

TEST(VrtAssembler, ASampleRateContradictionStopsTheStreamUntilTheContextAgrees) {
  Harness h(small_mode());
  for (int k = 0; k < 4; ++k) h.push(pulse(1, k));
  h.push(context_packet(1, 79e-6, 2e6, 9.4e9));
  for (int k = 4; k < 8; ++k) h.push(pulse(1, k));  // rejected: CPI 1 never fills
  h.push(context_packet(1, 159e-6, 1e6, 9.4e9));
  for (int k = 8; k < 16; ++k) h.push(pulse(1, k));
  ASSERT_EQ(h.out.size(), 3u);
  EXPECT_EQ(h.out[1].cpi, 2u);
  EXPECT_EQ(h.out[2].cpi, 3u);
  EXPECT_EQ(h.rejected(VrtReject::SampleRate), 4u);
  EXPECT_EQ(h.counters.context_mismatches.load(), 1u);
  EXPECT_EQ(h.dropped(CpiDrop::SequenceGap), 1u);  // CPI 1, when the stream resumed past it
  std::string all;
  for (const std::string& l : h.log) all += l + "\n";
  EXPECT_NE(all.find("sample rate 2000000 Hz, the mode's radar.sample_rate_hz is 1000000 Hz"),
            std::string::npos)
      << all;
}

TEST(VrtAssembler, ASenderThatRestartsIsFollowedAfterEightPackets) {
  Harness h(small_mode());
  for (int k = 0; k < 8; ++k) h.push(pulse(1, k));
  // The sender restarts: its clock goes back one second, before pulse 0.
  for (int k = 0; k < 12; ++k) h.push(pulse(1, k, -1.0));
  EXPECT_EQ(h.rejected(VrtReject::Window), 7u);
  EXPECT_EQ(h.counters.resyncs.load(), 1u);
  // The 8th packet (its pulse 7) is the new stream's first, so its pulse 0: the new CPI 0 is
  // its pulses 7-10, whole.
  ASSERT_EQ(h.out.size(), 3u);
  EXPECT_EQ(h.out[2].cpi, 0u);
  const cf32* x = static_cast<const cf32*>(h.out[2].buffer);
  EXPECT_EQ(x[0], value(7, 0));
  EXPECT_EQ(x[3 * 8 + 7], value(10, 7));
}

TEST(VrtAssembler, SamplesOutsideTheWindowAndAnOverrun) {
  Harness h(small_mode());
  h.push(pulse(1, 0));
  std::vector<cf32> nine(9);
  h.push(data_packet(1, 1, 20e-6 + 2e-6, nine));  // 9 samples in an 8-gate window
  EXPECT_EQ(h.rejected(VrtReject::Window), 1u);
  for (int k = 1; k < 4; ++k) h.push(pulse(1, k));
  h.free = 0;  // the chain holds every buffer: CPI 1 has none
  for (int k = 4; k < 8; ++k) h.push(pulse(1, k));
  EXPECT_EQ(h.dropped(CpiDrop::Overrun), 1u);
  h.free = 8;
  for (int k = 8; k < 12; ++k) h.push(pulse(1, k));
  ASSERT_EQ(h.out.size(), 2u);
  expect_cpi(h, h.out[0], 0);
  expect_cpi(h, h.out[1], 2);
  EXPECT_EQ(h.frames.cpis_dropped.load(), 1u);
}

// A continuous stream stamped only by a free-running sample count (no integer seconds): dated
// by the host's clock at its first packet; trailer flags: invalid data drops its CPI, an
// over-range flag is counted and the CPI processed.
TEST(VrtAssembler, FreeRunningCountAndTrailerFlags) {
  Mode m = small_mode();
  m.input.vrt.timing = PulseTiming::Continuous;
  Harness h(m);
  const std::int64_t arrival = 1700000000123456789LL;
  // 4 CPIs of 4 pulses, 20 samples a PRI: 320 samples in packets of 16 (windows at 20k + 2).
  for (std::int64_t j = 0; j < 320; j += 16) {
    std::vector<cf32> s(16);
    for (int i = 0; i < 16; ++i) {
      const std::int64_t x = j + i, k = x / 20, n = x % 20 - 2;
      s[i] = n >= 0 && n < 8 ? value(k, n) : cf32{};
    }
    std::vector<unsigned char> payload(vrt::payload_bytes(vrt::PayloadFormat::sc16(), 16));
    vrt::encode_payload(vrt::PayloadFormat::sc16(), s.data(), 16, payload.data());
    vrt::Prologue p;
    p.stream_id = 3;
    p.count = static_cast<std::uint8_t>(j / 16);
    p.tsf = vrt::Tsf::FreeRunning;
    p.fractional = 5000000 + static_cast<std::uint64_t>(j);
    vrt::Trailer t;
    if (j == 96) t.set(vrt::Trailer::ValidData, false);  // CPI 1 (samples 80-159)
    if (j == 176) t.set(vrt::Trailer::OverRange, true);  // CPI 2
    std::vector<unsigned char> out(256);
    out.resize(vrt::encode_data(p, payload.data(), payload.size(), t, out.data(), out.size()));
    h.a->push(out.data(), out.size(), arrival);
  }
  ASSERT_EQ(h.out.size(), 3u);
  expect_cpi(h, h.out[0], 0);
  expect_cpi(h, h.out[1], 2);
  expect_cpi(h, h.out[2], 3);
  EXPECT_EQ(h.out[0].timestamp_ns, arrival);
  EXPECT_EQ(h.out[2].timestamp_ns, arrival + 3 * 80000);
  EXPECT_EQ(h.dropped(CpiDrop::DigitizerFlag), 1u);
  EXPECT_EQ(h.counters.invalid_data_flags.load(), 1u);
  EXPECT_EQ(h.counters.over_range_flags.load(), 1u);
}

}  // namespace
}  // namespace radarpipe::stream
