// ASTERIX output (docs/trackers.md): EUROCONTROL Category 048 monoradar target reports for each
// detection and Category 034 service messages (north markers, sector crossings) that frame the
// scans. Big-endian, one data block (CAT, LEN, records) per UDP datagram.
//
// Items encoded per plot: I048/010 (SAC/SIC), I048/140 (time of day, 1/128 s), I048/020 (TYP =
// single PSR detection), I048/040 (RHO 1/256 NM, THETA 360/2^16 deg), I048/130 (PRL azimuth
// run length 360/2^13 deg, PAM amplitude dBm), I048/120 (calculated Doppler speed, 1 m/s,
// positive receding) and the SP field with radarpipe's layout (range extent, SNR, fine range
// rate, channel, cells). A value outside an item's range is never wrapped: a plot that cannot
// be placed (range beyond 256 NM, no azimuth) is dropped and counted; an optional item that
// does not fit is omitted and counted; a clamped characteristic is counted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/detection.hpp"
#include "core/mode.hpp"

namespace radarpipe::io::asterix {

inline constexpr double kMetresPerNm = 1852.0;
inline constexpr std::uint8_t kCat048 = 48;
inline constexpr std::uint8_t kCat034 = 34;
inline constexpr std::uint8_t kSpLayoutVersion = 2;  ///< first octet after the SP length
inline constexpr std::size_t kSpLength = 12;         ///< SP octets, its length octet included

/// Causes a plot is dropped for, and causes an item is omitted or clamped for.
inline constexpr const char* kRangeBeyond256Nm = "range_beyond_256nm";
inline constexpr const char* kNegativeRange = "negative_range";
inline constexpr const char* kNoAzimuth = "no_azimuth";
inline constexpr const char* kDopplerSpeedOmitted = "doppler_speed_omitted";  ///< |v| > 511 m/s
inline constexpr const char* kAmplitudeClamped = "amplitude_clamped";  ///< PAM beyond -128..127
inline constexpr const char* kRunlengthClamped = "runlength_clamped";  ///< PRL beyond 11.2 deg
inline constexpr const char* kSpFieldLimited = "sp_field_limited";     ///< an SP value saturated

/// Time of day in 1/128 s since UTC midnight (I048/140, I034/030), rounded, 0 .. 128*86400-1.
std::uint32_t time_of_day_128(std::int64_t utc_ns);

struct Counts {
  std::uint64_t plots = 0;          ///< CAT048 records written
  std::uint64_t scan_messages = 0;  ///< CAT034 records written
  std::uint64_t datagrams = 0;      ///< data blocks written
  std::uint64_t bytes = 0;
  std::map<std::string, std::uint64_t> plots_dropped;   ///< by cause
  std::map<std::string, std::uint64_t> fields_limited;  ///< by cause
};

class Encoder {
 public:
  /// `range_bin_m`: c / (2 fs), for range extents; `cpi_duration_s`: P * PRI. The configs must
  /// be valid (Mode::validate), with an antenna.
  Encoder(const AsterixConfig& config, const AntennaConfig& antenna, double range_bin_m,
          double cpi_duration_s);

  /// The datagrams for one report, in time order: the CAT034 messages due up to the CPI's
  /// middle (a rotating beam's boundary crossings since the last report, so dropped CPIs lose
  /// none; a fixed beam's north marker at the CPI's start), then its plots in CAT048 blocks of
  /// at most max_datagram_bytes. `out` is cleared first.
  void encode(const DetectionReport& report, std::vector<std::vector<std::uint8_t>>& out);

  /// One CAT048 record (FSPEC and items) for `d` at `time_ns`, appended to `record`. False, with
  /// the cause counted and nothing appended, when the plot cannot be encoded.
  bool encode_plot(const Detection& d, std::int64_t time_ns, std::vector<std::uint8_t>& record);

  const Counts& counts() const { return counts_; }

 private:
  // CAT034 records for [from_ns, to_ns), each appended to the block under construction.
  void scan_messages(std::int64_t from_ns, std::int64_t to_ns,
                     std::vector<std::vector<std::uint8_t>>& out);
  // Appends record_ to block_ of category `cat`, first closing the block if it would outgrow
  // a datagram.
  void append(std::uint8_t cat, std::vector<std::vector<std::uint8_t>>& out);
  void flush(std::uint8_t cat, std::vector<std::vector<std::uint8_t>>& out);

  AsterixConfig cfg_;
  AntennaConfig antenna_;
  double range_bin_m_;
  std::int64_t cpi_ns_;
  std::uint8_t runlength_;  ///< PRL: beamwidth plus the beam's travel during one CPI
  bool runlength_clamped_;
  std::int64_t covered_until_ns_ = 0;  ///< CAT034 messages are sent up to here
  bool started_ = false;
  Counts counts_;
  std::vector<std::uint8_t> record_;  ///< the record being written (reused)
  std::vector<std::uint8_t> block_;   ///< records of the block being filled (reused)
};

/// Every data block in a byte stream of concatenated blocks (a .ast file, a datagram): (category,
/// offset, length). Throws std::runtime_error naming the offset when a length is inconsistent.
struct BlockRef {
  std::uint8_t category;
  std::size_t offset;
  std::size_t length;
};
std::vector<BlockRef> split_blocks(const std::uint8_t* data, std::size_t size);

}  // namespace radarpipe::io::asterix
