// FFT plans once per machine: `radarpipe plan` run as a program (a fresh process each time, so
// FFTW's in-memory wisdom starts empty): the first run measures and writes the wisdom file with
// this machine's line; the next run plans everything from it; a corrupt file, a file from
// another machine and a file that is not ours are ignored with a warning and rewritten;
// `none` turns wisdom off.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/command.hpp"
#include "tests/support/reference.hpp"

namespace {

namespace fs = std::filesystem;
using radarpipe::test::CliRun;
using radarpipe::test::run_cli;

class Plan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("radarpipe-plan-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The demo mode, measured planning.
    std::ifstream in(radarpipe::test::source_path("configs/demo.yaml"));
    std::stringstream text;
    text << in.rdbuf();
    std::string yaml = text.str();
    yaml = std::regex_replace(yaml, std::regex("fft_planning: *\\w+"), "fft_planning: measure");
    if (yaml.find("fft_planning") == std::string::npos)
      yaml = std::regex_replace(yaml, std::regex("processing:\\n"),
                                "processing:\n  fft_planning: measure\n");
    mode_ = (dir_ / "mode.yaml").string();
    std::ofstream(mode_) << yaml;
    wisdom_ = (dir_ / "cache" / "radarpipe" / "fftw-wisdom").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun plan(const std::string& wisdom) {
    return run_cli("plan --mode " + mode_ + " --fft-wisdom " + wisdom);
  }
  static std::size_t measured(const CliRun& r) {
    std::smatch m;
    if (!std::regex_search(r.out, m, std::regex("(\\d+) transform\\(s\\) measured"))) return 999999;
    return std::stoul(m[1]);
  }
  std::string first_line() const {
    std::ifstream in(wisdom_);
    std::string line;
    std::getline(in, line);
    return line;
  }

  fs::path dir_;
  std::string mode_, wisdom_;
};

TEST_F(Plan, MeasuresOnceThenPlansFromTheWisdomFile) {
  const CliRun first = plan(wisdom_);
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_NE(first.out.find("planning FFTs for this machine, once"), std::string::npos) << first.out;
  EXPECT_GE(measured(first), 2u) << first.out;  // pulse compression forward + inverse at least
  ASSERT_TRUE(fs::exists(wisdom_));
  EXPECT_EQ(first_line().rfind("radarpipe fftw wisdom; cpu ", 0), 0u) << first_line();

  const CliRun second = plan(wisdom_);
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_EQ(measured(second), 0u) << second.out;
  EXPECT_EQ(second.out.find("planning FFTs"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("from the wisdom already there"), std::string::npos) << second.out;
}

TEST_F(Plan, CorruptForeignAndUnknownFilesAreIgnoredWithAWarningAndRewritten) {
  ASSERT_EQ(plan(wisdom_).code, 0);
  const std::string machine = first_line();
  struct Bad {
    std::string contents, warning;
  };
  const Bad cases[] = {
      {machine + "\n(fftw-3.3.10 fftwf_wisdom #x0 garbage ((\n", "rejects its wisdom text"},
      {"radarpipe fftw wisdom; cpu Some Other CPU; simd sse2; fftw fftw-3.0\n(fftw-3.3 )\n",
       "its wisdom is for"},
      {"(fftw-3.3.10 fftwf_wisdom #x1 #x2 #x3 #x4\n)\n", "its wisdom is for"},
  };
  for (const Bad& b : cases) {
    std::ofstream(wisdom_, std::ios::trunc) << b.contents;
    const CliRun r = plan(wisdom_);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("warning: " + wisdom_ + ": ignored"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(b.warning), std::string::npos) << r.out;
    EXPECT_GE(measured(r), 2u) << r.out;
    EXPECT_EQ(first_line(), machine);  // rewritten for this machine
    EXPECT_EQ(measured(plan(wisdom_)), 0u);
  }
}

TEST_F(Plan, NoneTurnsWisdomOffAndEstimateNeedsNone) {
  const CliRun none = plan("none");
  EXPECT_NE(none.code, 0);
  EXPECT_NE(none.out.find("no wisdom file"), std::string::npos) << none.out;
  std::ofstream(mode_, std::ios::app);
  std::ifstream in(mode_);
  std::stringstream text;
  text << in.rdbuf();
  std::ofstream(mode_, std::ios::trunc) << std::regex_replace(
      text.str(), std::regex("fft_planning: measure"), "fft_planning: estimate");
  const CliRun estimate = plan(wisdom_);
  EXPECT_NE(estimate.code, 0);
  EXPECT_NE(estimate.out.find("processing.fft_planning: estimate"), std::string::npos)
      << estimate.out;
  EXPECT_FALSE(fs::exists(wisdom_));
}

}  // namespace
