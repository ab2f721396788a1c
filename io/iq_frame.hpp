// The IQ wire format (docs/streaming.md): what a digitizer, or `radarpipe replay`, sends to
// `radarpipe run`. One frame is a two-part ZeroMQ message: an 80-byte little-endian header and
// a payload of `pulses` pulses, each `channels` x `gates` complex samples (pulse slowest, gate
// fastest). Frames may hold any number of pulses; the pulse index runs on across frames and CPI
// k of the stream is pulses [k P, (k+1) P).
//
// Header (version 1), offsets in bytes:
//    0 u32 magic 0x51495052 ("RPIQ")    40 u32 pulses in this frame
//    4 u16 version (1)                  44 u32 gates (range samples per pulse per channel)
//    6 u16 header bytes (80)            48 u32 channels
//    8 u32 stream id                    52 u16 datatype (1 cf32_le, 2 ci16_le)
//   12 u32 flags (bit 0: end of stream) 54 u16 reserved, 0
//   16 u64 sequence number              56 f32 scale: the value of one ci16 LSB (1 for cf32)
//   24 i64 timestamp, UTC ns of the     60 u32 reserved, 0
//          frame's first pulse          64 f64 centre frequency in Hz (0: the mode's)
//   32 u64 first pulse index            72 u64 reserved, 0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/cpi.hpp"

namespace radarpipe::io {

inline constexpr std::uint32_t kIqMagic = 0x51495052u;  // "RPIQ" in little-endian byte order
inline constexpr std::uint16_t kIqVersion = 1;
inline constexpr std::size_t kIqHeaderBytes = 80;
inline constexpr std::uint32_t kIqEndOfStream = 1u;
/// Limits a frame is checked against before anything is allocated or copied.
inline constexpr std::uint32_t kIqMaxGates = 1u << 24;
inline constexpr std::uint32_t kIqMaxChannels = 1024;
inline constexpr std::uint32_t kIqMaxPulses = 65536;
inline constexpr std::uint64_t kIqMaxPayloadBytes = 1ull << 30;

enum class IqDatatype : std::uint16_t { Cf32Le = 1, Ci16Le = 2 };
std::size_t bytes_per_sample(IqDatatype t);
const char* to_string(IqDatatype t);

struct IqFrameHeader {
  std::uint32_t stream_id = 0;
  std::uint32_t flags = 0;
  std::uint64_t sequence = 0;
  std::int64_t timestamp_ns = 0;
  std::uint64_t first_pulse = 0;
  std::uint32_t pulses = 0;
  std::uint32_t gates = 0;
  std::uint32_t channels = 0;
  IqDatatype datatype = IqDatatype::Cf32Le;
  float scale = 1.0f;
  double center_frequency_hz = 0.0;

  bool end_of_stream() const { return (flags & kIqEndOfStream) != 0; }
  std::uint64_t payload_bytes() const {
    return std::uint64_t{pulses} * channels * gates * bytes_per_sample(datatype);
  }
};

std::array<unsigned char, kIqHeaderBytes> encode_iq_header(const IqFrameHeader& h);

/// Why a frame was rejected; the names are the telemetry's causes.
enum class FrameReject {
  None,
  Parts,        ///< not a two-part message
  HeaderSize,   ///< header part shorter or longer than its header-bytes field says
  Magic,        ///< not "RPIQ"
  Version,      ///< a version this build does not read
  Datatype,     ///< unknown datatype code
  Dimensions,   ///< zero or absurd gates, channels or pulses, or a payload over 1 GiB
  PayloadSize,  ///< payload length disagrees with pulses x channels x gates x sample size
  Shape,        ///< a valid frame whose gates or channels disagree with the mode
  Sequence,     ///< a sequence number behind the stream's, or far ahead of it
  Timestamp,    ///< a timestamp whose pulses would run past the times int64 ns can hold
  Stream,       ///< a frame of another stream while one is being received
};
inline constexpr int kFrameRejectCauses = 12;
const char* to_string(FrameReject r);

struct FrameCheck {
  FrameReject reject = FrameReject::None;
  std::string message;  ///< names the field, the value and what was expected
  bool ok() const { return reject == FrameReject::None; }
};

/// Decodes and checks a header part against the payload part's size (no mode needed).
FrameCheck decode_iq_frame(const void* header, std::size_t header_size, std::size_t payload_size,
                           IqFrameHeader& out);

/// Converts pulse `pulse` of a checked frame's payload, channel `channel`, to cf32 in `out`
/// (gates samples).
void unpack_pulse(const IqFrameHeader& h, const void* payload, std::size_t pulse,
                  std::size_t channel, cf32* out);

}  // namespace radarpipe::io
