// ASTERIX CAT048/CAT034 encoding: a golden record computed by hand from the item layouts, items
// refused rather than wrapped when out of range, data blocks within the datagram limit, sector
// crossings against the scan's closed form, and the UDP sender over loopback.
#include "io/asterix.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/antenna.hpp"
#include "io/time.hpp"
#include "io/udp_sender.hpp"

namespace radarpipe::io::asterix {
namespace {

using Bytes = std::vector<std::uint8_t>;

AsterixConfig config() {
  AsterixConfig c;
  c.present = true;
  c.sac = 25;
  c.sic = 201;
  return c;
}

AntennaConfig fixed_beam(double azimuth, double beamwidth) {
  AntennaConfig a;
  a.present = true;
  a.scan = ScanType::Fixed;
  a.azimuth_deg = azimuth;
  a.beamwidth_deg = beamwidth;
  return a;
}

AntennaConfig rotating(double azimuth, double period_s, std::size_t sectors, int direction) {
  AntennaConfig a;
  a.present = true;
  a.scan = ScanType::Rotating;
  a.azimuth_deg = azimuth;
  a.beamwidth_deg = 1.5;
  a.rotation_period_s = period_s;
  a.sectors = sectors;
  a.direction = direction;
  return a;
}

Detection detection(double range_m, double az, double rate) {
  Detection d;
  d.range_m = range_m;
  d.azimuth_deg = az;
  d.range_rate_mps = rate;
  d.power_db = 20;
  d.snr_db = 15;
  d.range_extent_bins = 2;
  d.cells = 3;
  return d;
}

constexpr double kRangeBin = 7.49481145;  // c / (2 * 20 MHz)

TEST(Asterix, GoldenRecordComputedByHand) {
  const std::int64_t t = parse_rfc3339_ns("2026-11-21T12:00:00.5Z");
  Encoder enc(config(), fixed_beam(90.0, 2.0), kRangeBin, 0.0128);
  DetectionReport r;
  r.timestamp_ns = t;
  Detection d = detection(18520.0, 90.0, -67.6);  // 10 NM due east, approaching
  d.power_db = 34.4;
  d.snr_db = 33.07;
  d.range_extent_bins = 3;
  d.cells = 6;
  d.channel = -1;
  r.detections.push_back(d);
  std::vector<Bytes> out;
  enc.encode(r, out);
  ASSERT_EQ(out.size(), 2u);
  // CAT034 north marker: FSPEC 010 000 030; SAC 25 SIC 201; type 1; ToD 43200.5 s * 128.
  EXPECT_EQ(out[0], (Bytes{34, 0x00, 0x0A, 0xE0, 0x19, 0xC9, 0x01, 0x54, 0x60, 0x40}));
  const Bytes expected = {
      48,   0x00, 0x23,        // CAT 048, LEN 35
      0xF3, 0x01, 0x05, 0x04,  // FSPEC: 010 140 020 040 130 | - | 120 | SP
      0x19, 0xC9,              // I048/010
      0x54, 0x60, 0x40,        // I048/140: 5529664 / 128 s
      0x20,                    // I048/020: TYP 1 single PSR
      0x0A, 0x00, 0x40, 0x00,  // I048/040: RHO 2560/256 NM, THETA 16384 -> 90 deg
      0x18, 0x2E, 0x22,        // I048/130: PRL 46 (2 deg), PAM 34 dBm
      0x80, 0x03, 0xBC,        // I048/120: CAL -68 m/s in 10 bits
      0x0C, 0x02,              // SP: length 12, layout 2
      0x00, 0x5A,              // range extent 3 bins = 22.48 m -> 90 quarter metres
      0x0C, 0xEB,              // SNR 33.07 dB -> 3307
      0xEF, 0x1A,              // range rate -67.6 m/s * 64 = -4326
      0xFF,                    // combined map
      0x00, 0x06,              // cells
      0x00};                   // decided by the CFAR
  EXPECT_EQ(out[1], expected);
  EXPECT_EQ(enc.counts().plots, 1u);
  EXPECT_EQ(enc.counts().scan_messages, 1u);
  EXPECT_EQ(enc.counts().datagrams, 2u);
  EXPECT_EQ(enc.counts().bytes, 10u + 35u);
}

TEST(Asterix, TimeOfDayRoundsToTheLsbAndWrapsAtMidnight) {
  const std::int64_t midnight = parse_rfc3339_ns("2026-11-21T00:00:00Z");
  EXPECT_EQ(time_of_day_128(midnight), 0u);
  EXPECT_EQ(time_of_day_128(midnight + 3906249), 0u);  // 1 ns below half an LSB (1/256 s)
  EXPECT_EQ(time_of_day_128(midnight + 3906250), 1u);  // half an LSB rounds up
  EXPECT_EQ(time_of_day_128(midnight + 7812500), 1u);  // exactly 1/128 s
  EXPECT_EQ(time_of_day_128(midnight - 1), 0u);        // 23:59:59.999999999 rounds to midnight
  EXPECT_EQ(time_of_day_128(midnight - 7812500), 128u * 86400u - 1u);
  EXPECT_EQ(time_of_day_128(midnight + 86400LL * 1000000000LL + 7812500), 1u);
}

// The CAT048 record's FSPEC octets and where the I048/040 RHO is, read independently.
struct Parsed {
  std::uint32_t rho = 0, theta = 0;
  bool speed = false;
  int cal = 0;
  int pam = 0;
};
Parsed parse_record(const Bytes& b, std::size_t& at) {
  Parsed p;
  const std::uint8_t f1 = b[at], f2 = b[at + 1], f3 = b[at + 2], f4 = b[at + 3];
  EXPECT_EQ(f1, 0xF3);
  EXPECT_EQ(f2, 0x01);
  EXPECT_TRUE(f3 == 0x05 || f3 == 0x01);
  EXPECT_EQ(f4, 0x04);
  p.speed = f3 == 0x05;
  at += 4 + 2 + 3 + 1;
  p.rho = (std::uint32_t{b[at]} << 8) | b[at + 1];
  p.theta = (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
  at += 4;
  EXPECT_EQ(b[at], 0x18);
  p.pam = static_cast<std::int8_t>(b[at + 2]);
  at += 3;
  if (p.speed) {
    EXPECT_EQ(b[at], 0x80);
    int v = ((b[at + 1] & 0x03) << 8) | b[at + 2];
    if (v >= 512) v -= 1024;
    p.cal = v;
    at += 3;
  }
  EXPECT_EQ(b[at], kSpLength);
  at += kSpLength;
  return p;
}

TEST(Asterix, OutOfRangeValuesAreDroppedOrOmittedAndCountedNeverWrapped) {
  AsterixConfig c = config();
  c.cat034 = false;
  Encoder enc(c, fixed_beam(10.0, 2.0), kRangeBin, 0.01);
  const double max_range = 65535.0 / 256.0 * kMetresPerNm;  // RHO's largest value
  DetectionReport r;
  r.timestamp_ns = parse_rfc3339_ns("2026-11-21T12:00:00Z");
  r.detections = {detection(max_range, 10, 5),             // the last RHO: kept
                  detection(256.0 * kMetresPerNm, 10, 5),  // 256 NM: would wrap to 0
                  detection(300.0 * kMetresPerNm, 10, 5),  // beyond
                  detection(-1.0, 10, 5),                  // negative
                  detection(1000.0, std::nan(""), 5),      // no azimuth
                  detection(2000.0, 10, 511.4),            // the last CAL: kept
                  detection(3000.0, 10, -512.4),           // the first CAL: kept
                  detection(4000.0, 10, 600.0),            // beyond 10 bits: no I048/120
                  detection(5000.0, 10, -900.0)};          // likewise
  r.detections[5].power_db = 250;                          // PAM clamps to 127
  r.detections[6].power_db = -200;                         // PAM clamps to -128
  std::vector<Bytes> out;
  enc.encode(r, out);
  ASSERT_EQ(out.size(), 1u);
  const Counts& n = enc.counts();
  EXPECT_EQ(n.plots, 5u);
  EXPECT_EQ(n.plots_dropped.at(kRangeBeyond256Nm), 2u);
  EXPECT_EQ(n.plots_dropped.at(kNegativeRange), 1u);
  EXPECT_EQ(n.plots_dropped.at(kNoAzimuth), 1u);
  EXPECT_EQ(n.fields_limited.at(kDopplerSpeedOmitted), 2u);
  EXPECT_EQ(n.fields_limited.at(kAmplitudeClamped), 2u);
  const Bytes& b = out[0];
  std::size_t at = 3;
  std::vector<Parsed> recs;
  while (at < b.size()) recs.push_back(parse_record(b, at));
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[0].rho, 65535u);
  EXPECT_TRUE(recs[1].speed);
  EXPECT_EQ(recs[1].cal, 511);
  EXPECT_EQ(recs[1].pam, 127);
  EXPECT_TRUE(recs[2].speed);
  EXPECT_EQ(recs[2].cal, -512);
  EXPECT_EQ(recs[2].pam, -128);
  EXPECT_FALSE(recs[3].speed);
  EXPECT_FALSE(recs[4].speed);
  EXPECT_EQ(recs[4].rho, static_cast<std::uint32_t>(std::lround(5000.0 / kMetresPerNm * 256)));
  EXPECT_EQ(recs[0].theta, static_cast<std::uint32_t>(std::lround(10.0 / 360.0 * 65536)));
}

TEST(Asterix, BlocksStayWithinTheDatagramLimitAndKeepEveryPlotInOrder) {
  std::mt19937 rng(48);
  std::uniform_real_distribution<double> range(0, 200 * kMetresPerNm), az(0, 360), v(-400, 400);
  for (std::size_t limit : {64u, 66u, 67u, 100u, 1400u, 65507u}) {
    AsterixConfig c = config();
    c.max_datagram_bytes = limit;
    c.cat034 = false;
    Encoder enc(c, fixed_beam(0.0, 3.0), kRangeBin, 0.01);
    DetectionReport r;
    r.timestamp_ns = parse_rfc3339_ns("2026-11-21T08:00:00Z");
    for (int i = 0; i < 300; ++i) {
      // In sequence (the arguments' order of evaluation is unspecified), gcc's order.
      const double vel = v(rng), azimuth = az(rng), rng_m = range(rng);
      r.detections.push_back(detection(rng_m, azimuth, vel));
    }
    std::vector<Bytes> out;
    enc.encode(r, out);
    std::size_t k = 0;
    for (const Bytes& b : out) {
      ASSERT_LE(b.size(), limit);
      ASSERT_EQ(b[0], 48);
      ASSERT_EQ((std::size_t{b[1]} << 8 | b[2]), b.size());
      const auto blocks = split_blocks(b.data(), b.size());
      ASSERT_EQ(blocks.size(), 1u);
      std::size_t at = 3;
      while (at < b.size()) {
        const Parsed p = parse_record(b, at);
        const Detection& d = r.detections[k++];
        EXPECT_EQ(p.rho, static_cast<std::uint32_t>(std::lround(d.range_m / kMetresPerNm * 256)));
        EXPECT_EQ(p.cal, p.speed ? static_cast<int>(std::lround(d.range_rate_mps)) : 0);
      }
    }
    EXPECT_EQ(k, r.detections.size()) << "limit " << limit;
    EXPECT_EQ(enc.counts().datagrams, out.size());
    // Records of 32 octets: one per block up to 66 octets, two from 67.
    if (limit == 66) {
      EXPECT_EQ(out.size(), 300u);
    }
    if (limit == 67) {
      EXPECT_EQ(out.size(), 150u);
    }
    if (limit == 65507) {
      EXPECT_EQ(out.size(), 1u);
    }
  }
}

TEST(Asterix, SplitBlocksRejectsInconsistentLengths) {
  const Bytes two = {48, 0, 4, 0xAA, 34, 0, 3};
  const auto refs = split_blocks(two.data(), two.size());
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[1].category, 34);
  EXPECT_EQ(refs[1].offset, 4u);
  const Bytes bad = {48, 0, 9, 1, 2};
  try {
    split_blocks(bad.data(), bad.size());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("offset 0 says LEN 9, expected 3 to 5"), std::string::npos)
        << e.what();
  }
}

TEST(Antenna, SectorCrossingsMatchTheScanEquation) {
  for (int dir : {1, -1}) {
    const AntennaConfig a = rotating(30.0, 1.0, 8, dir);
    const std::int64_t t0 = parse_rfc3339_ns("2026-11-21T12:00:00.123Z");
    const std::int64_t t1 = t0 + 2500000000LL;
    const auto xs = sector_crossings(a, t0, t1);
    ASSERT_EQ(xs.size(), 20u);  // 2.5 turns of 8 sectors
    for (std::size_t i = 0; i < xs.size(); ++i) {
      // The scan equation written out: az(t) = 30 + dir * 360 * (t mod P) / P.
      const double turn = static_cast<double>(xs[i].time_ns % 1000000000LL) / 1e9;
      const double az = std::fmod(30.0 + dir * 360.0 * turn + 720.0, 360.0);
      const double boundary = 45.0 * xs[i].sector;
      const double diff = std::remainder(az - boundary, 360.0);
      EXPECT_NEAR(diff, 0.0, 1e-6) << "crossing " << i;
      EXPECT_GE(xs[i].time_ns, t0);
      EXPECT_LT(xs[i].time_ns, t1);
      if (i) {
        EXPECT_EQ(xs[i].time_ns - xs[i - 1].time_ns, 125000000LL);
      }
      if (i) {
        EXPECT_EQ(xs[i].sector, (xs[i - 1].sector + (dir > 0 ? 1u : 7u)) % 8u);
      }
    }
    EXPECT_NEAR(beam_azimuth_deg(a, xs[0].time_ns, -1), 45.0 * xs[0].sector, 1e-6);
  }
  EXPECT_TRUE(sector_crossings(fixed_beam(0, 1), 0, 1000000000LL).empty());
}

TEST(Antenna, FixedBeamsPerChannel) {
  AntennaConfig a = fixed_beam(100.0, 5.0);
  a.channel_azimuths_deg = {80.0, 120.0};
  EXPECT_EQ(beam_azimuth_deg(a, 0, -1), 100.0);
  EXPECT_EQ(beam_azimuth_deg(a, 0, 0), 80.0);
  EXPECT_EQ(beam_azimuth_deg(a, 0, 1), 120.0);
}

// A rotating beam over three turns, with CPIs missing: every north marker and sector crossing
// arrives once, in time order, each before the plots of the CPI whose middle follows it.
TEST(Asterix, ScanMessagesFrameTheTurnsEvenWithDroppedCpis) {
  const AntennaConfig a = rotating(0.0, 0.5, 4, 1);
  Encoder enc(config(), a, kRangeBin, 0.0128);
  const std::int64_t start = parse_rfc3339_ns("2026-11-21T12:00:00.3Z");
  std::vector<std::pair<int, std::int64_t>> seen;  // (message type, ToD ticks)
  std::int64_t last_tod = -1;
  for (int cpi = 0; cpi < 118; ++cpi) {                     // 118 * 12.8 ms = 1.51 s, three turns
    if (cpi % 7 == 3 || (cpi >= 40 && cpi < 55)) continue;  // dropped CPIs
    DetectionReport r;
    r.timestamp_ns = start + cpi * 12800000LL;
    r.detections.push_back(detection(5000, beam_azimuth_deg(a, r.timestamp_ns + 6400000, -1), 3));
    std::vector<Bytes> out;
    enc.encode(r, out);
    for (const Bytes& b : out) {
      if (b[0] != 34) continue;
      std::size_t at = 3;
      while (at < b.size()) {
        const std::uint8_t fspec = b[at];
        const int type = b[at + 3];
        const std::int64_t tod = (b[at + 4] << 16) | (b[at + 5] << 8) | b[at + 6];
        EXPECT_GE(tod, last_tod);
        last_tod = tod;
        seen.push_back({type, tod});
        EXPECT_EQ(type == 2, (fspec & 0x10) != 0);  // I034/020 only in sector crossings
        EXPECT_TRUE(fspec & 0x08);                  // I034/041 rotation period
        at += 7 + ((fspec & 0x10) ? 1 : 0) + 2;
        const std::size_t p = at - 2;
        EXPECT_EQ((b[p] << 8) | b[p + 1], 64);  // 0.5 s * 128
      }
    }
  }
  // Turns start at whole half seconds; the first CPI starts 0.3 s into one, the last (117)
  // has its middle at 1.804 s. Boundaries every 0.125 s from 0.375 s (270 deg) to 1.75 s
  // (180 deg): north at 0.5, 1.0 and 1.5 s, nine sector crossings, the one at 0.875 s inside
  // the dropped CPIs 40..54 included.
  int north = 0, sectors = 0;
  for (const auto& s : seen) (s.first == 1 ? north : sectors)++;
  EXPECT_EQ(north, 3);
  EXPECT_EQ(sectors, 9);
  EXPECT_EQ(enc.counts().scan_messages, seen.size());
}

// Timestamps at the int64 limits (a stream's frames carry any): the CPI's middle saturates
// instead of overflowing (found by fuzz_asterix; UBSan replays its input), the plot is still
// written, and a rotating beam's scan messages stay within one turn.
TEST(Asterix, TimestampsAtTheLimitsEncode) {
  const AntennaConfig a = rotating(0.0, 0.5, 4, 1);
  Encoder enc(config(), a, kRangeBin, 0.0128);
  for (const std::int64_t t :
       {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
        std::int64_t{0}, std::numeric_limits<std::int64_t>::max() - 1}) {
    DetectionReport r;
    r.timestamp_ns = t;
    r.detections.push_back(detection(5000, 10.0, 3));
    const std::uint64_t plots = enc.counts().plots, scans = enc.counts().scan_messages;
    std::vector<Bytes> out;
    enc.encode(r, out);
    EXPECT_EQ(enc.counts().plots, plots + 1) << t;
    EXPECT_LE(enc.counts().scan_messages - scans, 5u) << t;  // at most one turn of 4 sectors
    for (const Bytes& b : out) EXPECT_EQ(split_blocks(b.data(), b.size()).size(), 1u);
  }
}

TEST(UdpSender, DeliversDatagramsOverLoopback) {
  const int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(rx, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(rx, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  socklen_t len = sizeof sin;
  ASSERT_EQ(::getsockname(rx, reinterpret_cast<sockaddr*>(&sin), &len), 0);
  const std::string dest = "udp://127.0.0.1:" + std::to_string(ntohs(sin.sin_port));
  UdpSender tx(dest, 1, "");
  EXPECT_FALSE(tx.multicast());
  const Bytes msg = {48, 0, 5, 1, 2};
  ASSERT_TRUE(tx.send(msg.data(), msg.size()));
  Bytes got(100);
  const ssize_t n = ::recv(rx, got.data(), got.size(), 0);
  ::close(rx);
  ASSERT_EQ(n, 5);
  got.resize(5);
  EXPECT_EQ(got, msg);
}

// Multicast, the ASTERIX convention: a group joined on the loopback interface, the sender told to
// leave from it (asterix.interface), TTL 1.
TEST(UdpSender, DeliversToAMulticastGroup) {
  const int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(rx, 0);
  const int one = 1;
  ::setsockopt(rx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  ::inet_pton(AF_INET, "239.77.1.2", &sin.sin_addr);
  ASSERT_EQ(::bind(rx, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  socklen_t len = sizeof sin;
  ASSERT_EQ(::getsockname(rx, reinterpret_cast<sockaddr*>(&sin), &len), 0);
  ip_mreq mreq{};
  ::inet_pton(AF_INET, "239.77.1.2", &mreq.imr_multiaddr);
  ::inet_pton(AF_INET, "127.0.0.1", &mreq.imr_interface);
  if (::setsockopt(rx, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
    ::close(rx);
    GTEST_SKIP() << "this host cannot join a multicast group on the loopback interface";
  }
  timeval tv{2, 0};
  ::setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  UdpSender tx("udp://239.77.1.2:" + std::to_string(ntohs(sin.sin_port)), 1, "127.0.0.1");
  ASSERT_TRUE(tx.multicast());
  const Bytes msg = {34, 0, 3};
  ASSERT_TRUE(tx.send(msg.data(), msg.size()));
  Bytes got(100);
  const ssize_t n = ::recv(rx, got.data(), got.size(), 0);
  ::close(rx);
  ASSERT_EQ(n, 3) << "no datagram from the group within 2 s";
  got.resize(3);
  EXPECT_EQ(got, msg);
}

TEST(UdpSender, BadDestinationsAreNamed) {
  auto message = [](const std::string& dest, const std::string& iface) {
    try {
      UdpSender s(dest, 1, iface);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("tcp://127.0.0.1:1", "").find("'tcp://127.0.0.1:1': expected udp://HOST:PORT"),
            std::string::npos);
  EXPECT_NE(message("udp://127.0.0.1", "").find("expected udp://HOST:PORT"), std::string::npos);
  EXPECT_NE(message("udp://127.0.0.1:70000", "").find("port '70000' is not in 1..65535"),
            std::string::npos);
  EXPECT_NE(message("udp://no.such.host.invalid:8600", "").find("cannot resolve"),
            std::string::npos);
  EXPECT_NE(message("udp://239.1.2.3:8600", "eth0").find("asterix.interface: 'eth0'"),
            std::string::npos);
}

}  // namespace
}  // namespace radarpipe::io::asterix
