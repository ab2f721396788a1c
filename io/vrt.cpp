#include "io/vrt.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/be.hpp"

namespace radarpipe::io::vrt {

namespace {

std::uint32_t word(const unsigned char* p) {
  return be::get<std::uint32_t>(p);
}

bool has_stream_id(unsigned type) {
  return type == 1 || type >= 3;
}
bool has_trailer_bit(unsigned type) {
  return type <= 3;
}  // data and extension data

// Words the header announces besides the payload: header, stream ID, class ID, timestamps,
// trailer.
unsigned prologue_words(std::uint32_t h, unsigned* trailer) {
  const unsigned type = h >> 28;
  unsigned n = 1 + (has_stream_id(type) ? 1u : 0u) + ((h >> 27 & 1u) ? 2u : 0u) +
               (((h >> 22) & 3u) ? 1u : 0u) + (((h >> 20) & 3u) ? 2u : 0u);
  *trailer = has_trailer_bit(type) && (h >> 26 & 1u) ? 1u : 0u;
  return n;
}

// Fixed point of the context fields (section 9.5): 64-bit two's complement with `radix`
// fraction bits, and 16-bit ones in the low half of a word.
double fixed64(const unsigned char* p, int radix) {
  return std::ldexp(static_cast<double>(be::get<std::int64_t>(p)), -radix);
}
double fixed16(std::uint32_t w, int radix) {
  return std::ldexp(static_cast<double>(static_cast<std::int16_t>(w & 0xffffu)), -radix);
}
std::int64_t to_fixed64(double v, int radix) {
  const double s = std::ldexp(v, radix);
  constexpr double kMax = 9.2e18;
  return static_cast<std::int64_t>(std::llround(std::clamp(s, -kMax, kMax)));
}
std::uint32_t to_fixed16(double v, int radix) {
  const double s = std::clamp(std::round(std::ldexp(v, radix)), -32768.0, 32767.0);
  return static_cast<std::uint16_t>(static_cast<std::int16_t>(s));
}

const char* type_name(unsigned t) {
  static const char* const kNames[8] = {"signal data",    "signal data with stream ID",
                                        "extension data", "extension data with stream ID",
                                        "context",        "extension context",
                                        "command",        "extension command"};
  return t < 8 ? kNames[t] : "reserved";
}

// A bit writer over a payload, most significant bit first (link-efficient packing).
void write_bits(unsigned char* p, std::size_t bit, unsigned n, std::uint32_t v) {
  for (unsigned i = 0; i < n; ++i, ++bit) {
    const unsigned b = (v >> (n - 1 - i)) & 1u;
    p[bit >> 3] = static_cast<unsigned char>(p[bit >> 3] | b << (7 - (bit & 7)));
  }
}
std::int32_t saturate(float v, unsigned bits) {
  const float hi = std::ldexp(1.0f, static_cast<int>(bits) - 1) - 1.0f, lo = -hi - 1.0f;
  if (!(v == v)) return 0;  // NaN
  return static_cast<std::int32_t>(std::nearbyint(std::clamp(v, lo, hi)));
}

}  // namespace

const char* to_string(Error e) {
  switch (e) {
    case Error::None:
      return "none";
    case Error::Short:
      return "short";
    case Error::Size:
      return "size";
    case Error::Type:
      return "type";
    case Error::Unsupported:
      return "unsupported";
    case Error::Context:
      return "context";
  }
  return "?";
}

Error parse(const unsigned char* b, std::size_t available, Packet& out) {
  if (available < 4) return Error::Short;
  const std::uint32_t h = word(b);
  const unsigned type = h >> 28;
  out.type = static_cast<PacketType>(type & 7u);
  out.class_id_present = (h >> 27 & 1u) != 0;
  out.trailer_present = has_trailer_bit(type) && (h >> 26 & 1u);
  out.not_v49_0 = (h >> 25 & 1u) != 0;
  out.bit24 = (h >> 24 & 1u) != 0;
  out.tsi = static_cast<Tsi>((h >> 22) & 3u);
  out.tsf = static_cast<Tsf>((h >> 20) & 3u);
  out.count = static_cast<std::uint8_t>((h >> 16) & 15u);
  out.size_words = static_cast<std::uint16_t>(h & 0xffffu);
  if (type > 7) return Error::Type;
  unsigned trailer = 0;
  const unsigned pro = prologue_words(h, &trailer);
  if (out.size_words == 0 || out.size_words < pro + trailer) return Error::Size;
  if (out.bytes() > available) return Error::Short;
  if (type >= 6) return Error::Unsupported;  // command packets: control, not samples
  std::size_t at = 4;
  out.stream_id_present = has_stream_id(type);
  out.stream_id = 0;
  if (out.stream_id_present) {
    out.stream_id = word(b + at);
    at += 4;
  }
  out.class_id = ClassId{};
  if (out.class_id_present) {
    const std::uint32_t w0 = word(b + at), w1 = word(b + at + 4);
    out.class_id.pad_bits = static_cast<std::uint8_t>(w0 >> 27);
    out.class_id.oui = w0 & 0xffffffu;
    out.class_id.information_code = static_cast<std::uint16_t>(w1 >> 16);
    out.class_id.packet_code = static_cast<std::uint16_t>(w1 & 0xffffu);
    at += 8;
  }
  out.integer_seconds = 0;
  if (out.tsi != Tsi::None) {
    out.integer_seconds = word(b + at);
    at += 4;
  }
  out.fractional = 0;
  if (out.tsf != Tsf::None) {
    out.fractional = be::get<std::uint64_t>(b + at);
    at += 8;
  }
  out.payload_offset = at;
  out.payload_bytes = out.bytes() - at - 4u * trailer;
  out.trailer = Trailer{};
  if (trailer) {
    const std::uint32_t t = word(b + out.bytes() - 4);
    out.trailer.enables = static_cast<std::uint16_t>(t >> 20);
    out.trailer.indicators = static_cast<std::uint16_t>((t >> 8) & 0xfffu);
    out.trailer.context_count_enabled = (t >> 7 & 1u) != 0;
    out.trailer.context_count = static_cast<std::uint8_t>(t & 0x7fu);
  }
  if (out.class_id.pad_bits > out.payload_bytes * 8) return Error::Size;
  return Error::None;
}

std::string describe(Error e, const unsigned char* b, std::size_t available) {
  const std::string got = std::to_string(available) + " bytes";
  if (available < 4) return "is " + got + ", shorter than a VRT header (4 bytes)";
  const std::uint32_t h = word(b);
  const unsigned type = h >> 28, size = h & 0xffffu;
  unsigned trailer = 0;
  const unsigned pro = prologue_words(h, &trailer);
  switch (e) {
    case Error::None:
      return "is a packet";
    case Error::Type:
      return "packet type " + std::to_string(type) + " is reserved (0-7 are defined)";
    case Error::Size:
      if (size == 0) return "size field 0 (a packet is at least its header, 1 word)";
      if (size < pro + trailer)
        return "size field " + std::to_string(size) + " words is fewer than the " +
               std::to_string(pro + trailer) +
               " its header announces (stream ID, class ID, timestamps, trailer)";
      return "class ID pad bit count " +
             std::to_string(word(b + 4 + (has_stream_id(type) ? 4 : 0)) >> 27) +
             " exceeds the payload's " + std::to_string(8u * (4u * size - 4u * (pro + trailer))) +
             " bits";
    case Error::Short:
      return "size field " + std::to_string(size) + " words (" + std::to_string(4u * size) +
             " bytes) but " + got + " arrived";
    case Error::Unsupported:
      return std::string("packet type ") + std::to_string(type) + " (" + type_name(type) +
             ") is not read by radarpipe";
    case Error::Context:
      return "a context packet whose fields run past its size field (" + std::to_string(size) +
             " words)";
  }
  return "?";
}

// ---- payload formats ----

PayloadFormat PayloadFormat::sc8() {
  PayloadFormat f;
  f.field_bits = f.item_bits = 8;
  return f;
}
PayloadFormat PayloadFormat::sc12() {
  PayloadFormat f;
  f.link_efficient = true;
  f.field_bits = f.item_bits = 12;
  return f;
}
PayloadFormat PayloadFormat::sc16() {
  return PayloadFormat{};
}
PayloadFormat PayloadFormat::difi(unsigned bits) {
  PayloadFormat f;
  f.link_efficient = true;
  f.item_bits = static_cast<std::uint8_t>(bits == 8 ? 8 : 16);
  f.field_bits = static_cast<std::uint8_t>(2 * f.item_bits);
  return f;
}
PayloadFormat PayloadFormat::cf32() {
  PayloadFormat f;
  f.item_format = 0x0E;
  f.field_bits = f.item_bits = 32;
  return f;
}

std::uint32_t PayloadFormat::word0() const {
  return (link_efficient ? 1u : 0u) << 31 | (sample_type & 3u) << 29 | (item_format & 31u) << 24 |
         (repeat ? 1u : 0u) << 23 | (event_tag_bits & 7u) << 20 | (channel_tag_bits & 15u) << 16 |
         (fraction_bits & 15u) << 12 | ((field_bits - 1u) & 63u) << 6 | ((item_bits - 1u) & 63u);
}
std::uint32_t PayloadFormat::word1() const {
  return ((repeat_count - 1u) & 0xffffu) << 16 | ((vector_size - 1u) & 0xffffu);
}
PayloadFormat PayloadFormat::from_words(std::uint32_t w0, std::uint32_t w1) {
  PayloadFormat f;
  f.link_efficient = (w0 >> 31) != 0;
  f.sample_type = static_cast<std::uint8_t>((w0 >> 29) & 3u);
  f.item_format = static_cast<std::uint8_t>((w0 >> 24) & 31u);
  f.repeat = (w0 >> 23 & 1u) != 0;
  f.event_tag_bits = static_cast<std::uint8_t>((w0 >> 20) & 7u);
  f.channel_tag_bits = static_cast<std::uint8_t>((w0 >> 16) & 15u);
  f.fraction_bits = static_cast<std::uint8_t>((w0 >> 12) & 15u);
  f.field_bits = static_cast<std::uint8_t>(((w0 >> 6) & 63u) + 1u);
  f.item_bits = static_cast<std::uint8_t>((w0 & 63u) + 1u);
  f.repeat_count = static_cast<std::uint16_t>((w1 >> 16) + 1u);
  f.vector_size = static_cast<std::uint16_t>((w1 & 0xffffu) + 1u);
  return f;
}

bool PayloadFormat::supported(std::string* why) const {
  auto no = [&](const std::string& m) {
    if (why) *why = m;
    return false;
  };
  if (sample_type != 1)
    return no("sample type " + std::to_string(sample_type) +
              " (expected 1, complex Cartesian: radarpipe takes complex IQ)");
  if (event_tag_bits || channel_tag_bits)
    return no("event or channel tags (" + std::to_string(event_tag_bits) + ", " +
              std::to_string(channel_tag_bits) + " bits; expected none)");
  if (item_format == 0x0E) {
    if (item_bits != 32 || field_bits != 32)
      return no("IEEE-754 single items of " + std::to_string(item_bits) + " bits in fields of " +
                std::to_string(field_bits) + " (expected 32 and 32)");
    return true;
  }
  if (item_format != 0)
    return no("data item format " + std::to_string(item_format) +
              " (expected 0, signed fixed point, or 14, IEEE-754 single)");
  // DIFI (IEEE-ISTO 4900) announces one packing field per complex sample: 16-bit items in
  // 32-bit fields (8 in 16), I and Q adjacent, which is the same layout as equal sizes.
  const bool pair_field = field_bits == 2 * item_bits && (item_bits == 8 || item_bits == 16);
  if (field_bits != item_bits && !pair_field)
    return no("items of " + std::to_string(item_bits) + " bits in fields of " +
              std::to_string(field_bits) +
              " (expected equal, or twice the item for a complex pair)");
  if (item_bits == 8 || item_bits == 16) return true;
  if (item_bits == 12 && link_efficient) return true;
  return no("signed fixed-point items of " + std::to_string(item_bits) + " bits" +
            (item_bits == 12 ? " processing-efficient" : "") +
            " (expected 8, 16, or 12 link-efficient)");
}

unsigned PayloadFormat::sample_bits() const {
  if (item_format == 0 && field_bits == 2 * item_bits && (item_bits == 8 || item_bits == 16))
    return field_bits;  // one field holds the pair (DIFI)
  return 2u * field_bits;
}

bool PayloadFormat::same_samples(const PayloadFormat& o) const {
  return sample_type == o.sample_type && item_format == o.item_format && item_bits == o.item_bits &&
         sample_bits() == o.sample_bits() && event_tag_bits == o.event_tag_bits &&
         channel_tag_bits == o.channel_tag_bits;
}

std::size_t payload_samples(const PayloadFormat& f, std::size_t bytes, unsigned pad_bits) {
  const std::size_t bits = bytes * 8;
  return bits < pad_bits ? 0 : (bits - pad_bits) / f.sample_bits();
}

std::size_t payload_bytes(const PayloadFormat& f, std::size_t samples) {
  return (samples * f.sample_bits() + 31) / 32 * 4;
}

void decode_payload(const PayloadFormat& f, const unsigned char* p, std::size_t samples,
                    std::complex<float>* out) {
  decode_payload(f, p, samples, out, 1.0f);
}

void decode_payload(const PayloadFormat& f, const unsigned char* __restrict p, std::size_t samples,
                    std::complex<float>* out_samples, float scale) {
  // Component by component into the floats of the complex array (I, Q adjacent, as
  // std::complex guarantees), in loops the compiler vectorises: this is the ingest's inner loop.
  float* __restrict out = reinterpret_cast<float*>(out_samples);
  const std::size_t n = 2 * samples;
  if (f.item_format == 0x0E) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint32_t u = static_cast<std::uint32_t>(p[4 * j]) << 24 |
                              static_cast<std::uint32_t>(p[4 * j + 1]) << 16 |
                              static_cast<std::uint32_t>(p[4 * j + 2]) << 8 | p[4 * j + 3];
      float v;
      std::memcpy(&v, &u, 4);
      out[j] = v;
    }
  } else if (f.item_bits == 16) {
    for (std::size_t j = 0; j < n; ++j)
      out[j] = static_cast<float>(static_cast<std::int16_t>(p[2 * j] << 8 | p[2 * j + 1])) * scale;
  } else if (f.item_bits == 8) {
    for (std::size_t j = 0; j < n; ++j)
      out[j] = static_cast<float>(static_cast<std::int8_t>(p[j])) * scale;
  } else {  // 12 bits, link-efficient: each sample 3 bytes, I then Q, most significant first
    for (std::size_t i = 0; i < samples; ++i, p += 3) {
      const int re = (p[0] << 4) | (p[1] >> 4), im = ((p[1] & 0x0f) << 8) | p[2];
      out[2 * i] = static_cast<float>(re >= 2048 ? re - 4096 : re) * scale;
      out[2 * i + 1] = static_cast<float>(im >= 2048 ? im - 4096 : im) * scale;
    }
  }
}

void encode_payload(const PayloadFormat& f, const std::complex<float>* in, std::size_t samples,
                    unsigned char* out) {
  const std::size_t bytes = payload_bytes(f, samples);
  std::memset(out, 0, bytes);
  if (f.item_format == 0x0E) {
    for (std::size_t i = 0; i < samples; ++i, out += 8) {
      be::put<float>(out, in[i].real());
      be::put<float>(out + 4, in[i].imag());
    }
  } else if (f.item_bits == 16) {
    for (std::size_t i = 0; i < samples; ++i, out += 4) {
      be::put<std::int16_t>(out, static_cast<std::int16_t>(saturate(in[i].real(), 16)));
      be::put<std::int16_t>(out + 2, static_cast<std::int16_t>(saturate(in[i].imag(), 16)));
    }
  } else if (f.item_bits == 8) {
    for (std::size_t i = 0; i < samples; ++i, out += 2) {
      out[0] = static_cast<unsigned char>(saturate(in[i].real(), 8));
      out[1] = static_cast<unsigned char>(saturate(in[i].imag(), 8));
    }
  } else {
    for (std::size_t i = 0; i < samples; ++i) {
      write_bits(out, 24 * i, 12, static_cast<std::uint32_t>(saturate(in[i].real(), 12)) & 0xfffu);
      write_bits(out, 24 * i + 12, 12,
                 static_cast<std::uint32_t>(saturate(in[i].imag(), 12)) & 0xfffu);
    }
  }
}

// ---- context packets ----

namespace {

// CIF0's fields this codec reads, from bit 30 down to 15, with their sizes in words (section
// 9.1, table 9.1-1).
struct FieldSpec {
  unsigned bit, words;
  const char* name;
};
constexpr FieldSpec kCif0Fields[] = {
    {30, 1, "reference point identifier"},
    {29, 2, "bandwidth"},
    {28, 2, "IF reference frequency"},
    {27, 2, "RF reference frequency"},
    {26, 2, "RF reference frequency offset"},
    {25, 2, "IF band offset"},
    {24, 1, "reference level"},
    {23, 1, "gain"},
    {22, 1, "over-range count"},
    {21, 2, "sample rate"},
    {20, 2, "timestamp adjustment"},
    {19, 1, "timestamp calibration time"},
    {18, 1, "temperature"},
    {17, 2, "device identifier"},
    {16, 1, "state and event indicators"},
    {15, 2, "data packet payload format"},
};

}  // namespace

Error parse_context(const unsigned char* b, const Packet& p, Context& out, std::string* why) {
  out = Context{};
  auto fail = [&](const std::string& m) {
    if (why) *why = m;
    return Error::Context;
  };
  if (!p.is_context()) return fail("not a context packet");
  if (p.payload_bytes < 4) return fail("no CIF0 word within the packet's size");
  const unsigned char* q = b + p.payload_offset;
  const unsigned char* end = q + p.payload_bytes;
  out.cif0 = word(q);
  out.changed = (out.cif0 >> 31) != 0;
  q += 4;
  // CIF1, CIF2, CIF3 and CIF7 words follow CIF0 when its bits 1, 2, 3 and 7 say so.
  for (unsigned bit : {1u, 2u, 3u, 7u})
    if (out.cif0 >> bit & 1u) {
      if (end - q < 4) return fail("CIF" + std::to_string(bit) + " word past the packet's size");
      q += 4;
    }
  for (const FieldSpec& f : kCif0Fields) {
    if (!(out.cif0 >> f.bit & 1u)) continue;
    if (static_cast<std::size_t>(end - q) < 4u * f.words)
      return fail(std::string(f.name) + " (CIF0 bit " + std::to_string(f.bit) + ", " +
                  std::to_string(f.words) + " words) runs past the packet's size");
    const std::uint32_t w = word(q);
    switch (f.bit) {
      case 30:
        out.reference_point = w;
        break;
      case 29:
        out.bandwidth_hz = fixed64(q, 20);
        break;
      case 28:
        out.if_reference_hz = fixed64(q, 20);
        break;
      case 27:
        out.rf_reference_hz = fixed64(q, 20);
        break;
      case 26:
        out.rf_offset_hz = fixed64(q, 20);
        break;
      case 25:
        out.if_band_offset_hz = fixed64(q, 20);
        break;
      case 24:
        out.reference_level_dbm = fixed16(w, 7);
        break;
      case 23:
        out.gain1_db = fixed16(w, 7);
        out.gain2_db = fixed16(w >> 16, 7);
        break;
      case 22:
        out.over_range_count = w;
        break;
      case 21:
        out.sample_rate_hz = fixed64(q, 20);
        break;
      case 20:
        out.timestamp_adjustment_fs = be::get<std::int64_t>(q);
        break;
      case 19:
        out.timestamp_calibration_s = w;
        break;
      case 18:
        out.temperature_c = fixed16(w, 6);
        break;
      case 17:
        out.device_id = (std::uint64_t{w & 0xffffffu} << 16) | (word(q + 4) & 0xffffu);
        break;
      case 16:
        out.state_event = w;
        break;
      case 15:
        out.payload_format = PayloadFormat::from_words(w, word(q + 4));
        break;
    }
    q += 4u * f.words;
  }
  return Error::None;
}

// ---- encoders ----

namespace {

// Writes the header and prologue; returns the bytes written (0 when they do not fit).
std::size_t put_prologue(const Prologue& p, bool trailer, std::size_t total_words,
                         unsigned char* out, std::size_t capacity) {
  const unsigned type = static_cast<unsigned>(p.type);
  if (total_words > 0xffffu || total_words * 4 > capacity) return 0;
  const std::uint32_t h = type << 28 | (p.class_id ? 1u : 0u) << 27 | (trailer ? 1u : 0u) << 26 |
                          (p.not_v49_0 ? 1u : 0u) << 25 | (p.bit24 ? 1u : 0u) << 24 |
                          static_cast<std::uint32_t>(p.tsi) << 22 |
                          static_cast<std::uint32_t>(p.tsf) << 20 | (p.count & 15u) << 16 |
                          static_cast<std::uint32_t>(total_words);
  std::size_t at = 0;
  be::put<std::uint32_t>(out, h);
  at += 4;
  if (has_stream_id(type)) {
    be::put<std::uint32_t>(out + at, p.stream_id);
    at += 4;
  }
  if (p.class_id) {
    be::put<std::uint32_t>(out + at, static_cast<std::uint32_t>(p.class_id->pad_bits & 31u) << 27 |
                                         (p.class_id->oui & 0xffffffu));
    be::put<std::uint32_t>(
        out + at + 4,
        static_cast<std::uint32_t>(p.class_id->information_code) << 16 | p.class_id->packet_code);
    at += 8;
  }
  if (p.tsi != Tsi::None) {
    be::put<std::uint32_t>(out + at, p.integer_seconds);
    at += 4;
  }
  if (p.tsf != Tsf::None) {
    be::put<std::uint64_t>(out + at, p.fractional);
    at += 8;
  }
  return at;
}

std::size_t prologue_bytes(const Prologue& p) {
  const unsigned type = static_cast<unsigned>(p.type);
  return 4u * (1u + (has_stream_id(type) ? 1u : 0u) + (p.class_id ? 2u : 0u) +
               (p.tsi != Tsi::None ? 1u : 0u) + (p.tsf != Tsf::None ? 2u : 0u));
}

}  // namespace

std::size_t encode_data(const Prologue& p, const unsigned char* payload, std::size_t payload_bytes,
                        const std::optional<Trailer>& trailer, unsigned char* out,
                        std::size_t capacity) {
  if (payload_bytes % 4 != 0 || static_cast<unsigned>(p.type) > 3) return 0;
  const std::size_t words = (prologue_bytes(p) + payload_bytes) / 4 + (trailer ? 1 : 0);
  const std::size_t at = put_prologue(p, trailer.has_value(), words, out, capacity);
  if (at == 0) return 0;
  if (payload_bytes) std::memcpy(out + at, payload, payload_bytes);
  if (trailer) {
    const std::uint32_t t = static_cast<std::uint32_t>(trailer->enables & 0xfffu) << 20 |
                            static_cast<std::uint32_t>(trailer->indicators & 0xfffu) << 8 |
                            (trailer->context_count_enabled ? 1u : 0u) << 7 |
                            (trailer->context_count & 0x7fu);
    be::put<std::uint32_t>(out + at + payload_bytes, t);
  }
  return words * 4;
}

std::size_t encode_context(const Prologue& p, const Context& c, unsigned char* out,
                           std::size_t capacity) {
  if (p.type != PacketType::Context) return 0;
  unsigned char fields[4 * 32] = {};
  std::size_t n = 0;
  std::uint32_t cif0 = c.changed ? 1u << 31 : 0u;
  auto put32 = [&](unsigned bit, std::uint32_t v) {
    cif0 |= 1u << bit;
    be::put<std::uint32_t>(fields + n, v);
    n += 4;
  };
  auto put64 = [&](unsigned bit, std::uint64_t v) {
    cif0 |= 1u << bit;
    be::put<std::uint64_t>(fields + n, v);
    n += 8;
  };
  auto hz = [](double v) { return static_cast<std::uint64_t>(to_fixed64(v, 20)); };
  if (c.reference_point) put32(30, *c.reference_point);
  if (c.bandwidth_hz) put64(29, hz(*c.bandwidth_hz));
  if (c.if_reference_hz) put64(28, hz(*c.if_reference_hz));
  if (c.rf_reference_hz) put64(27, hz(*c.rf_reference_hz));
  if (c.rf_offset_hz) put64(26, hz(*c.rf_offset_hz));
  if (c.if_band_offset_hz) put64(25, hz(*c.if_band_offset_hz));
  if (c.reference_level_dbm) put32(24, to_fixed16(*c.reference_level_dbm, 7));
  if (c.gain1_db || c.gain2_db)
    put32(23, to_fixed16(c.gain2_db.value_or(0), 7) << 16 | to_fixed16(c.gain1_db.value_or(0), 7));
  if (c.over_range_count) put32(22, *c.over_range_count);
  if (c.sample_rate_hz) put64(21, hz(*c.sample_rate_hz));
  if (c.timestamp_adjustment_fs) put64(20, static_cast<std::uint64_t>(*c.timestamp_adjustment_fs));
  if (c.timestamp_calibration_s) put32(19, *c.timestamp_calibration_s);
  if (c.temperature_c) put32(18, to_fixed16(*c.temperature_c, 6));
  if (c.device_id) {
    put32(17, static_cast<std::uint32_t>(*c.device_id >> 16) & 0xffffffu);
    be::put<std::uint32_t>(fields + n, static_cast<std::uint32_t>(*c.device_id & 0xffffu));
    n += 4;
  }
  if (c.state_event) put32(16, *c.state_event);
  if (c.payload_format) {
    put32(15, c.payload_format->word0());
    be::put<std::uint32_t>(fields + n, c.payload_format->word1());
    n += 4;
  }
  const std::size_t words = prologue_bytes(p) / 4 + 1 + n / 4;
  const std::size_t at = put_prologue(p, false, words, out, capacity);
  if (at == 0) return 0;
  be::put<std::uint32_t>(out + at, cif0);
  std::memcpy(out + at + 4, fields, n);
  return words * 4;
}

}  // namespace radarpipe::io::vrt
