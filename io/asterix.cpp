#include "io/asterix.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/antenna.hpp"

namespace radarpipe::io::asterix {
namespace {

constexpr std::int64_t kDayNs = 86400LL * 1000000000LL;
constexpr std::uint32_t kTodPerDay = 128u * 86400u;

void put16(std::vector<std::uint8_t>& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put24(std::vector<std::uint8_t>& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  put16(b, v & 0xFFFFu);
}

// Rounds v and clamps it to [lo, hi]; `clamped` says whether it had to.
long clamp_round(double v, long lo, long hi, bool& clamped) {
  const double r = std::nearbyint(v);
  clamped = !(r >= static_cast<double>(lo) && r <= static_cast<double>(hi));
  if (!(r >= static_cast<double>(lo))) return lo;  // NaN lands here too
  if (r > static_cast<double>(hi)) return hi;
  return static_cast<long>(r);
}

// CAT034 I034/000 message types.
constexpr std::uint8_t kNorthMarker = 1;
constexpr std::uint8_t kSectorCrossing = 2;

}  // namespace

namespace {
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}
}  // namespace

std::uint32_t time_of_day_128(std::int64_t utc_ns) {
  std::int64_t in_day = utc_ns % kDayNs;
  if (in_day < 0) in_day += kDayNs;
  // Exact integer rounding: 128 ticks per second.
  const std::int64_t ticks = (in_day * 128 + 500000000LL) / 1000000000LL;
  return static_cast<std::uint32_t>(ticks % kTodPerDay);
}

Encoder::Encoder(const AsterixConfig& config, const AntennaConfig& antenna, double range_bin_m,
                 double cpi_duration_s)
    : cfg_(config),
      antenna_(antenna),
      range_bin_m_(range_bin_m),
      cpi_ns_(std::llround(cpi_duration_s * 1e9)) {
  double span = antenna.beamwidth_deg;
  if (antenna.scan == ScanType::Rotating)
    span += 360.0 * cpi_duration_s / antenna.rotation_period_s;
  const long prl = clamp_round(span / 360.0 * 8192.0, 0, 255, runlength_clamped_);
  runlength_ = static_cast<std::uint8_t>(prl);
  record_.reserve(64);
  block_.reserve(config.max_datagram_bytes);
}

bool Encoder::encode_plot(const Detection& d, std::int64_t time_ns,
                          std::vector<std::uint8_t>& record) {
  auto drop = [&](const char* cause) {
    ++counts_.plots_dropped[cause];
    return false;
  };
  auto limited = [&](const char* cause) { ++counts_.fields_limited[cause]; };

  // I048/040: both coordinates or no plot.
  if (!std::isfinite(d.azimuth_deg)) return drop(kNoAzimuth);
  if (!(d.range_m >= 0)) return drop(kNegativeRange);
  const double rho = std::nearbyint(d.range_m / kMetresPerNm * 256.0);
  if (!(rho <= 65535.0)) return drop(kRangeBeyond256Nm);
  const auto theta = static_cast<std::uint32_t>(
      std::llround(wrap_degrees(d.azimuth_deg) / 360.0 * 65536.0) & 0xFFFF);

  // I048/120: the calculated Doppler speed, or no item when it does not fit in 10 bits.
  bool clamped = false;
  const long cal = clamp_round(d.range_rate_mps, -512, 511, clamped);
  const bool with_speed = !clamped;
  if (!with_speed) limited(kDopplerSpeedOmitted);

  // FSPEC: FRN 1-4 and 7 (010, 140, 020, 040, 130); FRN 20 (120); FRN 27 (SP).
  record.push_back(0x80 | 0x40 | 0x20 | 0x10 | 0x02 | 0x01);
  record.push_back(0x01);
  record.push_back(with_speed ? 0x05 : 0x01);
  record.push_back(0x04);
  // I048/010
  record.push_back(static_cast<std::uint8_t>(cfg_.sac));
  record.push_back(static_cast<std::uint8_t>(cfg_.sic));
  // I048/140
  put24(record, time_of_day_128(time_ns));
  // I048/020: TYP = 1 (single PSR detection), SIM, RDP, SPI, RAB = 0, no extension.
  record.push_back(0x20);
  // I048/040
  put16(record, static_cast<std::uint32_t>(rho));
  put16(record, theta);
  // I048/130: PRL and PAM present.
  record.push_back(0x10 | 0x08);
  if (runlength_clamped_) limited(kRunlengthClamped);
  record.push_back(runlength_);
  const long pam = clamp_round(d.power_db + cfg_.amplitude_offset_db, -128, 127, clamped);
  if (clamped) limited(kAmplitudeClamped);
  record.push_back(static_cast<std::uint8_t>(static_cast<std::int8_t>(pam)));
  // I048/120: CAL present; D = 0 (valid), 10-bit two's complement.
  if (with_speed) {
    record.push_back(0x80);
    put16(record, static_cast<std::uint32_t>(cal) & 0x03FFu);
  }
  // SP (radarpipe layout 1).
  bool sp_limited = false;
  record.push_back(static_cast<std::uint8_t>(kSpLength));
  record.push_back(kSpLayoutVersion);
  const long extent =
      clamp_round(static_cast<double>(d.range_extent_bins) * range_bin_m_ * 4.0, 0, 65535, clamped);
  sp_limited |= clamped;
  put16(record, static_cast<std::uint32_t>(extent));
  const long snr = clamp_round(d.snr_db * 100.0, -32767, 32767, clamped);
  sp_limited |= clamped;
  put16(record, static_cast<std::uint32_t>(snr) & 0xFFFFu);
  long rr = clamp_round(d.range_rate_mps * 64.0, -32767, 32767, clamped);
  if (clamped) {
    rr = -32768;  // not representable: the reader takes I048/120 or nothing
    sp_limited = true;
  }
  put16(record, static_cast<std::uint32_t>(rr) & 0xFFFFu);
  record.push_back(d.channel < 0 || d.channel > 254 ? 0xFF : static_cast<std::uint8_t>(d.channel));
  put16(record, std::min<std::uint32_t>(d.cells, 65535));
  // Layout 2: how the plot was declared. CAT048 has no item for it (I048/020's TYP says which
  // sensor, not which detector).
  record.push_back(d.decided_by == DecidedBy::ClutterMap ? 1 : 0);
  if (sp_limited) limited(kSpFieldLimited);
  ++counts_.plots;
  return true;
}

void Encoder::flush(std::uint8_t cat, std::vector<std::vector<std::uint8_t>>& out) {
  if (block_.empty()) return;
  std::vector<std::uint8_t> block;
  block.reserve(3 + block_.size());
  block.push_back(cat);
  put16(block, static_cast<std::uint32_t>(3 + block_.size()));
  block.insert(block.end(), block_.begin(), block_.end());
  ++counts_.datagrams;
  counts_.bytes += block.size();
  out.push_back(std::move(block));
  block_.clear();
}

void Encoder::append(std::uint8_t cat, std::vector<std::vector<std::uint8_t>>& out) {
  if (3 + block_.size() + record_.size() > cfg_.max_datagram_bytes) flush(cat, out);
  block_.insert(block_.end(), record_.begin(), record_.end());
}

void Encoder::scan_messages(std::int64_t from_ns, std::int64_t to_ns,
                            std::vector<std::vector<std::uint8_t>>& out) {
  const bool rotating = antenna_.scan == ScanType::Rotating;
  auto record = [&](std::uint8_t type, std::int64_t t, int sector) {
    record_.clear();
    // FSPEC: 010, 000, 030, [020], [041].
    std::uint8_t fspec = 0x80 | 0x40 | 0x20;
    if (sector >= 0) fspec |= 0x10;
    if (rotating) fspec |= 0x08;
    record_.push_back(fspec);
    record_.push_back(static_cast<std::uint8_t>(cfg_.sac));
    record_.push_back(static_cast<std::uint8_t>(cfg_.sic));
    record_.push_back(type);
    put24(record_, time_of_day_128(t));
    if (sector >= 0) record_.push_back(static_cast<std::uint8_t>(sector));
    if (rotating)
      put16(record_, static_cast<std::uint32_t>(
                         std::min(65535LL, std::llround(antenna_.rotation_period_s * 128.0))));
    append(kCat034, out);
    ++counts_.scan_messages;
  };
  if (!rotating) {
    // A staring beam covers its whole field every CPI: each CPI is a scan.
    record(kNorthMarker, from_ns, -1);
  } else {
    for (const SectorCrossing& c : sector_crossings(antenna_, from_ns, to_ns)) {
      if (c.sector == 0)
        record(kNorthMarker, c.time_ns, -1);
      else
        record(kSectorCrossing, c.time_ns, static_cast<int>(c.sector * (256 / antenna_.sectors)));
    }
  }
  flush(kCat034, out);
}

void Encoder::encode(const DetectionReport& report, std::vector<std::vector<std::uint8_t>>& out) {
  out.clear();
  // Saturating: a timestamp is the stream's (a frame's), and one near the int64 limits must not
  // overflow here (found by fuzz_asterix).
  const std::int64_t middle = saturating_add(report.timestamp_ns, cpi_ns_ / 2);
  if (cfg_.cat034) {
    // Crossings since the last report (at most one turn back), up to this CPI's middle. The
    // first report, or one earlier than the last (a new stream), starts at its CPI's start.
    std::int64_t from = report.timestamp_ns;
    if (antenna_.scan == ScanType::Rotating && started_ && covered_until_ns_ < middle)
      from = std::max(covered_until_ns_, saturating_add(middle, -rotation_period_ns(antenna_)));
    if (antenna_.scan == ScanType::Fixed || from < middle) scan_messages(from, middle, out);
  }
  covered_until_ns_ = middle;
  started_ = true;

  for (const Detection& d : report.detections) {
    record_.clear();
    if (encode_plot(d, report.timestamp_ns, record_)) append(kCat048, out);
  }
  flush(kCat048, out);
}

std::vector<BlockRef> split_blocks(const std::uint8_t* data, std::size_t size) {
  std::vector<BlockRef> out;
  std::size_t at = 0;
  while (at < size) {
    if (size - at < 3)
      throw std::runtime_error("ASTERIX: " + std::to_string(size - at) + " octets left at offset " +
                               std::to_string(at) + ", fewer than a data block header (3)");
    const std::size_t len = (std::size_t{data[at + 1]} << 8) | data[at + 2];
    if (len < 3 || len > size - at)
      throw std::runtime_error("ASTERIX: data block at offset " + std::to_string(at) +
                               " says LEN " + std::to_string(len) + ", expected 3 to " +
                               std::to_string(size - at));
    out.push_back({data[at], at, len});
    at += len;
  }
  return out;
}

}  // namespace radarpipe::io::asterix
