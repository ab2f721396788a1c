// The VITA 49.2 codec (io/vrt.hpp): packets written by hand from the standard's layout (section
// 5: header bits, prologue order, trailer bits; section 9: CIF0 fields and their fixed point)
// parsed field by field; every optional field on and off through the encoder and back; every
// payload format against hand-packed bytes and round trips; bad packets refused by cause, with
// messages naming the value; random bytes never read past what arrived.
#include "io/vrt.hpp"

#include <gtest/gtest.h>

#include <complex>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace radarpipe {
namespace {

using namespace io::vrt;
using Bytes = std::vector<unsigned char>;

// Words to big-endian bytes, written here from the standard (not the codec's be.hpp).
Bytes words(std::initializer_list<std::uint32_t> ws) {
  Bytes b;
  for (std::uint32_t w : ws)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(w >> s));
  return b;
}

// A signal data packet with stream ID, class ID, UTC and picosecond timestamps and a trailer,
// by hand: header 0001 | C 1, T 1, N 1, S 0 | TSI 01, TSF 10 | count 0101 | size 9:
// 0x1E 0x65 0x00 0x09; stream 0xDEADBEEF; class ID pad 0, OUI 0x0012A2, codes 0x0001/0x0002;
// seconds 1700000000; picoseconds 0x0000000123456789; payload 1 word (sc16 I=1000, Q=-2);
// trailer: valid data enabled and set, sample loss enabled and clear, E=1, count 3.
TEST(Vrt, HandWrittenDataPacketParsesFieldByField) {
  const std::uint32_t trailer = (1u << 30 | 1u << 24) << 0 | 1u << 18 | 1u << 7 | 3u;
  const Bytes b = words({0x1E650009u, 0xDEADBEEFu, 0x000012A2u, 0x00010002u, 1700000000u,
                         0x00000001u, 0x23456789u, 0x03E8FFFEu, trailer});
  Packet p;
  ASSERT_EQ(parse(b.data(), b.size(), p), Error::None)
      << describe(parse(b.data(), b.size(), p), b.data(), b.size());
  EXPECT_EQ(p.type, PacketType::SignalWithStream);
  EXPECT_TRUE(p.is_data());
  EXPECT_TRUE(p.class_id_present);
  EXPECT_TRUE(p.trailer_present);
  EXPECT_TRUE(p.not_v49_0);
  EXPECT_FALSE(p.bit24);
  EXPECT_EQ(p.tsi, Tsi::Utc);
  EXPECT_EQ(p.tsf, Tsf::RealTime);
  EXPECT_EQ(p.count, 5u);
  EXPECT_EQ(p.size_words, 9u);
  EXPECT_EQ(p.stream_id, 0xDEADBEEFu);
  EXPECT_EQ(p.class_id.oui, 0x0012A2u);
  EXPECT_EQ(p.class_id.information_code, 1u);
  EXPECT_EQ(p.class_id.packet_code, 2u);
  EXPECT_EQ(p.integer_seconds, 1700000000u);
  EXPECT_EQ(p.fractional, 0x123456789ull);
  EXPECT_EQ(p.payload_offset, 28u);
  EXPECT_EQ(p.payload_bytes, 4u);
  EXPECT_TRUE(p.trailer.is(Trailer::ValidData));
  EXPECT_TRUE(p.trailer.is_not(Trailer::SampleLoss));
  EXPECT_FALSE(p.trailer.is(Trailer::OverRange));
  EXPECT_FALSE(p.trailer.is_not(Trailer::OverRange));  // not enabled: says nothing
  EXPECT_TRUE(p.trailer.context_count_enabled);
  EXPECT_EQ(p.trailer.context_count, 3u);
  std::complex<float> s;
  decode_payload(PayloadFormat::sc16(), b.data() + p.payload_offset, 1, &s);
  EXPECT_EQ(s, std::complex<float>(1000.0f, -2.0f));
}

// Every optional field on and off, every timestamp kind, every count: through the encoder and
// back, the fields and the payload's place exact.
TEST(Vrt, EveryPrologueCombinationRoundTrips) {
  const Bytes payload = words({0x01020304u, 0x05060708u});
  Bytes out(256);
  std::size_t cases = 0;
  for (PacketType t : {PacketType::Signal, PacketType::SignalWithStream, PacketType::Extension,
                       PacketType::ExtensionWithStream})
    for (bool cid : {false, true})
      for (unsigned tsi = 0; tsi < 4; ++tsi)
        for (unsigned tsf = 0; tsf < 4; ++tsf)
          for (bool tr : {false, true}) {
            Prologue pr;
            pr.type = t;
            pr.stream_id = 0x01234567u;
            if (cid) pr.class_id = ClassId{0, 0xFFFFFEu, 0xABCD, 0x1234};
            pr.tsi = static_cast<Tsi>(tsi);
            pr.tsf = static_cast<Tsf>(tsf);
            pr.integer_seconds = 0xFEDCBA98u;
            pr.fractional = 0x0123456789ABCDEFull;
            pr.count = static_cast<std::uint8_t>(cases % 16);
            pr.bit24 = cases % 3 == 0;
            std::optional<Trailer> trailer;
            if (tr) {
              trailer = Trailer{};
              trailer->set(Trailer::OverRange, true);
              trailer->set(Trailer::ValidData, cases % 2 == 0);
            }
            const std::size_t n =
                encode_data(pr, payload.data(), payload.size(), trailer, out.data(), out.size());
            ASSERT_GT(n, 0u);
            Packet p;
            ASSERT_EQ(parse(out.data(), n, p), Error::None)
                << describe(parse(out.data(), n, p), out.data(), n);
            EXPECT_EQ(p.type, t);
            EXPECT_EQ(p.bytes(), n);
            EXPECT_EQ(p.stream_id_present,
                      t == PacketType::SignalWithStream || t == PacketType::ExtensionWithStream);
            EXPECT_EQ(p.stream_id, p.stream_id_present ? 0x01234567u : 0u);
            EXPECT_EQ(p.class_id_present, cid);
            if (cid) {
              EXPECT_EQ(p.class_id.oui, 0xFFFFFEu);
              EXPECT_EQ(p.class_id.information_code, 0xABCDu);
              EXPECT_EQ(p.class_id.packet_code, 0x1234u);
            }
            EXPECT_EQ(p.tsi, static_cast<Tsi>(tsi));
            EXPECT_EQ(p.tsf, static_cast<Tsf>(tsf));
            EXPECT_EQ(p.integer_seconds, tsi ? 0xFEDCBA98u : 0u);
            EXPECT_EQ(p.fractional, tsf ? 0x0123456789ABCDEFull : 0u);
            EXPECT_EQ(p.count, cases % 16);
            EXPECT_EQ(p.bit24, cases % 3 == 0);
            EXPECT_TRUE(p.not_v49_0);
            EXPECT_EQ(p.trailer_present, tr);
            if (tr) {
              EXPECT_TRUE(p.trailer.is(Trailer::OverRange));
              EXPECT_EQ(p.trailer.is(Trailer::ValidData), cases % 2 == 0);
            }
            ASSERT_EQ(p.payload_bytes, payload.size());
            EXPECT_EQ(Bytes(out.begin() + static_cast<std::ptrdiff_t>(p.payload_offset),
                            out.begin() + static_cast<std::ptrdiff_t>(p.payload_offset + 8)),
                      payload);
            ++cases;
          }
  EXPECT_EQ(cases, 4u * 2 * 4 * 4 * 2);
}

// Payload formats against bytes packed by hand, and round trips with saturation.
TEST(Vrt, PayloadFormatsPackAsTheStandardSays) {
  // sc12 link-efficient: I = 0x123, Q = -0x544 (0xABC), then I = -1 (0xFFF), Q = 0x7FF:
  // bits 0001 0010 0011 1010 1011 1100 1111 1111 1111 0111 1111 1111 -> 12 3A BC FF F7 FF.
  const std::complex<float> two[2] = {{291.0f, -1348.0f}, {-1.0f, 2047.0f}};
  Bytes b(payload_bytes(PayloadFormat::sc12(), 2));
  ASSERT_EQ(b.size(), 8u);  // 48 bits in two words
  encode_payload(PayloadFormat::sc12(), two, 2, b.data());
  EXPECT_EQ(b, (Bytes{0x12, 0x3A, 0xBC, 0xFF, 0xF7, 0xFF, 0x00, 0x00}));
  std::complex<float> back[2];
  decode_payload(PayloadFormat::sc12(), b.data(), 2, back);
  EXPECT_EQ(back[0], two[0]);
  EXPECT_EQ(back[1], two[1]);
  // sc8: I0 Q0 I1 Q1 bytes; sc16: I then Q, most significant byte first; cf32: IEEE big-endian.
  Bytes b8(4);
  const std::complex<float> s8[2] = {{-128.0f, 127.0f}, {300.0f, -7.4f}};  // 300 saturates
  encode_payload(PayloadFormat::sc8(), s8, 2, b8.data());
  EXPECT_EQ(b8, (Bytes{0x80, 0x7F, 0x7F, 0xF9}));
  Bytes b16(4);
  const std::complex<float> s16(-32769.0f, 258.4f);
  encode_payload(PayloadFormat::sc16(), &s16, 1, b16.data());
  EXPECT_EQ(b16, (Bytes{0x80, 0x00, 0x01, 0x02}));
  Bytes bf(8);
  const std::complex<float> sf(1.0f, -2.0f);
  encode_payload(PayloadFormat::cf32(), &sf, 1, bf.data());
  EXPECT_EQ(bf, (Bytes{0x3F, 0x80, 0, 0, 0xC0, 0x00, 0, 0}));
  // Sample counts: sc12 in 3 words is 4 samples; with 24 pad bits (class ID) 3.
  EXPECT_EQ(payload_samples(PayloadFormat::sc12(), 12), 4u);
  EXPECT_EQ(payload_samples(PayloadFormat::sc12(), 12, 24), 3u);
  EXPECT_EQ(payload_samples(PayloadFormat::sc16(), 12), 3u);
  EXPECT_EQ(payload_samples(PayloadFormat::sc8(), 12), 6u);
  EXPECT_EQ(payload_samples(PayloadFormat::cf32(), 12), 1u);
  // Random round trips of every format (odd counts: the last word padded).
  std::mt19937 rng(4);
  for (const PayloadFormat& f : {PayloadFormat::sc8(), PayloadFormat::sc12(), PayloadFormat::sc16(),
                                 PayloadFormat::cf32()}) {
    ASSERT_TRUE(f.supported());
    EXPECT_EQ(PayloadFormat::from_words(f.word0(), f.word1()), f);
    const int bits = f.item_format == 0x0E ? 24 : f.item_bits;
    std::uniform_int_distribution<int> d(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
    std::vector<std::complex<float>> in(37), got(37);
    for (auto& v : in) v = {static_cast<float>(d(rng)), static_cast<float>(d(rng))};
    Bytes p(payload_bytes(f, in.size()));
    encode_payload(f, in.data(), in.size(), p.data());
    ASSERT_GE(payload_samples(f, p.size()), in.size());
    decode_payload(f, p.data(), in.size(), got.data());
    EXPECT_EQ(got, in) << "item bits " << int(f.item_bits);
  }
  // What is not read, named.
  std::string why;
  PayloadFormat real = PayloadFormat::sc16();
  real.sample_type = 0;
  EXPECT_FALSE(real.supported(&why));
  EXPECT_NE(why.find("sample type 0"), std::string::npos) << why;
  PayloadFormat pe12 = PayloadFormat::sc12();
  pe12.link_efficient = false;
  EXPECT_FALSE(pe12.supported(&why));
  EXPECT_NE(why.find("12 bits processing-efficient"), std::string::npos) << why;
  PayloadFormat tagged = PayloadFormat::sc16();
  tagged.channel_tag_bits = 4;
  EXPECT_FALSE(tagged.supported(&why));
}

// Context: a packet by hand (CIF0 with bandwidth, RF reference, reference level, gain, sample
// rate and payload format) and the encoder's every field back.
TEST(Vrt, ContextFieldsInTheirFixedPoint) {
  // CIF0 bits 31 (changed), 29, 27, 24, 23, 21, 15.
  const std::uint32_t cif0 =
      1u << 31 | 1u << 29 | 1u << 27 | 1u << 24 | 1u << 23 | 1u << 21 | 1u << 15;
  // 15 MHz bandwidth = 15e6 x 2^20; 9.4 GHz RF; -20.5 dBm = -2624/128; gain 10.25 (stage 1),
  // -3.5 (stage 2); 20 MHz; payload sc16: word0 0x200003CF (complex, 16/16), word1 0.
  const std::uint64_t bw = 15000000ull << 20, rf = 9400000000ull << 20, fs = 20000000ull << 20;
  const std::uint32_t level = static_cast<std::uint16_t>(-2624);
  const std::uint32_t gain =
      static_cast<std::uint32_t>(static_cast<std::uint16_t>(-448)) << 16 | 1312u;
  const Bytes b = words({0x4000000Fu, 0x00000007u, cif0, std::uint32_t(bw >> 32), std::uint32_t(bw),
                         std::uint32_t(rf >> 32), std::uint32_t(rf), level, gain,
                         std::uint32_t(fs >> 32), std::uint32_t(fs), 0x200003CFu, 0u, 0u, 0u});
  // (Two words after the payload format fill the size field's 15: not read.)
  Packet p;
  ASSERT_EQ(parse(b.data(), b.size(), p), Error::None);
  ASSERT_TRUE(p.is_context());
  EXPECT_EQ(p.stream_id, 7u);
  Context c;
  std::string why;
  ASSERT_EQ(parse_context(b.data(), p, c, &why), Error::None) << why;
  EXPECT_TRUE(c.changed);
  EXPECT_EQ(*c.bandwidth_hz, 15e6);
  EXPECT_EQ(*c.rf_reference_hz, 9.4e9);
  EXPECT_EQ(*c.reference_level_dbm, -20.5);
  EXPECT_EQ(*c.gain1_db, 10.25);
  EXPECT_EQ(*c.gain2_db, -3.5);
  EXPECT_EQ(*c.sample_rate_hz, 20e6);
  ASSERT_TRUE(c.payload_format);
  EXPECT_EQ(*c.payload_format, PayloadFormat::sc16());
  EXPECT_FALSE(c.if_reference_hz);
  EXPECT_FALSE(c.temperature_c);

  Context all;
  all.changed = true;
  all.reference_point = 42;
  all.bandwidth_hz = 15e6;
  all.if_reference_hz = -1.25e6;
  all.rf_reference_hz = 9.4e9 + 0.5;
  all.rf_offset_hz = 1e3;
  all.if_band_offset_hz = -2e3;
  all.reference_level_dbm = -0.0078125;
  all.gain1_db = 31.5;
  all.gain2_db = 0;
  all.over_range_count = 9;
  all.sample_rate_hz = 61.44e6;
  all.timestamp_adjustment_fs = -123456789;
  all.timestamp_calibration_s = 1700000000;
  all.temperature_c = 41.25;
  all.device_id = 0x0012A2ull << 16 | 0x0410u;
  all.state_event = 0xA0000000u;
  all.payload_format = PayloadFormat::sc12();
  Prologue pr;
  pr.type = PacketType::Context;
  pr.stream_id = 9;
  pr.tsi = Tsi::Gps;
  pr.integer_seconds = 5;
  Bytes out(512);
  const std::size_t n = encode_context(pr, all, out.data(), out.size());
  ASSERT_GT(n, 0u);
  ASSERT_EQ(parse(out.data(), n, p), Error::None);
  Context r;
  ASSERT_EQ(parse_context(out.data(), p, r, &why), Error::None) << why;
  EXPECT_EQ(r.cif0, 0xFFFF8000u);  // bits 31 (changed) to 15, every field
  EXPECT_EQ(*r.reference_point, 42u);
  EXPECT_EQ(*r.bandwidth_hz, 15e6);
  EXPECT_EQ(*r.if_reference_hz, -1.25e6);
  EXPECT_EQ(*r.rf_reference_hz, 9.4e9 + 0.5);
  EXPECT_EQ(*r.rf_offset_hz, 1e3);
  EXPECT_EQ(*r.if_band_offset_hz, -2e3);
  EXPECT_EQ(*r.reference_level_dbm, -0.0078125);
  EXPECT_EQ(*r.gain1_db, 31.5);
  EXPECT_EQ(*r.gain2_db, 0.0);
  EXPECT_EQ(*r.over_range_count, 9u);
  EXPECT_NEAR(*r.sample_rate_hz, 61.44e6, 1e-6);
  EXPECT_EQ(*r.timestamp_adjustment_fs, -123456789);
  EXPECT_EQ(*r.timestamp_calibration_s, 1700000000u);
  EXPECT_EQ(*r.temperature_c, 41.25);
  EXPECT_EQ(*r.device_id, all.device_id);
  EXPECT_EQ(*r.state_event, 0xA0000000u);
  EXPECT_EQ(*r.payload_format, PayloadFormat::sc12());
}

// Bad packets: each refused with its cause, and a message naming the value.
TEST(Vrt, BadPacketsAreRefusedByCause) {
  Packet p;
  auto check = [&](const Bytes& b, Error want, const std::string& text) {
    const Error e = parse(b.data(), b.size(), p);
    EXPECT_EQ(e, want) << to_string(e);
    const std::string m = describe(e, b.data(), b.size());
    EXPECT_NE(m.find(text), std::string::npos) << m;
  };
  check(Bytes{0x10, 0x00}, Error::Short, "2 bytes, shorter than a VRT header");
  check(words({0x10000000u}), Error::Size, "size field 0");
  check(words({0x1C000002u, 0u}), Error::Size, "size field 2 words is fewer than the 5");
  check(words({0x10000005u, 0u, 0u}), Error::Short, "size field 5 words (20 bytes) but 12 bytes");
  check(words({0x90000001u}), Error::Type, "packet type 9 is reserved");
  check(words({0x60000002u, 0u}), Error::Unsupported, "packet type 6 (command)");
  // Class ID pad bits beyond the payload (1 word = 32 bits; 31 is the field's most, so a payload
  // of none).
  check(words({0x18000004u, 0u, 0xF8000000u, 0u}), Error::Size, "pad bit count 31");
  // A context packet whose CIF0 announces a sample rate with one word left.
  const Bytes ctx = words({0x40000004u, 1u, 1u << 21, 0u});
  ASSERT_EQ(parse(ctx.data(), ctx.size(), p), Error::None);
  Context c;
  std::string why;
  EXPECT_EQ(parse_context(ctx.data(), p, c, &why), Error::Context);
  EXPECT_NE(why.find("sample rate (CIF0 bit 21, 2 words) runs past"), std::string::npos) << why;
  // Over TCP more bytes than the packet may follow it: the packet is its size field's.
  Bytes two = words({0x10000002u, 0xAAu, 0x10000002u, 0xBBu});
  ASSERT_EQ(parse(two.data(), two.size(), p), Error::None);
  EXPECT_EQ(p.bytes(), 8u);
  EXPECT_EQ(p.stream_id, 0xAAu);
}

// Random bytes, and random mutations of a good packet: parse and parse_context never read past
// what arrived (the vector is exactly that long: AddressSanitizer in the sanitizer build), and
// what they accept lies within it.
TEST(Vrt, RandomBytesAreReadWithinBounds) {
  std::mt19937_64 rng(21);
  Bytes good(64);
  Prologue pr;
  pr.class_id = ClassId{};
  pr.tsi = Tsi::Utc;
  pr.tsf = Tsf::SampleCount;
  const Bytes pay(24, 0x5A);
  const std::size_t n =
      encode_data(pr, pay.data(), pay.size(), Trailer{}, good.data(), good.size());
  good.resize(n);
  std::size_t accepted = 0;
  for (int t = 0; t < 20000; ++t) {
    Bytes b;
    if (t % 2) {
      b = good;
      for (int k = 0; k < 3; ++k)
        b[rng() % b.size()] ^= static_cast<unsigned char>(1u << (rng() % 8));
      b.resize(rng() % (b.size() + 1));
    } else {
      b.resize(rng() % 80);
      for (auto& x : b) x = static_cast<unsigned char>(rng());
    }
    Packet p;
    const Error e = parse(b.data(), b.size(), p);
    if (e != Error::None) {
      EXPECT_FALSE(describe(e, b.data(), b.size()).empty());
      continue;
    }
    ++accepted;
    ASSERT_LE(p.bytes(), b.size());
    ASSERT_LE(p.payload_offset + p.payload_bytes, p.bytes());
    if (p.is_context()) {
      Context c;
      parse_context(b.data(), p, c);
    }
  }
  EXPECT_GT(accepted, 100u);
}

// DIFI's payload format words announce one packing field per complex sample (16-bit items in
// 32-bit fields): the same bytes as sc16, read the same way; a field of neither size is refused.
TEST(Vrt, DifiPayloadFormatWordsReadAsSc16) {
  const PayloadFormat d16 = PayloadFormat::from_words(0xA00007CFu, 0u);
  const PayloadFormat d8 = PayloadFormat::from_words(0xA00003C7u, 0u);
  EXPECT_TRUE(d16.supported());
  EXPECT_TRUE(d8.supported());
  EXPECT_EQ(d16.sample_bits(), 32u);
  EXPECT_EQ(d8.sample_bits(), 16u);
  EXPECT_TRUE(d16.same_samples(PayloadFormat::sc16()));
  EXPECT_TRUE(d8.same_samples(PayloadFormat::sc8()));
  EXPECT_FALSE(d16.same_samples(PayloadFormat::sc8()));
  EXPECT_EQ(PayloadFormat::difi(16).word0(), 0xA00007CFu);
  EXPECT_EQ(PayloadFormat::difi(8).word0(), 0xA00003C7u);
  // I, Q big-endian int16 per word: (1, -2), (-32768, 32767).
  const Bytes payload = {0x00, 0x01, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xFF};
  EXPECT_EQ(payload_samples(d16, payload.size()), 2u);
  std::complex<float> out[2];
  decode_payload(d16, payload.data(), 2, out);
  EXPECT_EQ(out[0], std::complex<float>(1, -2));
  EXPECT_EQ(out[1], std::complex<float>(-32768, 32767));
  decode_payload(d16, payload.data(), 2, out, 0.5f);
  EXPECT_EQ(out[1], std::complex<float>(-16384, 16383.5f));
  PayloadFormat odd = PayloadFormat::sc16();
  odd.field_bits = 24;
  std::string why;
  EXPECT_FALSE(odd.supported(&why));
  EXPECT_NE(why.find("items of 16 bits in fields of 24"), std::string::npos) << why;
}

}  // namespace
}  // namespace radarpipe
