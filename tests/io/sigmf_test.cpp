// SigMF reading and writing: every complex datatype and endianness (encoded here byte by byte,
// independently of io/), 1 and 4 channels, pairs and archives (checked with the system's tar),
// captures, annotations, checksums, and one test per class of bad file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "io/json_depth.hpp"
#include "io/recording_source.hpp"
#include "io/sha512.hpp"
#include "io/sigmf_file.hpp"
#include "tests/support/reference.hpp"

namespace fs = std::filesystem;
using namespace radarpipe;
using namespace radarpipe::io;
using nlohmann::json;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("radarpipe_sigmf_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string meta_text(const std::string& datatype, std::size_t channels,
                      const json& extra_global = json::object(), const json& captures = nullptr) {
  json g = {{"core:datatype", datatype},
            {"core:version", "1.2.0"},
            {"core:sample_rate", 1e6},
            {"core:num_channels", channels}};
  g.update(extra_global);
  return json{
      {"global", g},
      {"captures", captures.is_null() ? json::array({{{"core:sample_start", 0}}}) : captures},
      {"annotations", json::array()}}
      .dump(2);
}

/// One component encoded by hand: integer value v (or float value) in the named format.
void encode(std::string& out, const std::string& dt, double v) {
  const bool is_float = dt[1] == 'f';
  const bool is_unsigned = dt[1] == 'u';
  const int bits = std::stoi(dt.substr(2));
  const bool be = dt.size() > 4 && dt.substr(dt.size() - 3) == "_be";
  std::uint64_t u = 0;
  if (is_float && bits == 32) {
    const float f = static_cast<float>(v);
    std::uint32_t x;
    std::memcpy(&x, &f, 4);
    u = x;
  } else if (is_float) {
    std::memcpy(&u, &v, 8);
  } else if (is_unsigned) {
    u = static_cast<std::uint64_t>(static_cast<std::int64_t>(v) + (std::int64_t{1} << (bits - 1)));
  } else {
    u = static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
  }
  const int bytes = bits / 8;
  for (int i = 0; i < bytes; ++i) {
    const int shift = 8 * (be ? bytes - 1 - i : i);
    out.push_back(static_cast<char>((u >> shift) & 0xff));
  }
}

const std::vector<std::string> kComplexTypes = {
    "ci8",     "cu8",     "ci16_le", "ci16_be", "cu16_le", "cu16_be", "ci32_le",
    "ci32_be", "cu32_le", "cu32_be", "cf32_le", "cf32_be", "cf64_le", "cf64_be"};

}  // namespace

TEST(SigmfDatatype, AcceptsTheGrammarAndRejectsTheRest) {
  for (const std::string& t : kComplexTypes) EXPECT_NO_THROW(parse_datatype(t)) << t;
  for (const char* t : {"rf32_le", "ri16_be", "ru8"}) EXPECT_FALSE(parse_datatype(t).is_complex);
  for (const char* t : {"cf16_le", "ci8_le", "ci16", "cf32", "xi16_le", "ci64_le", "cf32_me", ""})
    EXPECT_THROW(parse_datatype(t), std::invalid_argument) << t;
  // Long runs of digits are a width that does not exist, not an int overflow (found by
  // fuzz_sigmf_meta; its input is in tests/fuzz/corpus/sigmf_meta/).
  for (const char* t : {"ci1888888888888_le", "cf0000000032_le", "ci016_le"})
    EXPECT_THROW(parse_datatype(t), std::invalid_argument) << t;
}

class EveryDatatype : public ::testing::TestWithParam<std::tuple<std::string, std::size_t>> {};

TEST_P(EveryDatatype, ReadsBackEveryComponentDeinterleaved) {
  const auto [dt, channels] = GetParam();
  const int bits = std::stoi(dt.substr(2));
  const bool is_float = dt[1] == 'f';
  // Values that use the whole range of the type, including both extremes.
  const double lo = is_float ? -3.0e4 : -std::ldexp(1.0, bits - 1);
  const double hi = is_float ? 3.0e4 : std::ldexp(1.0, bits - 1) - 1;
  const std::size_t samples = 37;
  std::mt19937_64 rng(bits * 31 + channels);
  std::vector<double> values(samples * channels * 2);
  for (std::size_t i = 0; i < values.size(); ++i) {
    double v = lo + (hi - lo) * std::uniform_real_distribution<double>(0, 1)(rng);
    v = is_float ? v : std::round(v);
    if (i == 0) v = lo;
    if (i == 1) v = hi;
    values[i] = v;
  }
  std::string data;
  for (double v : values) encode(data, dt, v);
  TempDir dir;
  write_file(dir / "rec.sigmf-meta", meta_text(dt, channels));
  write_file(dir / "rec.sigmf-data", data);

  SigmfReader rec(dir / "rec");
  ASSERT_EQ(rec.samples(), samples);
  ASSERT_EQ(rec.channels(), channels);
  std::vector<cf32> out(samples * channels);
  rec.read(0, samples, out.data(), samples);
  for (std::size_t s = 0; s < samples; ++s)
    for (std::size_t c = 0; c < channels; ++c) {
      // SigMF interleaving: sample s of channel c is at component pair s * C + c.
      const double re = values[2 * (s * channels + c)], im = values[2 * (s * channels + c) + 1];
      const double tol = bits == 32 && !is_float ? std::fabs(re) * 6e-8 + std::fabs(im) * 6e-8
                                                 : std::max(std::fabs(re), std::fabs(im)) * 1e-7;
      EXPECT_NEAR(out[c * samples + s].real(), re, tol + 1e-30) << dt << " s=" << s << " c=" << c;
      EXPECT_NEAR(out[c * samples + s].imag(), im, tol + 1e-30) << dt << " s=" << s << " c=" << c;
    }
  // A read from the middle.
  std::vector<cf32> part(5 * channels);
  rec.read(30, 5, part.data(), 5);
  EXPECT_EQ(part[0], out[30]);
}

INSTANTIATE_TEST_SUITE_P(SigmfRead, EveryDatatype,
                         ::testing::Combine(::testing::ValuesIn(kComplexTypes),
                                            ::testing::Values(std::size_t{1}, std::size_t{4})),
                         [](const auto& p) {
                           return std::get<0>(p.param) + "_" +
                                  std::to_string(std::get<1>(p.param)) + "ch";
                         });

TEST(SigmfRead, UnsignedEightBitIsOffsetBinaryAndScaleApplies) {
  TempDir dir;
  json ext = {{"core:extensions",
               json::array({{{"name", "radar"}, {"version", "1.0.0"}, {"optional", true}}})},
              {"radar:center_frequency_hz", 9.4e9},
              {"radar:pri_s", 1e-4},
              {"radar:range_gates", 4},
              {"radar:waveform", {{"type", "rect"}, {"pulse_width_s", 1e-6}}},
              {"radar:sample_scale", 0.5}};
  write_file(dir / "u.sigmf-meta", meta_text("cu8", 1, ext));
  write_file(dir / "u.sigmf-data", std::string("\x80\x00\xff\x81", 4));
  SigmfReader rec(dir / "u");
  cf32 out[2];
  rec.read(0, 2, out, 2);
  EXPECT_EQ(out[0], cf32(0.0f, -64.0f));
  EXPECT_EQ(out[1], cf32(63.5f, 0.5f));
}

class WriterRoundTrip
    : public ::testing::TestWithParam<std::tuple<std::string, std::size_t, bool>> {};

TEST_P(WriterRoundTrip, WhatIsWrittenReadsBack) {
  const auto [dt, channels, archive] = GetParam();
  TempDir dir;
  const std::size_t n = 1000;
  std::vector<cf32> x(n * channels);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 100.0f);
  for (cf32& v : x) v = test::draw_complex<float>(normal, rng);
  x[3] = cf32(1e6f, -1e6f);  // saturates ci16 at scale 0.5: two clipped components
  SigmfMeta meta;
  RadarConfig radar;
  radar.channels = channels;
  radar.range_gates = 100;
  set_radar_extension(meta, radar, 1.0);
  SigmfCapture cap;
  cap.datetime = "2026-11-21T12:00:00Z";
  cap.frequency_hz = 9.4e9;
  meta.captures.push_back(cap);
  SigmfWriteOptions wo;
  wo.datatype = dt;
  wo.scale = 0.5;
  wo.archive = archive;
  SigmfWriter w(dir / "out", meta, wo);
  SigmfAnnotation ann;
  ann.sample_start = 10;
  ann.sample_count = 20;
  ann.fields = {{"core:label", "drone"}, {"core:comment", "carried through"}};
  w.meta().annotations.push_back(ann);
  w.write(x.data(), 600, n);
  w.write(x.data() + 600, 400, n);  // the rest, in a second call (strides per channel)
  w.close();
  EXPECT_EQ(w.samples_written(), 600u + 400u);
  EXPECT_EQ(w.clipped(), dt == "ci16_le" ? 2u : 0u);
  SigmfReader rec(archive ? dir / "out.sigmf" : dir / "out");
  EXPECT_TRUE(rec.checksum_verified());
  EXPECT_EQ(rec.meta().format.name, dt);
  ASSERT_EQ(rec.samples(), 1000u);
  ASSERT_TRUE(rec.meta().radar.has_value());
  EXPECT_EQ(rec.meta().radar->radar.range_gates, 100u);
  EXPECT_EQ(rec.meta().captures.at(0).datetime_ns, 1795262400000000000LL);
  ASSERT_EQ(rec.meta().annotations.size(), 1u);
  EXPECT_EQ(rec.meta().annotations[0].fields.value("core:comment", ""), "carried through");
  EXPECT_EQ(rec.meta().annotations[0].sample_count, 20u);
  std::vector<cf32> y(1000 * channels);
  rec.read(0, 1000, y.data(), 1000);
  for (std::size_t c = 0; c < channels; ++c)
    for (std::size_t i = 0; i < 1000; ++i) {
      const cf32 want = i < 600 ? x[c * n + i] : x[600 + c * n + (i - 600)];
      if (dt == "cf32_le") {
        ASSERT_EQ(y[c * 1000 + i], want) << c << " " << i;
      } else if (!(c == 0 && i == 3)) {  // sample 3 of channel 0 saturated
        ASSERT_NEAR(y[c * 1000 + i].real(), want.real(), 0.25f + 1e-3f) << c << " " << i;
        ASSERT_NEAR(y[c * 1000 + i].imag(), want.imag(), 0.25f + 1e-3f) << c << " " << i;
      }
    }
  if (dt == "ci16_le") {
    EXPECT_EQ(y[3], cf32(32767 * 0.5f, -32768 * 0.5f));
  }
  if (archive) {
    // The system's tar lists exactly the two members SigMF prescribes.
    const std::string cmd = "tar -tf " + (dir / "out.sigmf") + " > " + (dir / "list.txt");
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream list(dir / "list.txt");
    std::string all((std::istreambuf_iterator<char>(list)), {});
    EXPECT_NE(all.find("out/out.sigmf-meta"), std::string::npos) << all;
    EXPECT_NE(all.find("out/out.sigmf-data"), std::string::npos) << all;
  }
}

INSTANTIATE_TEST_SUITE_P(
    SigmfWrite, WriterRoundTrip,
    ::testing::Combine(::testing::Values(std::string("cf32_le"), std::string("ci16_le")),
                       ::testing::Values(std::size_t{1}, std::size_t{4}), ::testing::Bool()),
    [](const auto& p) {
      return std::get<0>(p.param) + "_" + std::to_string(std::get<1>(p.param)) + "ch" +
             (std::get<2>(p.param) ? "_archive" : "_pair");
    });

TEST(SigmfRead, ArchiveMadeBySystemTarIsReadInPlace) {
  TempDir dir;
  fs::create_directories(dir / "rec");
  std::string data;
  for (int i = 0; i < 8; ++i) encode(data, "ci16_le", i - 4);
  write_file(dir / "rec/rec.sigmf-meta", meta_text("ci16_le", 1));
  write_file(dir / "rec/rec.sigmf-data", data);
  const std::string cmd = "cd " + (dir / "") + " && tar --format=pax -cf rec.sigmf rec";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  fs::remove_all(dir / "rec");
  SigmfReader rec(dir / "rec.sigmf");
  EXPECT_TRUE(rec.location().archive);
  cf32 out[4];
  rec.read(0, 4, out, 4);
  EXPECT_EQ(out[0], cf32(-4, -3));
  EXPECT_EQ(out[3], cf32(2, 3));
}

TEST(SigmfRead, CapturesCutCpisAndDateThem) {
  TempDir dir;
  // 3 gates x 2 pulses = 6 samples per CPI; capture 0 holds 14 samples (2 CPIs + 2 left), capture
  // 1 holds 7 (1 CPI + 1 left) and is tuned elsewhere.
  json caps = json::array({{{"core:sample_start", 0},
                            {"core:datetime", "2026-11-21T12:00:00Z"},
                            {"core:frequency", 9.4e9}},
                           {{"core:sample_start", 14},
                            {"core:datetime", "2026-11-21T12:00:01Z"},
                            {"core:frequency", 9.5e9}}});
  write_file(dir / "c.sigmf-meta", meta_text("cf32_le", 1, json::object(), caps));
  std::string data;
  for (int i = 0; i < 21 * 2; ++i) encode(data, "cf32_le", i);
  write_file(dir / "c.sigmf-data", data);
  SigmfReader rec(dir / "c");
  RecordingCpiSource src(rec, 2, 3, 1e-3);
  ASSERT_EQ(src.slots().size(), 3u);
  EXPECT_EQ(src.leftover_samples(), 3u);
  EXPECT_EQ(src.slots()[1].first_sample, 6u);
  EXPECT_EQ(src.slots()[1].timestamp_ns, 1795262400000000000LL + 2'000'000);  // 2 pulses x 1 ms
  EXPECT_EQ(src.slots()[2].first_sample, 14u);
  EXPECT_EQ(src.slots()[2].timestamp_ns, 1795262401000000000LL);
  EXPECT_EQ(*src.slots()[2].frequency_hz, 9.5e9);
  Cpi cpi;
  ASSERT_TRUE(src.next(cpi));
  ASSERT_TRUE(src.next(cpi));
  ASSERT_TRUE(src.next(cpi));
  EXPECT_EQ(cpi.samples[0], cf32(28, 29));  // sample 14
  EXPECT_EQ(cpi.id, 2u);
  EXPECT_FALSE(src.next(cpi));
}

// ---- bad files: each class gives its message ----

std::string error_of(const std::string& path, SigmfReadOptions o = {}) {
  try {
    SigmfReader r(path, o);
  } catch (const SigmfError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SigmfBadFiles, MissingDataFile) {
  TempDir dir;
  write_file(dir / "m.sigmf-meta", meta_text("cf32_le", 1));
  const std::string e = error_of(dir / "m");
  EXPECT_NE(e.find("m.sigmf-data: data file not found"), std::string::npos) << e;
}

TEST(SigmfBadFiles, MissingRecording) {
  TempDir dir;
  const std::string e = error_of(dir / "nothing");
  EXPECT_NE(e.find("nothing.sigmf-meta: metadata file not found"), std::string::npos) << e;
}

TEST(SigmfBadFiles, BadJsonGivesLineAndColumn) {
  TempDir dir;
  write_file(dir / "j.sigmf-meta",
             "{\n  \"global\": {\n    \"core:datatype\": \"cf32_le\",,\n  }\n}\n");
  write_file(dir / "j.sigmf-data", "");
  const std::string e = error_of(dir / "j");
  EXPECT_NE(e.find("j.sigmf-meta:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
}

TEST(SigmfBadFiles, MissingRequiredField) {
  TempDir dir;
  write_file(dir / "r.sigmf-meta",
             R"({"global": {"core:version": "1.2.0"}, "captures": [], "annotations": []})");
  write_file(dir / "r.sigmf-data", "");
  const std::string e = error_of(dir / "r");
  EXPECT_NE(e.find("global.core:datatype: required field is missing"), std::string::npos) << e;
}

TEST(SigmfBadFiles, UnknownAndRealDatatypes) {
  TempDir dir;
  write_file(dir / "u.sigmf-meta", meta_text("cf33_le", 1));
  write_file(dir / "u.sigmf-data", "");
  std::string e = error_of(dir / "u");
  EXPECT_NE(e.find("global.core:datatype: 'cf33_le' is not a SigMF datatype"), std::string::npos)
      << e;
  write_file(dir / "u.sigmf-meta", meta_text("rf32_le", 1));
  e = error_of(dir / "u");
  EXPECT_NE(e.find("'rf32_le' holds real samples"), std::string::npos) << e;
}

TEST(SigmfBadFiles, TruncatedDataKeepsWholeSamplesAndCountsTheRest) {
  TempDir dir;
  write_file(dir / "t.sigmf-meta", meta_text("ci16_le", 2));  // 8 bytes per sample of 2 channels
  write_file(dir / "t.sigmf-data", std::string(8 * 5 + 3, '\0'));
  SigmfReader rec(dir / "t");
  EXPECT_EQ(rec.samples(), 5u);
  EXPECT_EQ(rec.leftover_bytes(), 3u);
}

TEST(SigmfBadFiles, UnsortedCaptures) {
  TempDir dir;
  json caps = json::array({{{"core:sample_start", 100}}, {{"core:sample_start", 50}}});
  write_file(dir / "s.sigmf-meta", meta_text("cf32_le", 1, json::object(), caps));
  write_file(dir / "s.sigmf-data", std::string(8 * 200, '\0'));
  const std::string e = error_of(dir / "s");
  EXPECT_NE(
      e.find("captures[1].core:sample_start: 50 is not after captures[0].core:sample_start 100"),
      std::string::npos)
      << e;
}

TEST(SigmfBadFiles, ChecksumMismatchAndSkip) {
  TempDir dir;
  const std::string data(64, 'x');
  Sha512 h;
  h.update("y", 1);
  write_file(dir / "k.sigmf-meta", meta_text("cf32_le", 1, {{"core:sha512", h.hex_digest()}}));
  write_file(dir / "k.sigmf-data", data);
  const std::string e = error_of(dir / "k");
  EXPECT_NE(e.find("checksum mismatch"), std::string::npos) << e;
  EXPECT_NE(e.find("--skip-checksum"), std::string::npos) << e;
  SigmfReadOptions skip;
  skip.verify_checksum = false;
  EXPECT_EQ(error_of(dir / "k", skip), "(no error)");
}

TEST(SigmfBadFiles, RadarKeysWithoutTheExtensionDeclared) {
  TempDir dir;
  write_file(dir / "x.sigmf-meta", meta_text("cf32_le", 1, {{"radar:pri_s", 1e-4}}));
  write_file(dir / "x.sigmf-data", "");
  const std::string e = error_of(dir / "x");
  EXPECT_NE(e.find("global.core:extensions"), std::string::npos) << e;
}

// Metadata nested 10^5 deep crashed the reader (a recursive free of the parsed document
// overflowed the stack); it is refused before parsing, naming the depth. Brackets inside
// strings do not count, and real metadata is far from the limit.
TEST(SigmfBadFiles, DeeplyNestedMetadataIsRefusedBeforeParsing) {
  TempDir dir;
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  write_file(dir / "n.sigmf-meta", "{\"global\": " + deep + "}");
  write_file(dir / "n.sigmf-data", "");
  const std::string e = error_of(dir / "n");
  EXPECT_NE(e.find("n.sigmf-meta: JSON nested more than 64 deep (at byte"), std::string::npos) << e;
  EXPECT_EQ(json_depth_error(std::string(64, '[') + std::string(64, ']')), "");
  EXPECT_NE(json_depth_error(std::string(65, '{')), "");
  EXPECT_EQ(json_depth_error("{\"a\": \"[[[[\\\"{{{{\"}"), "");  // inside a string, escapes too
  write_file(dir / "k.sigmf-meta",
             meta_text("cf32_le", 1, {{"core:description", std::string(1000, '[')}}));
  write_file(dir / "k.sigmf-data", std::string(64, 'x'));
  EXPECT_EQ(error_of(dir / "k"), "(no error)");
}

TEST(SigmfBadFiles, CorruptArchive) {
  TempDir dir;
  write_file(dir / "z.sigmf", std::string(1024, 'q'));
  const std::string e = error_of(dir / "z.sigmf");
  EXPECT_NE(e.find("not a tar archive"), std::string::npos) << e;
}
