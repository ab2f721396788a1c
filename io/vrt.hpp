// ANSI/VITA 49.2 (VRT) packets: the codec under the VRT source (docs/streaming.md "VITA 49").
// Every field is read from outside bytes: a packet is taken only when its size field agrees with
// the bytes that arrived and with the fields its header announces; each rejection has a cause
// (vrt::Error) and a message naming the field, its value and what was expected.
//
// Layout (VITA 49.2-2017 section 5; every word big-endian):
//   header  | type:4 | C:1 | T/-:1 | N:1 | S/TSM:1 | TSI:2 | TSF:2 | count:4 | size:16 |
//   [stream ID]             types 1, 3 and every context and command type
//   [class ID: 2 words]     C: pad bits:5, reserved:3, OUI:24 | information code:16, packet code:16
//   [integer timestamp]     TSI != 0: UTC, GPS or other seconds
//   [fractional: 2 words]   TSF != 0: sample count, picoseconds, or a free-running count
//   payload                 data: samples in the payload format; context: CIF0 and its fields
//   [trailer]               data packets with T: enables:12 | indicators:12 | E:1 | count:7
// size counts every word of the packet, the header included.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace radarpipe::io::vrt {

enum class PacketType : std::uint8_t {
  Signal = 0,            ///< signal data without a stream ID
  SignalWithStream = 1,  ///< signal data with a stream ID
  Extension = 2,
  ExtensionWithStream = 3,
  Context = 4,
  ExtensionContext = 5,
  Command = 6,
  ExtensionCommand = 7,
};
enum class Tsi : std::uint8_t { None = 0, Utc = 1, Gps = 2, Other = 3 };
enum class Tsf : std::uint8_t { None = 0, SampleCount = 1, RealTime = 2, FreeRunning = 3 };

struct ClassId {
  std::uint8_t pad_bits = 0;  ///< bits of the payload's last word that hold no data (49.2)
  std::uint32_t oui = 0;      ///< 24 bits
  std::uint16_t information_code = 0, packet_code = 0;
};

/// The data trailer's state indicators (section 5.1.6): an indicator means something only
/// where its enable bit is set.
struct Trailer {
  enum Bit : unsigned {
    CalibratedTime = 11,
    ValidData = 10,
    ReferenceLock = 9,
    Agc = 8,
    DetectedSignal = 7,
    SpectralInversion = 6,
    OverRange = 5,
    SampleLoss = 4,
  };
  std::uint16_t enables = 0;     ///< 12 bits: bit 11 calibrated time .. bits 3-0 user-defined
  std::uint16_t indicators = 0;  ///< the same positions
  bool context_count_enabled = false;
  std::uint8_t context_count = 0;  ///< 7 bits: associated context packets
  /// Enabled and set.
  bool is(Bit b) const { return ((enables & indicators) >> b & 1u) != 0; }
  /// Enabled and clear.
  bool is_not(Bit b) const { return ((enables & ~indicators) >> b & 1u) != 0; }
  void set(Bit b, bool v) {
    enables = static_cast<std::uint16_t>(enables | 1u << b);
    indicators = static_cast<std::uint16_t>(v ? indicators | 1u << b : indicators & ~(1u << b));
  }
};

/// Why bytes are not a packet this codec takes.
enum class Error : std::uint8_t {
  None,
  Short,        ///< fewer bytes than a header, or than the size field says
  Size,         ///< the size field: 0, or fewer words than its own fields, or more than arrived
  Type,         ///< a reserved packet type (8-15)
  Unsupported,  ///< command packets (control, not samples); formats: PayloadFormat::supported
  Context,      ///< a context packet's CIF0 fields run past its size
};
const char* to_string(Error);

struct Packet {
  PacketType type = PacketType::Signal;
  bool class_id_present = false;
  bool trailer_present = false;  ///< data packets only (bit 26)
  bool not_v49_0 = false;        ///< bit 25: the packet uses fields V49.0 lacks
  bool bit24 = false;            ///< data: spectrum (S); context: timestamp mode (TSM)
  Tsi tsi = Tsi::None;
  Tsf tsf = Tsf::None;
  std::uint8_t count = 0;        ///< modulo 16 per stream
  std::uint16_t size_words = 0;  ///< the whole packet
  bool stream_id_present = false;
  std::uint32_t stream_id = 0;
  ClassId class_id;
  std::uint32_t integer_seconds = 0;
  std::uint64_t fractional = 0;
  std::size_t payload_offset = 0;  ///< bytes from the header
  std::size_t payload_bytes = 0;
  Trailer trailer;

  bool is_data() const {
    return type == PacketType::Signal || type == PacketType::SignalWithStream;
  }
  bool is_context() const { return type == PacketType::Context; }
  std::size_t bytes() const { return std::size_t{size_words} * 4; }
};

/// Parses one packet from the start of `bytes` (a datagram, or a TCP stream's next packet:
/// then `available` may hold more than one packet and the packet is packet.bytes() long).
/// Returns Error::None and fills `out`, or the error (out partly filled: its header fields).
Error parse(const unsigned char* bytes, std::size_t available, Packet& out);
/// The message for a rejection of those bytes: the field, its value and what was expected.
std::string describe(Error e, const unsigned char* bytes, std::size_t available);

/// The Data Packet Payload Format field (section 9.13.3), what this codec reads: signed
/// fixed-point complex Cartesian items of 8, 12 or 16 bits (12 link-efficient, packed without
/// gaps; 8 and 16 in either packing, which then agree), or IEEE-754 single-precision floats;
/// no event or channel tags, no repeats.
struct PayloadFormat {
  bool link_efficient = false;   ///< bit 31: items packed across word boundaries
  std::uint8_t sample_type = 1;  ///< 0 real, 1 complex Cartesian, 2 complex polar
  std::uint8_t item_format = 0;  ///< 0 signed fixed point, 0x0E IEEE-754 single
  bool repeat = false;
  std::uint8_t event_tag_bits = 0, channel_tag_bits = 0, fraction_bits = 0;
  std::uint8_t field_bits = 16;  ///< item packing field size
  std::uint8_t item_bits = 16;   ///< data item size
  std::uint16_t repeat_count = 1, vector_size = 1;

  static PayloadFormat sc8();
  static PayloadFormat sc12();  ///< link-efficient
  static PayloadFormat sc16();
  static PayloadFormat cf32();
  /// DIFI's (IEEE-ISTO 4900-2021): link-efficient, 8 or 16-bit items, one field per complex
  /// sample (word 0 0xA00003C7 or 0xA00007CF); the same bytes as sc8 and sc16.
  static PayloadFormat difi(unsigned bits);
  /// Whether samples in `o` are laid out as in this format (the words may still differ).
  bool same_samples(const PayloadFormat& o) const;
  std::uint32_t word0() const;
  std::uint32_t word1() const;
  static PayloadFormat from_words(std::uint32_t w0, std::uint32_t w1);
  /// Whether the codec converts this format; otherwise why not (the field and its value).
  bool supported(std::string* why = nullptr) const;
  /// Bits one complex sample takes in the payload.
  unsigned sample_bits() const;
  bool operator==(const PayloadFormat& o) const {
    return word0() == o.word0() && word1() == o.word1();
  }
};

/// Complex samples in a payload of `bytes` less `pad_bits` (the class ID's count, 0 without).
std::size_t payload_samples(const PayloadFormat& f, std::size_t bytes, unsigned pad_bits = 0);
/// Converts `samples` samples to complex float: integer items as their values (full scale
/// 2^(bits-1)), floats as they are. The payload must hold them (payload_samples).
void decode_payload(const PayloadFormat& f, const unsigned char* payload, std::size_t samples,
                    std::complex<float>* out);
/// The same, integer items times `scale` (one LSB's value; floats are not scaled).
void decode_payload(const PayloadFormat& f, const unsigned char* payload, std::size_t samples,
                    std::complex<float>* out, float scale);
/// The payload bytes of `samples` samples (whole words; the last padded with zeros).
std::size_t payload_bytes(const PayloadFormat& f, std::size_t samples);
/// Writes `samples` samples (integers rounded to nearest and saturated) into payload_bytes()
/// bytes at out.
void encode_payload(const PayloadFormat& f, const std::complex<float>* in, std::size_t samples,
                    unsigned char* out);

/// The CIF0 fields of a context packet (section 9) this codec reads: those before the GPS
/// fields. Fixed point as the standard gives it: frequencies and rates 64-bit with 20 fraction
/// bits (Hz), levels and gains 16-bit with 7 (dB), temperature 16-bit with 6 (degrees C).
struct Context {
  std::uint32_t cif0 = 0;
  bool changed = false;  ///< bit 31: some field changed since the stream's last context
  std::optional<std::uint32_t> reference_point;
  std::optional<double> bandwidth_hz, if_reference_hz, rf_reference_hz, rf_offset_hz,
      if_band_offset_hz, reference_level_dbm;
  std::optional<double> gain1_db, gain2_db;  ///< stage 1, stage 2 (together)
  std::optional<std::uint32_t> over_range_count;
  std::optional<double> sample_rate_hz;
  std::optional<std::int64_t> timestamp_adjustment_fs;
  std::optional<std::uint32_t> timestamp_calibration_s;
  std::optional<double> temperature_c;
  std::optional<std::uint64_t> device_id;  ///< OUI << 16 | device code
  std::optional<std::uint32_t> state_event;
  std::optional<PayloadFormat> payload_format;
};

/// The context fields of a parsed context packet. Error::Context when CIF0's fields run past the
/// packet (the message names the field); fields after the payload format are not read.
Error parse_context(const unsigned char* bytes, const Packet& p, Context& out,
                    std::string* why = nullptr);

/// What a packet's header and prologue hold, for the encoders.
struct Prologue {
  PacketType type = PacketType::SignalWithStream;
  std::uint32_t stream_id = 0;  ///< written for types that carry one
  std::optional<ClassId> class_id;
  Tsi tsi = Tsi::None;
  Tsf tsf = Tsf::None;
  std::uint32_t integer_seconds = 0;
  std::uint64_t fractional = 0;
  std::uint8_t count = 0;  ///< taken modulo 16
  bool not_v49_0 = true;
  bool bit24 = false;
};

/// The bytes of a data packet around `payload` (payload_bytes long, whole words), with a trailer
/// when given. Returns the packet's size, or 0 when it would not fit in `capacity` or in the
/// 16-bit size field.
std::size_t encode_data(const Prologue& p, const unsigned char* payload, std::size_t payload_bytes,
                        const std::optional<Trailer>& trailer, unsigned char* out,
                        std::size_t capacity);
/// A context packet with the fields `c` holds (its cif0 is recomputed from them; `changed` sets
/// bit 31). Returns the size, or 0 when it would not fit.
std::size_t encode_context(const Prologue& p, const Context& c, unsigned char* out,
                           std::size_t capacity);

}  // namespace radarpipe::io::vrt
