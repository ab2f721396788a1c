// The message between two segments of the chain (docs/streaming.md "Segment links"): a two-part
// ZeroMQ message, a 96-byte little-endian header and the intermediate data of one CPI (the
// pulse-compressed cube or the power maps). Over inproc:// the payload part is the sender's
// pooled buffer itself (zero-copy); over ipc:// and tcp:// ZeroMQ copies it onto the wire.
//
// Header (version 1), offsets in bytes:
//    0 u32 magic 0x4b4c5052 ("RPLK")     40 u32 dim0: channels | maps
//    4 u16 version (1)                   44 u32 dim1: pulses | Doppler bins
//    6 u16 header bytes (96)             48 u32 dim2: range gates
//    8 u16 kind (see LinkKind)           52 u32 reserved, 0
//   10 u16 reserved, 0                   56 f64 centre frequency in Hz (0: the mode's)
//   12 u32 stream id                     64 u64 CPIs dropped at the ingest so far
//   16 u64 CPI number                    72 u64 IQ frames rejected at the ingest so far
//   24 i64 timestamp, UTC ns             80 u64 reserved, 0
//   32 i64 ingest time, UTC ns (when     88 u64 reserved, 0
//          the CPI's last frame came)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace radarpipe::io {

inline constexpr std::uint32_t kLinkMagic = 0x4b4c5052u;  // "RPLK"
inline constexpr std::uint16_t kLinkVersion = 1;
inline constexpr std::size_t kLinkHeaderBytes = 96;

enum class LinkKind : std::uint16_t {
  Cube = 1,         ///< cf32 x[c][p][n]: the IQ cube or the pulse-compressed cube
  Maps = 2,         ///< float P[map][d][m]: square-law power maps after Doppler processing
  EndOfStream = 3,  ///< the IQ stream ended (a frame flagged end of stream); no payload
  Shutdown = 4,     ///< the process is stopping: finish what came before, then exit; no payload
};

struct LinkHeader {
  LinkKind kind = LinkKind::Cube;
  std::uint32_t stream_id = 0;
  std::uint64_t cpi = 0;
  std::int64_t timestamp_ns = 0;
  std::int64_t ingest_ns = 0;
  std::uint32_t dims[3] = {0, 0, 0};
  double center_frequency_hz = 0.0;
  std::uint64_t cpis_dropped = 0;
  std::uint64_t frames_rejected = 0;

  std::uint64_t payload_bytes() const;
};

std::array<unsigned char, kLinkHeaderBytes> encode_link_header(const LinkHeader& h);

/// Decodes a header part and checks it against the payload size; returns an empty string or
/// what is wrong (field, value, expected).
std::string decode_link_header(const void* header, std::size_t header_size,
                               std::size_t payload_size, LinkHeader& out);

}  // namespace radarpipe::io
