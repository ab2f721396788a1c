// The recording commands run as programs: simulate, inspect, process, score and demo, their
// outputs, exit codes and error messages; and a recording larger than the process's memory
// limit, which must stream.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/command.hpp"
#include "tests/support/reference.hpp"

namespace fs = std::filesystem;
using radarpipe::test::source_path;

namespace {

using radarpipe::test::CliRun;
using radarpipe::test::run_cli;

CliRun sh(const std::string& cmd) {
  return radarpipe::test::run_command(cmd);
}
std::string bin() {
  return radarpipe::test::radarpipe_binary();
}

// Address space (KiB) the binary's shared libraries take when mapped whole: their file sizes,
// from ldd. cuFFT alone is some 280 MB, so a memory limit must be counted on top of them.
std::uintmax_t shared_library_kib() {
  std::istringstream in(sh("ldd " + bin()).out);
  std::uintmax_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    const auto arrow = line.find("=> /");
    if (arrow == std::string::npos) continue;
    const std::string path = line.substr(arrow + 3, line.find(" (", arrow) - arrow - 3);
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec) bytes += size;
  }
  return bytes / 1024;
}

class Dir {
 public:
  explicit Dir(const std::string& tag)
      : p_(fs::temp_directory_path() /
           ("radarpipe_cli_" + tag + "_" + std::to_string(::getpid()))) {
    fs::create_directories(p_);
  }
  ~Dir() { fs::remove_all(p_); }
  std::string operator/(const std::string& s) const { return (p_ / s).string(); }

 private:
  fs::path p_;
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(RecordingCli, SimulateInspectProcessScore) {
  Dir d("chain");
  CliRun r = run_cli("simulate --mode " + source_path("configs/demo.yaml") + " --scenario " +
                     source_path("configs/scenarios/demo.yaml") + " --cpis 4 -o " + (d / "rec"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0 components clipped"), std::string::npos) << r.out;
  for (const char* f : {"rec.sigmf-meta", "rec.sigmf-data", "rec.truth.json"})
    EXPECT_TRUE(fs::exists(d / f)) << f;

  r = run_cli("inspect --json " + (d / "rec"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["datatype"], "ci16_le");
  EXPECT_EQ(j["cpis"], 4);
  EXPECT_EQ(j["samples_per_channel"], 4 * 128 * 1800);
  EXPECT_EQ(j["sha512"], "verified");
  EXPECT_EQ(j["first_cpi_time"], "2026-11-21T12:00:00.000000000Z");
  EXPECT_EQ(j["annotations"].size(), 16u);  // 4 targets x 4 CPIs
  r = run_cli("inspect " + (d / "rec"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("CPIs        4 of 128 pulses"), std::string::npos) << r.out;

  r = run_cli("process -i " + (d / "rec") + " -o " + (d / "dets.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("4 CPIs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("M samples/s"), std::string::npos) << r.out;
  std::istringstream lines(read(d / "dets.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto rep = nlohmann::json::parse(line);
    EXPECT_EQ(rep["cpi"], n);
    EXPECT_EQ(rep["timestamp_ns"], 1795262400000000000LL + n * 12800000LL);
    EXPECT_EQ(rep["time"].get<std::string>().substr(0, 20), "2026-11-21T12:00:00.");
    for (const char* k : {"cells", "crossings", "noise_power_db", "detections"})
      EXPECT_TRUE(rep.contains(k)) << k;
    ASSERT_FALSE(rep["detections"].empty());
    for (const char* k :
         {"range_m", "range_rate_mps", "doppler_hz", "snr_db", "power_db", "range_bin",
          "doppler_bin", "range_bin_frac", "doppler_bin_frac", "channel"})
      EXPECT_TRUE(rep["detections"][0].contains(k)) << k;
    ++n;
  }
  EXPECT_EQ(n, 4);

  r = run_cli("score " + (d / "dets.jsonl") + " " + (d / "rec.truth.json") + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["cpis"], 4);
  EXPECT_EQ(s["opportunities"], 16);
  EXPECT_GE(s["pd"].get<double>(), 0.75);
  EXPECT_LE(s["max_range_error_bins"].get<double>(), 0.5);
  r = run_cli("score " + (d / "dets.jsonl") + " " + (d / "rec.truth.json"));
  EXPECT_NE(r.out.find("Pd "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("range RMSE"), std::string::npos) << r.out;
}

TEST(RecordingCli, ScoreFailsOnUnreadableInput) {
  Dir d("score");
  std::ofstream(d / "bad.jsonl") << "{\"cpi\": 0}\n";
  std::ofstream(d / "truth.json") << "{}";
  CliRun r = run_cli("score " + (d / "missing.jsonl") + " " + (d / "truth.json"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("missing.jsonl: cannot open"), std::string::npos) << r.out;
  r = run_cli("score " + (d / "bad.jsonl") + " " + (d / "truth.json"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("bad.jsonl:1: field 'timestamp_ns' is missing"), std::string::npos) << r.out;
  std::ofstream(d / "good.jsonl") << "";
  r = run_cli("score " + (d / "good.jsonl") + " " + (d / "truth.json"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("not a radarpipe truth file"), std::string::npos) << r.out;
}

TEST(RecordingCli, ProcessRejectsAModeThatContradictsTheRecording) {
  Dir d("contra");
  ASSERT_EQ(run_cli("simulate --mode " + source_path("configs/demo.yaml") + " --scenario " +
                    source_path("configs/scenarios/demo.yaml") +
                    " --cpis 1 --datatype cf32_le -o " + (d / "rec"))
                .code,
            0);
  CliRun r = run_cli("process -i " + (d / "rec") + " --mode " +
                     source_path("configs/bench-small.yaml") + " -o " + (d / "x.jsonl"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("bench-small.yaml: radar.channels = 4 contradicts the recording"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(global.core:num_channels = 1)"), std::string::npos) << r.out;
  // A mode that differs in the radar extension only: the PRI.
  std::ofstream(d / "other.yaml") << [] {
    std::ifstream in(source_path("configs/demo.yaml"));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    t.replace(t.find("pri_s: 100.0e-6"), 15, "pri_s: 120.0e-6");
    return t;
  }();
  r = run_cli("process -i " + (d / "rec") + " --mode " + (d / "other.yaml") + " -o " +
              (d / "x.jsonl"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("radar.pri_s = 0.00012 contradicts the recording"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(global.radar:pri_s = 0.0001)"), std::string::npos) << r.out;
  // The same mode file as the recording's is accepted.
  EXPECT_EQ(run_cli("process -i " + (d / "rec") + " --mode " + source_path("configs/demo.yaml") +
                    " -o " + (d / "y.jsonl"))
                .code,
            0);
}

TEST(RecordingCli, ProcessReportsBadFilesAndLeftovers) {
  Dir d("bad");
  CliRun r = run_cli("process -i " + (d / "nothing") + " -o " + (d / "x.jsonl"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("nothing.sigmf-meta: metadata file not found"), std::string::npos) << r.out;
  ASSERT_EQ(run_cli("simulate --mode " + source_path("configs/demo.yaml") + " --scenario " +
                    source_path("configs/scenarios/demo.yaml") + " --cpis 2 -o " + (d / "rec"))
                .code,
            0);
  // Truncate the data mid-CPI and mid-sample: one whole CPI is processed, the rest reported.
  fs::resize_file(d / "rec.sigmf-data", 128 * 1800 * 4 + 1000 * 4 + 3);
  r = run_cli("process --skip-checksum -i " + (d / "rec") + " -o " + (d / "x.jsonl"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 CPIs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1000 samples per channel (and 3 bytes) left over"), std::string::npos)
      << r.out;
  r = run_cli("process -i " + (d / "rec") + " -o " + (d / "x.jsonl"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("checksum mismatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rec.sigmf-data"), std::string::npos) << r.out;
  // The data is read once, so the mismatch shows after the CPI was processed: its report is
  // there, and the last line says the output is incomplete and why.
  std::istringstream lines(read(d / "x.jsonl"));
  std::vector<nlohmann::json> js;
  for (std::string line; std::getline(lines, line);) js.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(js.size(), 2u);
  EXPECT_EQ(js[0]["cpi"], 0);
  ASSERT_TRUE(js[1].contains("incomplete")) << js[1];
  EXPECT_EQ(js[1]["incomplete"]["cpis_written"], 1);
  EXPECT_EQ(js[1]["incomplete"]["cpis_in_recording"], 1);
  EXPECT_NE(js[1]["incomplete"]["error"].get<std::string>().find("checksum mismatch"),
            std::string::npos);
}

// Metadata (or a mode) that declares a CPI far larger than the data: 2^24 gates x 128 pulses
// over 8 KB. Refused at once, before FFTW plans anything or a cube is allocated (it used to plan
// for minutes or end in bad_alloc), naming the data file and both sizes.
TEST(RecordingCli, ACpiLargerThanTheDataIsRefusedBeforePlanning) {
  Dir d("huge");
  std::ofstream(d / "h.sigmf-meta") << nlohmann::json{
      {"global",
       {{"core:datatype", "ci16_le"}, {"core:version", "1.2.0"}, {"core:sample_rate", 20e6}}},
      {"captures", nlohmann::json::array({{{"core:sample_start", 0}}})},
      {"annotations",
       nlohmann::json::array()}}.dump();
  std::ofstream(d / "h.sigmf-data") << std::string(8192, '\0');
  std::string mode = read(source_path("configs/demo.yaml"));
  mode.replace(mode.find("pri_s: 100.0e-6"), 15, "pri_s: 1.0");
  mode.replace(mode.find("range_gates: 1800"), 17, "range_gates: 16777216");
  // Without the clutter map, whose 5 rows x 2^24 gates the mode's own bound refuses first.
  const std::size_t map_line = mode.find("  clutter_map:");
  mode.erase(map_line, mode.find('\n', map_line) + 1 - map_line);
  std::ofstream(d / "huge.yaml") << mode;
  const CliRun r = run_cli("process -i " + (d / "h") + " --mode " + (d / "huge.yaml") + " -o " +
                           (d / "x.jsonl"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("h.sigmf-data: holds 2048 samples per channel"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("needs 2147483648"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("planning FFTs"), std::string::npos) << r.out;  // refused before planning
}

// A 512 MiB recording (sparse: no disk is used) processed with 160 MB of address space beyond
// what the shared libraries map.
// AddressSanitizer in this build (GCC says __SANITIZE_ADDRESS__, clang __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define RADARPIPE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RADARPIPE_TEST_ASAN 1
#endif
#endif
#ifndef RADARPIPE_TEST_ASAN
#define RADARPIPE_TEST_ASAN 0
#endif

TEST(RecordingCli, ARecordingLargerThanTheMemoryLimitStreams) {
#if RADARPIPE_TEST_ASAN
  // ulimit -v cannot bound a process built with AddressSanitizer: its shadow memory alone
  // reserves terabytes of address space, and the process aborts before main.
  GTEST_SKIP() << "ulimit -v and AddressSanitizer do not mix; the plain build runs this test";
#endif
  Dir d("big");
  const nlohmann::json meta = {
      {"global",
       {{"core:datatype", "ci16_le"},
        {"core:version", "1.2.0"},
        {"core:sample_rate", 20e6},
        {"core:extensions", {{{"name", "radar"}, {"version", "1.0.0"}, {"optional", true}}}},
        {"radar:center_frequency_hz", 9.4e9},
        {"radar:pri_s", 100e-6},
        {"radar:range_gates", 1000},
        {"radar:waveform", {{"type", "lfm"}, {"pulse_width_s", 5e-6}, {"bandwidth_hz", 10e6}}},
        {"radar:processing",
         {{"pulses", 64},
          {"doppler_fft_size", 64},
          {"fft_planning", "estimate"},
          {"cfar",
           {{"type", "ca"},
            {"guard_cells", {{"range", 2}, {"doppler", 1}}},
            {"training_cells", {{"range", 8}, {"doppler", 4}}},
            {"pfa", 1e-6}}}}}}},
      {"captures", {{{"core:sample_start", 0}}}},
      {"annotations", nlohmann::json::array()}};
  std::ofstream(d / "big.sigmf-meta") << meta.dump();
  { std::ofstream(d / "big.sigmf-data"); }
  fs::resize_file(d / "big.sigmf-data", std::uintmax_t{512} << 20);
  const std::uintmax_t limit_kib = 160000 + shared_library_kib();
  const CliRun r = sh("ulimit -v " + std::to_string(limit_kib) + " && " + bin() +
                      " process --threads 1 -i " + (d / "big") + " -o " + (d / "out.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("2097 CPIs"), std::string::npos) << r.out;  // 2^27 samples / 64000
}

TEST(RecordingCli, DemoWritesItsFilesAndFindsTheTargets) {
  Dir d("demo");
  const CliRun r = run_cli("demo --cpis 4 -o " + (d / "out"));
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* name : {"drone-1", "drone-2", "drone-3", "airliner", "range RMSE"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
  // The PNG, taken apart here: signature, chunk CRCs, IHDR, and IDAT inflating to exactly
  // height rows of (1 filter byte + 3 x width).
  const std::string png = read(d / "out/demo.png");
  ASSERT_GT(png.size(), 1000u);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto u32 = [&](std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(png[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(png[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(png[at + 2])} << 8) |
           std::uint32_t{static_cast<unsigned char>(png[at + 3])};
  };
  std::size_t pos = 8;
  std::uint32_t width = 0, height = 0;
  std::string idat, last_type;
  while (pos + 12 <= png.size()) {
    const std::uint32_t len = u32(pos);
    const std::string type = png.substr(pos + 4, 4);
    const auto* body = reinterpret_cast<const Bytef*>(png.data() + pos + 4);
    EXPECT_EQ(crc32(0L, body, len + 4), u32(pos + 8 + len)) << type;
    if (type == "IHDR") {
      width = u32(pos + 8);
      height = u32(pos + 12);
      EXPECT_EQ(png[pos + 16], 8);  // bit depth
      EXPECT_EQ(png[pos + 17], 2);  // RGB
    }
    if (type == "IDAT") idat += png.substr(pos + 8, len);
    last_type = type;
    pos += 12 + len;
  }
  EXPECT_EQ(last_type, "IEND");
  EXPECT_EQ(pos, png.size());
  ASSERT_GT(width, 1000u);
  ASSERT_GT(height, 500u);
  std::vector<Bytef> pixels(static_cast<std::size_t>(height) * (3 * width + 1) + 1);
  uLongf out_len = static_cast<uLongf>(pixels.size());
  ASSERT_EQ(uncompress(pixels.data(), &out_len, reinterpret_cast<const Bytef*>(idat.data()),
                       static_cast<uLong>(idat.size())),
            Z_OK);
  EXPECT_EQ(out_len, static_cast<uLongf>(height) * (3 * width + 1));
  EXPECT_TRUE(fs::exists(d / "out/demo.detections.jsonl"));
  EXPECT_TRUE(fs::exists(d / "out/demo.truth.json"));
}
