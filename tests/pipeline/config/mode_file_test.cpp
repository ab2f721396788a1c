#include "pipeline/config/mode_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "pipeline/chain/stage_config.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

const char* kValid = R"(radar:
  center_frequency_hz: 9.4e9
  sample_rate_hz: 20.0e6
  pri_s: 100.0e-6
  range_gates: 1800
  window_start_s: 0.0
  channels: 1
  waveform: {type: lfm, pulse_width_s: 10.0e-6, bandwidth_hz: 15.0e6, direction: up}
processing:
  pulses: 128
  range_window: {type: hamming}
  mti: none
  doppler_window: {type: taylor, nbar: 4, sll_db: 35}
  doppler_fft_size: 128
  channel_combine: noncoherent
  cfar: {type: ca, guard_cells: {range: 2, doppler: 1}, training_cells: {range: 8, doppler: 4}, pfa: 1.0e-6, os_rank: 0.75}
backend: auto
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

// Parses text that must fail; returns the message.
std::string error_of(const std::string& text) {
  try {
    parse_mode_yaml(text, "mode.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

TEST(ModeFile, TheIssueExampleLoads) {
  const Mode m = parse_mode_yaml(kValid);
  EXPECT_EQ(m.radar.range_gates, 1800u);
  EXPECT_EQ(m.radar.waveform.type, WaveformType::Lfm);
  EXPECT_EQ(m.processing.doppler_window.type, WindowType::Taylor);
  EXPECT_EQ(m.processing.doppler_window.nbar, 4);
  EXPECT_EQ(m.processing.cfar.train_range, 8u);
  EXPECT_DOUBLE_EQ(m.processing.cfar.pfa, 1e-6);
  EXPECT_EQ(m.backend, Backend::Auto);
}

TEST(ModeFile, EveryShippedModeIsValid) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::source_path("configs"))) {
    if (e.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(load_mode_file(e.path().string())) << e.path();
    ++n;
  }
  EXPECT_GE(n, 3u);
}

TEST(ModeFile, OutOfRangeValueNamesKeyValueAndRange) {
  EXPECT_NE(error_of(replace(kValid, "pfa: 1.0e-6", "pfa: 1.5"))
                .find("processing.cfar.pfa: 1.5 is not in (0, 1)"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "os_rank: 0.75", "os_rank: 0"))
                .find("processing.cfar.os_rank: 0 is not in (0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "channels: 1", "channels: 0"))
                .find("radar.channels: 0 is not in [1, 1024]"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "sample_rate_hz: 20.0e6", "sample_rate_hz: -1"))
                .find("radar.sample_rate_hz: -1 must be > 0"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "sll_db: 35", "sll_db: 5"))
                .find("processing.doppler_window.sll_db: 5 is not in [13, 120]"),
            std::string::npos);
}

TEST(ModeFile, ErrorsCarryFileLineAndColumn) {
  const std::string e = error_of(replace(kValid, "pfa: 1.0e-6", "pfa: 1.5"));
  EXPECT_TRUE(std::regex_search(e, std::regex("^mode\\.yaml:16:[0-9]+: processing\\.cfar\\.pfa")))
      << e;
}

TEST(ModeFile, UnknownKeysSuggestTheNearestName) {
  EXPECT_NE(error_of(replace(kValid, "processing:", "procesing:"))
                .find("procesing: unknown key; did you mean 'processing'?"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "guard_cells:", "guard_cell:"))
                .find("processing.cfar.guard_cell: unknown key; did you mean 'guard_cells'?"),
            std::string::npos);
  EXPECT_NE(
      error_of(replace(kValid, "range_gates:", "range_gate:")).find("did you mean 'range_gates'?"),
      std::string::npos);
  const std::string far =
      error_of(replace(kValid, "backend: auto", "backend: auto\nfrobnicate: 3"));
  EXPECT_NE(
      far.find(
          "frobnicate: unknown key (valid keys: radar, processing, backend, pipeline, antenna, "
          "asterix, input, security)"),
      std::string::npos)
      << far;
}

TEST(ModeFile, WrongTypesAndUnknownWords) {
  EXPECT_NE(error_of(replace(kValid, "range_gates: 1800", "range_gates: lots"))
                .find("radar.range_gates: 'lots' is not a whole number"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "range_gates: 1800", "range_gates: 18.5"))
                .find("radar.range_gates: '18.5' is not a whole number"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "mti: none", "mti: four_pulse"))
                .find("processing.mti: 'four_pulse' is not one of none, two_pulse, three_pulse"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "type: ca", "type: xx"))
                .find("processing.cfar.type: 'xx' is not one of ca, go, so, os"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "type: ca", "type: ca, threshold: exact"))
                .find("processing.cfar.threshold: 'exact' is not one of calibrated, textbook"),
            std::string::npos);
  EXPECT_EQ(parse_mode_yaml(kValid, "mode.yaml").processing.cfar.threshold,
            CfarThreshold::Calibrated);
  EXPECT_EQ(
      parse_mode_yaml(replace(kValid, "type: ca", "type: ca, threshold: textbook"), "mode.yaml")
          .processing.cfar.threshold,
      CfarThreshold::Textbook);
  EXPECT_NE(error_of(replace(kValid, "pri_s: 100.0e-6", "pri_s: [1, 2]"))
                .find("radar.pri_s: expected a number, got a list"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "backend: auto", "backend: gpu"))
                .find("backend: 'gpu' is not one of auto, cpu, cuda"),
            std::string::npos);
}

TEST(ModeFile, MissingRequiredKeys) {
  EXPECT_NE(error_of(replace(kValid, "  pri_s: 100.0e-6\n", ""))
                .find("radar.pri_s: required key is missing"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "bandwidth_hz: 15.0e6, ", ""))
                .find("radar.waveform.bandwidth_hz: required key is missing"),
            std::string::npos);
  EXPECT_NE(error_of("").find("the file is empty"), std::string::npos);
}

TEST(ModeFile, WaveformSpecificRules) {
  const std::string barker =
      replace(kValid, "{type: lfm, pulse_width_s: 10.0e-6, bandwidth_hz: 15.0e6, direction: up}",
              "{type: barker, length: 6, chip_width_s: 1.0e-6}");
  EXPECT_NE(error_of(barker).find(
                "radar.waveform.length: 6 is not a Barker code length (2, 3, 4, 5, 7, 11, 13)"),
            std::string::npos);
  EXPECT_NE(
      error_of(replace(kValid, "bandwidth_hz: 15.0e6", "bandwidth_hz: 25.0e6"))
          .find(
              "radar.waveform.bandwidth_hz: 25000000 exceeds the complex sample rate 20000000 Hz"),
      std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "bandwidth_hz: 15.0e6, direction: up",
                             "bandwidth_hz: 15.0e6, length: 13"))
                .find("radar.waveform.length: unknown key"),
            std::string::npos);
  EXPECT_NE(
      error_of(replace(kValid, "range_window: {type: hamming}",
                       "range_window: {type: hamming, nbar: 4}"))
          .find("processing.range_window.nbar: only applies to the taylor window, not hamming"),
      std::string::npos);
}

TEST(ModeFile, InconsistentCombinations) {
  // Pulse longer than the receive window.
  EXPECT_NE(error_of(replace(kValid, "range_gates: 1800", "range_gates: 150"))
                .find("radar.waveform.pulse_width_s: the pulse of 1e-05 s (200 samples) is longer "
                      "than the receive window of 150 range gates"),
            std::string::npos);
  // Receive window beyond the PRI.
  EXPECT_NE(error_of(replace(kValid, "window_start_s: 0.0", "window_start_s: 20.0e-6"))
                .find("beyond the PRI of 0.0001 s"),
            std::string::npos);
  // Doppler FFT shorter than the pulses left after MTI.
  EXPECT_NE(error_of(replace(replace(kValid, "doppler_fft_size: 128", "doppler_fft_size: 100"),
                             "mti: none", "mti: two_pulse"))
                .find("processing.doppler_fft_size: 100 is shorter than the 127 pulses left after "
                      "MTI (two_pulse)"),
            std::string::npos);
  // Training region larger than the map, in Doppler and in range.
  EXPECT_NE(
      error_of(replace(replace(kValid, "doppler_fft_size: 128", "doppler_fft_size: 8"),
                       "pulses: 128", "pulses: 8"))
          .find("processing.cfar.training_cells.doppler: the CFAR window spans 11 Doppler cells"),
      std::string::npos);
  EXPECT_NE(
      error_of(replace(kValid, "training_cells: {range: 8", "training_cells: {range: 1000"))
          .find("processing.cfar.training_cells.range: the CFAR window spans 2005 range cells"),
      std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "training_cells: {range: 8, doppler: 4}",
                             "training_cells: {range: 0, doppler: 0}"))
                .find("no training cells"),
            std::string::npos);
  EXPECT_NE(
      error_of(
          replace(replace(kValid, "pulses: 128", "pulses: 2"), "mti: none", "mti: three_pulse"))
          .find("processing.mti: three_pulse needs at least 3 pulses, processing.pulses is 2"),
      std::string::npos);
}

TEST(ModeFile, NotYamlAndMissingFile) {
  EXPECT_NE(error_of("radar: {center_frequency_hz: [1, 2").find("mode.yaml:1:"), std::string::npos);
  EXPECT_NE(error_of("radar: {center_frequency_hz: [1, 2").find("not valid YAML"),
            std::string::npos);
  try {
    load_mode_file("/nonexistent/mode.yaml");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/mode.yaml: cannot open the mode file");
  }
}

TEST(ModeFile, DefaultsForOptionalKeys) {
  std::string t = replace(kValid, "  doppler_fft_size: 128\n", "");
  t = replace(t, "pulses: 128", "pulses: 100");
  t = replace(t, "  window_start_s: 0.0\n", "");
  const Mode m = parse_mode_yaml(t);
  EXPECT_EQ(m.processing.doppler_fft_size, 128u);  // next power of two >= 100
  EXPECT_EQ(m.radar.window_start_s, 0.0);
  const Mode s =
      parse_mode_yaml(replace(kValid, "range_window: {type: hamming}", "range_window: blackman"));
  EXPECT_EQ(s.processing.range_window.type, WindowType::Blackman);
}

TEST(ModeValidate, HannOfTwoPulsesIsRejectedNotSilentlyZero) {
  Mode m = test::example_mode();
  m.processing.pulses = 2;
  m.processing.doppler_fft_size = 2;
  m.processing.cfar.train_doppler = 0;
  m.processing.cfar.guard_doppler = 0;
  m.processing.doppler_window = WindowConfig{WindowType::Hann};
  try {
    m.validate();
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "processing.doppler_window.type");
  }
}

TEST(ModeFile, ModeFileJsonRoundTripsEveryShippedMode) {
  for (const auto& e : std::filesystem::directory_iterator(test::source_path("configs"))) {
    if (e.path().extension() != ".yaml") continue;
    const Mode a = load_mode_file(e.path().string());
    const Mode b = parse_mode_yaml(mode_file_json(a).dump(), "json");
    EXPECT_EQ(mode_file_json(a), mode_file_json(b)) << e.path();
    EXPECT_EQ(b.processing.cfar.pfa, a.processing.cfar.pfa);
    EXPECT_EQ(b.radar.waveform.direction, a.radar.waveform.direction);
  }
}

// mode_file_yaml (what radarpipe calibrate writes) reads back as the same mode, factors and
// their evidence included; every shipped mode too.
TEST(ModeFile, ModeFileYamlRoundTrips) {
  for (const auto& e : std::filesystem::directory_iterator(test::source_path("configs"))) {
    if (e.path().extension() != ".yaml") continue;
    const Mode a = load_mode_file(e.path().string());
    const Mode b = parse_mode_yaml(mode_file_yaml(a, "a comment\nof two lines"), "yaml");
    EXPECT_EQ(mode_file_json(a), mode_file_json(b)) << e.path();
  }
  Mode m = parse_mode_yaml(kValid, "mode.yaml");
  CfarFactors& f = m.processing.cfar.factors;
  f.present = true;
  f.alpha = 31.123456789012345;
  f.fingerprint = m.cfar_fingerprint();
  f.cells = 123456789;
  f.crossings = 124;
  f.measured_pfa = 124.0 / 123456789.0;
  f.pfa_low = 0.8e-6;
  f.pfa_high = 1.2e-6;
  f.alpha_low = 30.5;
  f.alpha_high = 31.9;
  f.source = "1234";  // text that looks like a number stays text
  const Mode b = parse_mode_yaml(mode_file_yaml(m), "yaml");
  EXPECT_EQ(b.processing.cfar.factors.alpha, f.alpha);
  EXPECT_EQ(b.processing.cfar.factors.source, "1234");
  EXPECT_EQ(mode_file_json(b), mode_file_json(m));
}

// processing.cfar.factors is checked like every key: its factor, its evidence, and that it
// belongs to this mode's map (a fingerprint that changes with any key it depends on).
TEST(ModeFile, MeasuredFactorsAreValidated) {
  const Mode m = parse_mode_yaml(kValid, "mode.yaml");
  const std::string fp = m.cfar_fingerprint();
  EXPECT_EQ(fp.size(), 16u);
  auto with = [&](const std::string& factors) {
    return replace(kValid, "os_rank: 0.75}", "os_rank: 0.75, factors: {" + factors + "}}");
  };
  const Mode ok = parse_mode_yaml(with("alpha: 20.5, fingerprint: '" + fp + "'"), "mode.yaml");
  EXPECT_EQ(ok.processing.cfar.factors.alpha, 20.5);
  EXPECT_NE(error_of(with("alpha: -2, fingerprint: '" + fp + "'"))
                .find("processing.cfar.factors.alpha: -2 must be > 0"),
            std::string::npos);
  EXPECT_NE(error_of(with("alpha: 20.5")).find("processing.cfar.factors.fingerprint"),
            std::string::npos);
  EXPECT_NE(error_of(with("alpha: 20.5, fingerprint: '0000000000000000'"))
                .find("processing.cfar.factors.fingerprint: '0000000000000000' was measured for "
                      "another map; this mode's is '" +
                      fp + "'"),
            std::string::npos);
  EXPECT_NE(error_of(with("alpha: 20.5, fingerprint: '" + fp + "', cells: 10, crossings: 11"))
                .find("processing.cfar.factors.crossings: 11 is more than the 10 cells"),
            std::string::npos);
  EXPECT_NE(error_of(with("alpha: 20.5, fingerprint: '" + fp + "', alfa: 3"))
                .find("did you mean 'alpha'"),
            std::string::npos);
  // The fingerprint follows every key the factor depends on, and no other.
  auto fingerprint_after = [&](const std::string& from, const std::string& to) {
    return parse_mode_yaml(replace(kValid, from, to), "mode.yaml").cfar_fingerprint();
  };
  EXPECT_NE(fingerprint_after("pfa: 1.0e-6", "pfa: 1.0e-5"), fp);
  EXPECT_NE(fingerprint_after("{type: hamming}", "{type: hann}"), fp);
  EXPECT_NE(fingerprint_after("sll_db: 35", "sll_db: 40"), fp);
  EXPECT_NE(fingerprint_after("bandwidth_hz: 15.0e6", "bandwidth_hz: 10.0e6"), fp);
  EXPECT_NE(fingerprint_after("type: ca", "type: ca, threshold: textbook"), fp);
  EXPECT_EQ(fingerprint_after("center_frequency_hz: 9.4e9", "center_frequency_hz: 9.3e9"), fp);
  EXPECT_EQ(fingerprint_after("backend: auto", "backend: cpu"), fp);
}

TEST(ModeFile, PipelineSegmentsCutTheChain) {
  const Mode one = parse_mode_yaml(kValid);
  ASSERT_EQ(one.pipeline.segments.size(), 1u);
  EXPECT_EQ(one.pipeline.segments[0].first, Stage::PulseCompression);
  EXPECT_EQ(one.pipeline.segments[0].last, Stage::Detection);

  const std::string two = std::string(kValid) +
                          "pipeline:\n  cpis_in_flight: 5\n  link_queue: 3\n  segments:\n"
                          "    - {name: compress, stages: [pulse_compression]}\n"
                          "    - {name: detect, stages: [mti, doppler, cfar, plots], from: "
                          "'tcp://127.0.0.1:5601'}\n";
  const Mode m = parse_mode_yaml(two);
  ASSERT_EQ(m.pipeline.segments.size(), 2u);
  EXPECT_EQ(m.pipeline.cpis_in_flight, 5u);
  EXPECT_EQ(m.pipeline.link_queue, 3u);
  EXPECT_EQ(m.pipeline.segments[0].name, "compress");
  EXPECT_EQ(m.pipeline.segments[0].last, Stage::PulseCompression);
  EXPECT_EQ(m.pipeline.segments[1].first, Stage::Doppler);
  EXPECT_EQ(m.pipeline.segments[1].from, "tcp://127.0.0.1:5601");
  // The JSON form reads back to the same layout.
  EXPECT_EQ(mode_file_json(parse_mode_yaml(mode_file_json(m).dump())), mode_file_json(m));

  auto err = [&](const std::string& segments) {
    return error_of(std::string(kValid) + "pipeline:\n  segments:\n" + segments);
  };
  EXPECT_NE(err("    - {name: a, stages: [pulse_compression, cfar, plots]}\n")
                .find("'cfar' does not follow pulse_compression"),
            std::string::npos);
  EXPECT_NE(err("    - {name: a, stages: [pulse_compression, doppler, cfar]}\n"
                "    - {name: b, stages: [plots], from: 'inproc://b'}\n")
                .find("cuts cfar apart"),
            std::string::npos);
  EXPECT_NE(err("    - {name: a, stages: [pulse_compression]}\n"
                "    - {name: b, stages: [doppler, cfar, plots], from: 'udp://x'}\n")
                .find("pipeline.segments[1].from: 'udp://x' is not a ZeroMQ endpoint"),
            std::string::npos);
  EXPECT_NE(err("    - {name: a, stages: [pulse_compression]}\n"
                "    - {name: a, stages: [doppler, cfar, plots], from: 'inproc://b'}\n")
                .find("'a' names two segments"),
            std::string::npos);
  EXPECT_NE(err("    - {name: a, stages: [pulse_compression, doppler]}\n")
                .find("pipeline.segments: end before cfar"),
            std::string::npos);
  EXPECT_NE(err("    - {name: a, stages: [doppler, cfar, plots]}\n")
                .find("must start with pulse_compression"),
            std::string::npos);
  EXPECT_NE(err("    - {name: a, stages: [pulse_compression, doppler, cfar, plots], from: "
                "'inproc://x'}\n")
                .find("the first segment is fed by the IQ stream"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kValid) + "pipeline: {cpis_in_flight: 1}\n")
                .find("pipeline.cpis_in_flight: 1 is not in [2, 64]"),
            std::string::npos);
}

TEST(ModeFile, AntennaAndAsterixSections) {
  const std::string rotating = std::string(kValid) + R"(antenna:
  scan: rotating
  azimuth_deg: 15
  beamwidth_deg: 1.5
  rotation_period_s: 4
  direction: anticlockwise
  sectors: 32
asterix: {sac: 25, sic: 201, destination: "udp://239.10.0.1:8600", ttl: 4, zmq: true,
          max_datagram_bytes: 1200, amplitude_offset_db: -30, cat034: false}
)";
  const Mode m = parse_mode_yaml(rotating);
  EXPECT_TRUE(m.antenna.present);
  EXPECT_EQ(m.antenna.scan, ScanType::Rotating);
  EXPECT_EQ(m.antenna.direction, -1);
  EXPECT_EQ(m.antenna.sectors, 32u);
  EXPECT_DOUBLE_EQ(m.antenna.rotation_period_s, 4.0);
  EXPECT_EQ(m.asterix.sac, 25u);
  EXPECT_EQ(m.asterix.sic, 201u);
  EXPECT_EQ(m.asterix.destination, "udp://239.10.0.1:8600");
  EXPECT_EQ(m.asterix.ttl, 4u);
  EXPECT_TRUE(m.asterix.zmq);
  EXPECT_FALSE(m.asterix.cat034);
  EXPECT_EQ(m.asterix.max_datagram_bytes, 1200u);
  EXPECT_DOUBLE_EQ(m.asterix.amplitude_offset_db, -30.0);
  // The JSON form loads back to the same sections.
  const Mode back = parse_mode_yaml(mode_file_json(m).dump());
  EXPECT_EQ(back.antenna.sectors, 32u);
  EXPECT_EQ(back.antenna.direction, -1);
  EXPECT_EQ(back.asterix.destination, m.asterix.destination);
  EXPECT_FALSE(back.asterix.cat034);

  const std::string base = std::string(kValid);
  auto err = [&](const std::string& extra) { return error_of(base + extra); };
  EXPECT_NE(err("antenna: {scan: fixed, beamwidth_deg: 2, azimuth_deg: 360}\n")
                .find("antenna.azimuth_deg: 360 is not in [0, 360)"),
            std::string::npos);
  EXPECT_NE(err("antenna: {scan: fixed, beamwidth_deg: 2, channel_azimuths_deg: [1, 2]}\n")
                .find("antenna.channel_azimuths_deg: 2 azimuths given for 1 channels"),
            std::string::npos);
  EXPECT_NE(err("antenna: {scan: fixed, beamwidth_deg: 2, sectors: 8}\n")
                .find("antenna.sectors: only applies to scan: rotating"),
            std::string::npos);
  EXPECT_NE(err("antenna: {scan: rotating, beamwidth_deg: 2, rotation_period_s: 4, sectors: 12}\n")
                .find("antenna.sectors: 12 is not a power of two in [1, 256]"),
            std::string::npos);
  EXPECT_NE(err("antenna: {scan: rotating, beamwidth_deg: 2, rotation_period_s: 600}\n")
                .find("antenna.rotation_period_s: 600 is not in [0.1, 511]"),
            std::string::npos);
  EXPECT_NE(err("antenna: {scan: fixed}\n").find("antenna.beamwidth_deg: required key is missing"),
            std::string::npos);
  EXPECT_NE(err("asterix: {sac: 1, sic: 2}\n")
                .find("asterix: needs an antenna: section (I048/040 carries each plot's azimuth)"),
            std::string::npos);
  const std::string ant = "antenna: {scan: fixed, beamwidth_deg: 2}\n";
  EXPECT_NE(err(ant + "asterix: {sac: 256, sic: 2}\n").find("asterix.sac: 256 is not in [0, 255]"),
            std::string::npos);
  EXPECT_NE(err(ant + "asterix: {sac: 1, sic: 2, destination: \"tcp://x:1\"}\n")
                .find("asterix.destination: 'tcp://x:1' is not udp://HOST:PORT"),
            std::string::npos);
  EXPECT_NE(err(ant + "asterix: {sac: 1, sic: 2, max_datagram_bytes: 70000}\n")
                .find("asterix.max_datagram_bytes: 70000 is not in [64, 65507]"),
            std::string::npos);
  EXPECT_NE(err(ant + "asterix: {sac: 1, sic: 2, zmq: yes}\n")
                .find("asterix.zmq: 'yes' is not one of true, false"),
            std::string::npos);
}

}  // namespace
}  // namespace radarpipe

namespace radarpipe {
namespace {

std::string with_map(const std::string& map, const std::string& antenna = "") {
  return replace(kValid, "  cfar: {", "  clutter_map: " + map + "\n  cfar: {") + antenna;
}

// processing.clutter_map: every key read, what it resolves to (rows, updates, azimuth cells),
// the JSON form loading back, and every rule named with its key and value.
TEST(ModeFile, ClutterMapSection) {
  const Mode m = parse_mode_yaml(with_map(
      "{velocity_mps: 3.0, time_constant_cpis: 12.5, warmup_cpis: 30, factor_db: 9, hold_s: 20, "
      "file: /var/lib/radarpipe/site.map}"));
  const ClutterMapConfig& c = m.processing.clutter_map;
  EXPECT_TRUE(c.present);
  EXPECT_EQ(c.file, "/var/lib/radarpipe/site.map");
  const ClutterMapGeometry g = clutter_map_geometry(m);
  // lambda PRF / (2 M) = 0.03189 m/s x 10^4 / 256 = 1.2458 m/s per bin: 3 m/s is 2 bins.
  EXPECT_EQ(g.rows, 5u);
  EXPECT_EQ(g.first_row, 62u);
  EXPECT_DOUBLE_EQ(g.time_constant_updates, 12.5);
  EXPECT_EQ(g.warmup_updates, 30u);
  EXPECT_EQ(g.gap_updates, 13u);
  EXPECT_EQ(g.hold_updates, 1563u);  // 20 s / 12.8 ms
  EXPECT_DOUBLE_EQ(g.factor_db, 9.0);
  EXPECT_EQ(g.pfa, 0.0);
  EXPECT_EQ(g.azimuth_cells, 1u);
  const Mode back = parse_mode_yaml(mode_file_json(m).dump());
  EXPECT_EQ(clutter_map_geometry(back).rows, 5u);
  EXPECT_EQ(back.processing.clutter_map.file, c.file);
  EXPECT_DOUBLE_EQ(back.processing.clutter_map.factor_db, 9.0);
  // shape: measured by default; noise by name, and through the file and back.
  EXPECT_EQ(c.shape, ClutterMapShape::Measured);
  const Mode noise = parse_mode_yaml(with_map("{time_constant_cpis: 16, shape: noise}"));
  EXPECT_EQ(noise.processing.clutter_map.shape, ClutterMapShape::Noise);
  EXPECT_EQ(clutter_map_geometry(noise).shape, ClutterMapShape::Noise);
  EXPECT_EQ(parse_mode_yaml(mode_file_json(noise).dump()).processing.clutter_map.shape,
            ClutterMapShape::Noise);

  // Scans: a rotating antenna of 1.5 deg beams turning in 4 s: 240 azimuth cells by default,
  // 312.5 CPIs a turn, so 1.30 updates of a cell a scan.
  const std::string rotating =
      "antenna: {scan: rotating, beamwidth_deg: 1.5, rotation_period_s: 4, azimuth_deg: 0}\n";
  const Mode r = parse_mode_yaml(with_map("{doppler_bins: 1, time_constant_scans: 8}", rotating));
  const ClutterMapGeometry rg = clutter_map_geometry(r);
  EXPECT_EQ(rg.azimuth_cells, 240u);
  EXPECT_NEAR(rg.time_constant_updates, 8 * 312.5 / 240, 1e-9);
  EXPECT_EQ(rg.pfa, 1e-6);  // processing.cfar.pfa
  // The azimuth cell of a CPI: where the beam points at its middle (6.4 ms after its start).
  const std::int64_t turn = 4000000000LL;
  EXPECT_EQ(clutter_map_azimuth_cell(r, rg, 0), 0u);
  EXPECT_EQ(clutter_map_azimuth_cell(r, rg, turn / 2 - 6400000), 120u);
  EXPECT_EQ(clutter_map_azimuth_cell(r, rg, 100 * turn - 6400000 - 1), 239u);

  auto err = [](const std::string& text) { return error_of(text); };
  const std::string k = "processing.clutter_map";
  EXPECT_NE(err(with_map("{doppler_bins: 64, time_constant_cpis: 8}"))
                .find(k + ".doppler_bins: the map's rows (64 each side of zero Doppler)"),
            std::string::npos);
  EXPECT_NE(err(with_map("{doppler_bins: 1, velocity_mps: 2, time_constant_cpis: 8}"))
                .find(k + ".velocity_mps: and doppler_bins both given; give one"),
            std::string::npos);
  EXPECT_NE(err(with_map("{doppler_bins: 1}")).find(k + ": needs time_constant_cpis or"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 0.0001}"))
                .find(k + ".time_constant_cpis: 0.0001 is not in [0.001, 10000]"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_scans: 4}"))
                .find(k + ".time_constant_scans: scans need a rotating antenna"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 4, warmup_scans: 2}"))
                .find(k + ".warmup_scans: is in the other unit than time_constant_cpis"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 4, pfa: 1e-3, factor_db: 10}"))
                .find(k + ".factor_db: and pfa both given"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 4, shape: rician}")).find(k + ".shape: "),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 4, factor_db: 10, shape: noise}"))
                .find(k + ".shape: applies to a factor from pfa"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 4, pfa: 0.5}"))
                .find(k + ".pfa: 0.5 is not in [1e-15, 0.1]"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 4, azimuth_cells: 8}"))
                .find(k + ".azimuth_cells: only applies to a rotating antenna"),
            std::string::npos);
  EXPECT_NE(err(with_map("{time_constant_cpis: 4, hold_s: -1}"))
                .find(k + ".hold_s: -1 is not in [0, 1000000]"),
            std::string::npos);
  EXPECT_NE(
      err(with_map("{time_constant_cpis: 4, file: [a]}")).find(k + ".file: expected a file path"),
      std::string::npos);
  // The state's bound: 2^25 cells.
  const std::string big = replace(
      replace(with_map("{doppler_bins: 20, time_constant_scans: 2, azimuth_cells: 4096}",
                       "antenna: {scan: rotating, beamwidth_deg: 1, rotation_period_s: 4}\n"),
              "range_gates: 1800", "range_gates: 1000"),
      "waveform: {type: lfm, pulse_width_s: 10.0e-6",
      "waveform: {type: lfm, pulse_width_s: 1.0e-6");
  EXPECT_NE(err(big).find(k + ": 1 maps x 4096 azimuth cells x 41 Doppler rows x 1000 gates"),
            std::string::npos);
}

// input: where run reads IQ, and how VITA 49 packets place their samples (docs/modes.md).
TEST(ModeFile, InputSection) {
  const Mode m = parse_mode_yaml(std::string(kValid) + R"(input:
  from: vrt+udp://0.0.0.0:50000
  vrt:
    timing: continuous
    epoch: 2026-12-02T00:00:00.5Z
    payload_format: sc12
    scale: 0.25
    gps_leap_seconds: 18
    receive_buffer_bytes: 1048576
)",
                                 "mode.yaml");
  EXPECT_EQ(m.input.from, "vrt+udp://0.0.0.0:50000");
  EXPECT_EQ(m.input.vrt.timing, PulseTiming::Continuous);
  EXPECT_EQ(m.input.vrt.epoch, VrtEpoch::Time);
  EXPECT_EQ(m.input.vrt.epoch_ns, 1796169600500000000LL);
  EXPECT_EQ(m.input.vrt.payload_format, VrtPayload::Sc12);
  EXPECT_EQ(m.input.vrt.scale, 0.25);
  EXPECT_EQ(m.input.vrt.receive_buffer_bytes, 1048576u);
  // It round-trips through the JSON and YAML forms.
  EXPECT_EQ(mode_file_json(parse_mode_yaml(mode_file_json(m).dump(), "json")), mode_file_json(m));
  EXPECT_EQ(mode_file_json(parse_mode_yaml(mode_file_yaml(m), "yaml")), mode_file_json(m));

  const std::string base = std::string(kValid) + "input:\n  vrt: ";
  EXPECT_NE(error_of(base + "{timing: pulsed}\n").find("input.vrt.timing"), std::string::npos);
  EXPECT_NE(
      error_of(base + "{epoch: yesterday}\n").find("not first_packet, context or an RFC 3339"),
      std::string::npos);
  EXPECT_NE(error_of(base + "{epoch: 2200-01-01T00:00:00Z}\n").find("1970 to 2100"),
            std::string::npos);
  EXPECT_NE(error_of(base + "{scale: 0}\n").find("input.vrt.scale: 0 must be > 0"),
            std::string::npos);
  EXPECT_NE(error_of(base + "{stream_ids: [1, 2]}\n").find("2 stream IDs for 1 channels"),
            std::string::npos);
  EXPECT_NE(error_of(base + "{receive_buffer_bytes: 100}\n").find("input.vrt.receive_buffer_bytes"),
            std::string::npos);
  EXPECT_NE(error_of(base + "{stream_ids: [4294967296]}\n").find("does not fit 32 bits"),
            std::string::npos);
  EXPECT_NE(error_of(base + "{payload_format: sc32}\n").find("input.vrt.payload_format"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kValid) + "input: {form: x}\n").find("did you mean 'from'"),
            std::string::npos);
}

// fuzz_mode_file: an absurd PRI makes the velocity bin tiny, and the clutter map's rows for a
// velocity_mps beyond what size_t holds; refused by name, without undefined behaviour.
TEST(ModeFile, ClutterMapVelocityOverAnAbsurdPriIsRefused) {
  std::string text = replace(kValid, "pri_s: 100.0e-6", "pri_s: 100.0e56");
  text = replace(
      text, "  doppler_fft_size: 128\n",
      "  doppler_fft_size: 128\n  clutter_map: {velocity_mps: 2.5, time_constant_cpis: 20}\n");
  EXPECT_NE(error_of(text).find("processing.clutter_map.velocity_mps"), std::string::npos);
}

}  // namespace
}  // namespace radarpipe
