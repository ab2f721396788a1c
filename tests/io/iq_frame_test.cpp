// The IQ wire format, the segment link header and the published protobuf messages: encodings
// checked byte by byte against the layout written out in the tests, every rejection cause, and
// round trips.
#include "io/iq_frame.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "io/detection_json.hpp"
#include "io/link_message.hpp"
#include "io/stream_messages.hpp"

namespace radarpipe::io {
namespace {

// Little-endian field writers of the test's own, independent of io/le.hpp.
void put32(std::vector<unsigned char>& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

IqFrameHeader sample_header() {
  IqFrameHeader h;
  h.stream_id = 7;
  h.sequence = 0x0102030405060708ull;
  h.timestamp_ns = 1767225600123456789LL;
  h.first_pulse = 4096;
  h.pulses = 3;
  h.gates = 5;
  h.channels = 2;
  h.datatype = IqDatatype::Ci16Le;
  h.scale = 0.25f;
  h.center_frequency_hz = 9.41e9;
  return h;
}

TEST(IqFrame, HeaderLayoutIsTheDocumentedOne) {
  const auto b = encode_iq_header(sample_header());
  ASSERT_EQ(b.size(), 80u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), 4), "RPIQ");
  EXPECT_EQ(b[4] | (b[5] << 8), 1);   // version
  EXPECT_EQ(b[6] | (b[7] << 8), 80);  // header bytes
  EXPECT_EQ(b[8], 7);                 // stream id
  EXPECT_EQ(b[16], 0x08);             // sequence, least significant byte first
  EXPECT_EQ(b[23], 0x01);
  std::uint64_t pulse = 0;
  for (int i = 0; i < 8; ++i) pulse |= std::uint64_t{b[32 + i]} << (8 * i);
  EXPECT_EQ(pulse, 4096u);
  EXPECT_EQ(b[40], 3);  // pulses
  EXPECT_EQ(b[44], 5);  // gates
  EXPECT_EQ(b[48], 2);  // channels
  EXPECT_EQ(b[52], 2);  // ci16_le
  float scale;
  std::memcpy(&scale, b.data() + 56, 4);
  EXPECT_EQ(scale, 0.25f);
  double f;
  std::memcpy(&f, b.data() + 64, 8);
  EXPECT_EQ(f, 9.41e9);

  IqFrameHeader back;
  const FrameCheck c = decode_iq_frame(b.data(), b.size(), 3 * 5 * 2 * 4, back);
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(back.stream_id, 7u);
  EXPECT_EQ(back.sequence, 0x0102030405060708ull);
  EXPECT_EQ(back.timestamp_ns, 1767225600123456789LL);
  EXPECT_EQ(back.first_pulse, 4096u);
  EXPECT_EQ(back.datatype, IqDatatype::Ci16Le);
  EXPECT_EQ(back.center_frequency_hz, 9.41e9);
}

TEST(IqFrame, EveryMalformationHasItsCauseAndMessage) {
  const IqFrameHeader h = sample_header();
  const std::size_t payload = 3 * 5 * 2 * 4;
  auto check = [&](std::vector<unsigned char> b, std::size_t size, std::size_t payload_size) {
    IqFrameHeader out;
    return decode_iq_frame(b.data(), size, payload_size, out);
  };
  auto bytes = [&](const IqFrameHeader& x) {
    const auto a = encode_iq_header(x);
    return std::vector<unsigned char>(a.begin(), a.end());
  };
  std::vector<unsigned char> b = bytes(h);

  FrameCheck c = check(b, 4, payload);
  EXPECT_EQ(c.reject, FrameReject::HeaderSize);
  c = check(b, 79, payload);
  EXPECT_EQ(c.reject, FrameReject::HeaderSize);
  EXPECT_NE(c.message.find("79 bytes"), std::string::npos) << c.message;

  auto bad = b;
  bad[0] = 'X';
  c = check(bad, 80, payload);
  EXPECT_EQ(c.reject, FrameReject::Magic);
  EXPECT_NE(c.message.find("expected 0x51495052"), std::string::npos) << c.message;

  bad = b;
  bad[4] = 2;
  c = check(bad, 80, payload);
  EXPECT_EQ(c.reject, FrameReject::Version);
  EXPECT_NE(c.message.find("version 2"), std::string::npos);

  bad = b;
  bad[52] = 9;
  c = check(bad, 80, payload);
  EXPECT_EQ(c.reject, FrameReject::Datatype);
  EXPECT_NE(c.message.find("datatype 9"), std::string::npos);

  auto dim = [&](std::size_t at, std::uint32_t v) {
    auto x = b;
    put32(x, at, v);
    return check(x, 80, payload);
  };
  EXPECT_EQ(dim(44, 0).reject, FrameReject::Dimensions);         // gates 0
  EXPECT_EQ(dim(44, 1u << 25).reject, FrameReject::Dimensions);  // gates > 2^24
  EXPECT_EQ(dim(48, 5000).reject, FrameReject::Dimensions);      // channels
  c = dim(40, 100000);                                           // pulses
  EXPECT_EQ(c.reject, FrameReject::Dimensions);
  EXPECT_NE(c.message.find("pulses 100000 is not in [1, 65536]"), std::string::npos) << c.message;
  c = dim(40, 0);  // no pulses and not the end of the stream
  EXPECT_EQ(c.reject, FrameReject::Dimensions);
  // 65536 pulses x 1024 channels x 16 Mi gates: within each limit, absurd together.
  auto huge = b;
  put32(huge, 40, 65536);
  put32(huge, 44, 1u << 24);
  put32(huge, 48, 1024);
  c = check(huge, 80, payload);
  EXPECT_EQ(c.reject, FrameReject::Dimensions);
  EXPECT_NE(c.message.find("1 GiB"), std::string::npos) << c.message;

  c = check(b, 80, payload - 4);
  EXPECT_EQ(c.reject, FrameReject::PayloadSize);
  EXPECT_NE(c.message.find("payload of 116 bytes"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("need 120"), std::string::npos) << c.message;
  EXPECT_EQ(check(b, 80, payload + 8).reject, FrameReject::PayloadSize);

  IqFrameHeader end = h;
  end.pulses = 0;
  end.flags = kIqEndOfStream;
  IqFrameHeader out;
  const auto eb = encode_iq_header(end);
  EXPECT_TRUE(decode_iq_frame(eb.data(), eb.size(), 0, out).ok());
  EXPECT_TRUE(out.end_of_stream());
}

TEST(IqFrame, UnpackConvertsBothDatatypesInPulseChannelGateOrder) {
  IqFrameHeader h = sample_header();  // 3 pulses x 2 channels x 5 gates
  std::vector<unsigned char> ci16(h.payload_bytes());
  for (std::size_t i = 0; i < ci16.size() / 2; ++i) {
    const auto v = static_cast<std::int16_t>(static_cast<int>(i * 37 % 2001) - 1000);
    ci16[2 * i] = static_cast<unsigned char>(v & 0xff);
    ci16[2 * i + 1] = static_cast<unsigned char>((v >> 8) & 0xff);
  }
  std::vector<cf32> out(5);
  for (std::size_t p = 0; p < 3; ++p)
    for (std::size_t c = 0; c < 2; ++c) {
      unpack_pulse(h, ci16.data(), p, c, out.data());
      for (std::size_t n = 0; n < 5; ++n) {
        const std::size_t i = ((p * 2 + c) * 5 + n) * 2;  // component index
        const auto re = static_cast<float>(static_cast<int>(i * 37 % 2001) - 1000);
        const auto im = static_cast<float>(static_cast<int>((i + 1) * 37 % 2001) - 1000);
        EXPECT_EQ(out[n], cf32(re * 0.25f, im * 0.25f));
      }
    }
  h.datatype = IqDatatype::Cf32Le;
  std::vector<cf32> cf(3 * 2 * 5);
  for (std::size_t i = 0; i < cf.size(); ++i)
    cf[i] = cf32(static_cast<float>(i), -static_cast<float>(i) * 0.5f);
  unpack_pulse(h, cf.data(), 2, 1, out.data());
  for (std::size_t n = 0; n < 5; ++n) EXPECT_EQ(out[n], cf[(2 * 2 + 1) * 5 + n]);
}

TEST(LinkMessage, RoundTripAndErrors) {
  LinkHeader h;
  h.kind = LinkKind::Maps;
  h.stream_id = 3;
  h.cpi = 99;
  h.timestamp_ns = -5;
  h.ingest_ns = 123456789;
  h.dims[0] = 1;
  h.dims[1] = 64;
  h.dims[2] = 300;
  h.center_frequency_hz = 1.3e9;
  h.cpis_dropped = 4;
  h.frames_rejected = 11;
  const auto b = encode_link_header(h);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), 4), "RPLK");
  LinkHeader back;
  EXPECT_EQ(decode_link_header(b.data(), b.size(), 64 * 300 * 4, back), "");
  EXPECT_EQ(back.kind, LinkKind::Maps);
  EXPECT_EQ(back.cpi, 99u);
  EXPECT_EQ(back.timestamp_ns, -5);
  EXPECT_EQ(back.ingest_ns, 123456789);
  EXPECT_EQ(back.dims[1], 64u);
  EXPECT_EQ(back.center_frequency_hz, 1.3e9);
  EXPECT_EQ(back.cpis_dropped, 4u);
  EXPECT_EQ(back.frames_rejected, 11u);
  EXPECT_NE(decode_link_header(b.data(), b.size(), 64 * 300 * 8, back).find("need 76800"),
            std::string::npos);
  EXPECT_NE(decode_link_header(b.data(), 95, 0, back).find("95 bytes"), std::string::npos);
  auto bad = b;
  bad[8] = 9;
  EXPECT_NE(decode_link_header(bad.data(), bad.size(), 0, back).find("kind 9"), std::string::npos);
}

TEST(StreamMessages, ReportTelemetryAndEndRoundTrip) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1e4, 1e4);
  DetectionReport r;
  r.cpi = 77;
  r.timestamp_ns = 1767225600000000001LL;
  r.cells = 230400;
  r.crossings = 12;
  r.crossings_dropped = 1;
  r.detections_dropped = 2;
  r.noise_power_db = u(rng);
  r.design_pfa = 1e-6;
  for (int i = 0; i < 5; ++i) {
    Detection d;
    d.range_m = u(rng);
    d.range_rate_mps = u(rng);
    d.doppler_hz = u(rng);
    d.snr_db = u(rng);
    d.power_db = u(rng);
    d.noise_db = u(rng);
    d.range_bin = i * 100;
    d.doppler_bin = -i;
    d.range_bin_frac = u(rng);
    d.doppler_bin_frac = u(rng);
    d.channel = i - 1;
    d.cells = static_cast<std::uint32_t>(i + 1);
    d.range_extent_bins = static_cast<std::uint32_t>(2 * i);
    d.eclipsed = i % 2 == 1;
    r.detections.push_back(d);
  }
  ReportEnvelope env{9, 3, 4, 41};
  ReportEnvelope env_back;
  const DetectionReport back = decode_report_pb(encode_report_pb(r, env), &env_back);
  // Every field, bit for bit: the JSON objects (docs/detections.md) are equal.
  EXPECT_EQ(report_to_json(back), report_to_json(r));
  EXPECT_EQ(env_back.stream_id, 9u);
  EXPECT_EQ(env_back.cpis_dropped, 3u);
  EXPECT_EQ(env_back.frames_rejected, 4u);
  EXPECT_EQ(env_back.sequence, 41u);
  EXPECT_THROW(decode_report_pb(std::string("\xff\xff\xff", 3)), MessageError);
  EXPECT_THROW(decode_report_pb(std::string()), MessageError);  // schema_version 0

  TelemetrySnapshot t;
  t.process = "radarpipe run pid 1";
  t.frames_received = 10;
  t.frames_rejected_by_cause = {{"magic", 2}, {"shape", 1}};
  t.cpis_dropped_by_cause = {{"overrun", 5}};
  t.stage_latency = {{"pulse_compression", 1.5, 2.5, 3.5, 10}};
  t.end_to_end = {"end_to_end", 4, 5, 6, 10};
  t.samples_per_s = 1e7;
  t.reports_dropped = 2;
  t.false_alarms =
      FalseAlarmMonitor{100, 40, 4000000, 4100, 1.025e-3, 1e-3, 1.025, 0.97e-3, 1.03e-3};
  const TelemetrySnapshot tb = decode_telemetry_pb(encode_telemetry_pb(t));
  EXPECT_EQ(telemetry_to_json(tb), telemetry_to_json(t));
  EXPECT_EQ(tb.rejected("magic"), 2u);
  EXPECT_EQ(tb.dropped("overrun"), 5u);

  const StreamEndInfo e{2, 100, 3, 1};
  const StreamEndInfo eb = decode_stream_end_pb(encode_stream_end_pb(e));
  EXPECT_EQ(stream_end_to_json(eb), stream_end_to_json(e));
}

}  // namespace
}  // namespace radarpipe::io
