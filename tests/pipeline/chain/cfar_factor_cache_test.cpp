// Solved CFAR factor tables kept between runs (pipeline/chain/cfar_factor_cache.hpp): the file
// round trip is exact, a second chain loads what the first solved (the same factors at every
// cell), and every kind of bad file (short, foreign magic, torn or altered, another key, another
// map, impossible classes, a factor that is no factor) is ignored with a warning naming the file
// and counted by cause, the table solved again and the file rewritten.
#include "pipeline/chain/cfar_factor_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "io/sha512.hpp"
#include "kernels/cpu/cfar.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "tests/support/chain_helpers.hpp"

namespace radarpipe {
namespace {

namespace fs = std::filesystem;
using cd = std::complex<double>;

// A small correlated map with three-pulse MTI (every row class in use): 40 gates x 16 bins.
cpu::CfarStageConfig small_stage(CfarType type) {
  cpu::CfarStageConfig sc;
  sc.cfar.type = type;
  sc.cfar.guard_range = 1;
  sc.cfar.guard_doppler = 1;
  sc.cfar.train_range = 3;
  sc.cfar.train_doppler = 2;
  sc.cfar.pfa = 1e-3;
  sc.doppler_bins = 16;
  sc.gates = 40;
  cpu::CellCorrelation& c = sc.correlation;
  for (int k = 0; k < 6; ++k)
    c.range_reference.emplace_back(0.54 - 0.46 * std::cos(2 * M_PI * k / 5), 0.0);
  for (std::size_t p = 0; p < 14; ++p)
    c.doppler_window.push_back(0.5 - 0.5 * std::cos(2 * M_PI * (double(p) + 0.5) / 14.0));
  c.mti_taps = {1.0, -2.0, 1.0};
  c.doppler_fft_size = 16;
  c.gates = 40;
  return sc;
}

class CfarFactorCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("radarpipe-cfar-cache-" + std::to_string(getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The one table file in the directory.
  fs::path only_file() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir_)) files.push_back(e.path());
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? fs::path() : files[0];
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }
  // A Cfar built through a fresh store on the directory; its warnings in `log`.
  cpu::Cfar build(CfarType type, std::ostringstream& log, CfarFactorCache** keep = nullptr) {
    store_ = std::make_unique<CfarFactorCache>(dir_.string(), log);
    cpu::CfarStageConfig sc = small_stage(type);
    sc.factor_store = store_.get();
    cpu::Cfar c(sc);
    if (keep) *keep = store_.get();
    return c;
  }
  static void expect_same(const cpu::Cfar& a, const cpu::Cfar& b) {
    for (std::size_t d = 0; d < 16; ++d)
      for (std::size_t m = 0; m < 40; ++m)
        ASSERT_EQ(a.alpha_at(d, m), b.alpha_at(d, m)) << "d " << d << " m " << m;
  }

  fs::path dir_;
  std::unique_ptr<CfarFactorCache> store_;
};

TEST_F(CfarFactorCacheTest, TheFileRoundTripsExactly) {
  const cpu::CfarStageConfig sc = small_stage(CfarType::So);
  std::vector<double> tb(40);
  std::vector<std::uint32_t> k(40, 1);
  const cpu::Cfar plain(small_stage(CfarType::So));
  for (std::size_t m = 0; m < 40; ++m) {
    tb[m] = plain.textbook_alpha_at(m);
    k[m] = static_cast<std::uint32_t>(plain.os_rank_at(m));
  }
  const cpu::CfarFactorTable t = cpu::calibrated_factors(sc.cfar, 16, 40, 1, sc.correlation, tb, k);
  ASSERT_GT(t.row_factor.size() / 16, 1u);  // MTI: row classes of their own
  const std::string digest = cfar_key_digest("a key");
  const std::string bytes = cfar_factor_file(digest, t);
  const cpu::CfarFactorTable back = parse_cfar_factor_file(bytes, digest, 16, 40, "round trip");
  EXPECT_EQ(back.range_alpha, t.range_alpha);
  EXPECT_EQ(back.row_factor, t.row_factor);
  EXPECT_EQ(back.row_class, t.row_class);
  EXPECT_EQ(back.effective_cells, t.effective_cells);
  EXPECT_EQ(back.solves, t.solves);
  EXPECT_EQ(back.exact, t.exact);
  EXPECT_LE(bytes.size(), cfar_factor_file_max_bytes(16, 40));
}

TEST_F(CfarFactorCacheTest, ASecondBuildLoadsWhatTheFirstSolved) {
  std::ostringstream log;
  CfarFactorCache* store = nullptr;
  const cpu::Cfar first = build(CfarType::Go, log, &store);
  EXPECT_FALSE(first.calibration().stored);
  EXPECT_EQ(store->saved(), 1u);
  const cpu::Cfar second = build(CfarType::Go, log, &store);
  EXPECT_TRUE(second.calibration().stored);
  EXPECT_EQ(store->loaded(), 1u);
  EXPECT_EQ(second.calibration().solves, first.calibration().solves);
  expect_same(first, second);
  // Another variant has another key: solved, a second file.
  const cpu::Cfar ca = build(CfarType::Ca, log, &store);
  EXPECT_FALSE(ca.calibration().stored);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
  EXPECT_EQ(log.str(), "");
}

// Each corruption of the file, the cause it is counted under and a word of its message.
struct Corruption {
  const char* name;
  const char* cause;
  const char* says;
  std::string (*apply)(const std::string& bytes);
};

// Re-seals a file whose body was edited (its trailer made to match again), so that the checks
// behind the checksum are reached.
std::string resealed(std::string bytes) {
  const std::string body = bytes.substr(0, bytes.size() - 128);
  io::Sha512 h;
  h.update(body.data(), body.size());
  return body + h.hex_digest();
}
// Offsets: magic 8, key digest 128, then u64 doppler_bins at 136, gates 144, classes 152,
// solves 160, exact 168, f64 effective 176; range_alpha from 184, row_class from 184 + 8 gates.
std::string with_u64(std::string b, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return b;
}

const Corruption kCorruptions[] = {
    {"empty", "size", "bytes", [](const std::string&) { return std::string(); }},
    {"truncated", "size", "bytes", [](const std::string& b) { return b.substr(0, b.size() - 9); }},
    {"magic", "magic", "RPCFAR01",
     [](const std::string& b) { return resealed("XPCFAR01" + b.substr(8)); }},
    {"flipped", "checksum", "SHA-512",
     [](const std::string& b) {
       std::string c = b;
       c[200] = static_cast<char>(c[200] ^ 0x10);
       return c;
     }},
    {"other key", "key", "another",
     [](const std::string& b) {
       std::string c = b;
       c[8] = c[8] == 'a' ? 'b' : 'a';
       return resealed(c);
     }},
    {"other map", "geometry", "Doppler bins",
     [](const std::string& b) { return resealed(with_u64(b, 136, 32)); }},
    {"classes", "classes", "classes",
     [](const std::string& b) { return resealed(with_u64(b, 152, 1000000)); }},
    {"huge classes", "classes", "classes",
     [](const std::string& b) { return resealed(with_u64(b, 152, ~std::uint64_t{0})); }},
    {"nan factor", "value", "range_alpha[0]",
     [](const std::string& b) {
       const double nan = std::numeric_limits<double>::quiet_NaN();
       std::uint64_t u;
       std::memcpy(&u, &nan, 8);
       return resealed(with_u64(b, 184, u));
     }},
    {"row class", "classes", "row_class[0]",
     [](const std::string& b) {
       std::string c = b;
       c[184 + 40 * 8 + 3] = static_cast<char>(0x7f);  // row_class[0]'s high byte
       return resealed(c);
     }},
};

TEST_F(CfarFactorCacheTest, BadFilesAreIgnoredCountedAndRewritten) {
  std::ostringstream first_log;
  const cpu::Cfar reference = build(CfarType::So, first_log);
  const fs::path file = only_file();
  const std::string good = read(file);
  for (const Corruption& c : kCorruptions) {
    write(file, c.apply(good));
    std::ostringstream log;
    CfarFactorCache* store = nullptr;
    const cpu::Cfar again = build(CfarType::So, log, &store);
    EXPECT_FALSE(again.calibration().stored) << c.name;
    ASSERT_EQ(store->rejected().count(c.cause), 1u) << c.name << ": " << log.str();
    EXPECT_EQ(store->rejected().at(c.cause), 1u) << c.name;
    EXPECT_NE(log.str().find(file.string()), std::string::npos) << c.name << ": " << log.str();
    EXPECT_NE(log.str().find(c.says), std::string::npos) << c.name << ": " << log.str();
    expect_same(reference, again);
    EXPECT_TRUE(read(file) == good) << c.name << ": not rewritten as solved";
  }
}

TEST_F(CfarFactorCacheTest, AFileLargerThanAnyTableIsNotRead) {
  std::ostringstream log;
  (void)build(CfarType::Ca, log);
  const fs::path file = only_file();
  write(file, std::string(cfar_factor_file_max_bytes(16, 40) + 1, 'x'));
  CfarFactorCache* store = nullptr;
  (void)build(CfarType::Ca, log, &store);
  EXPECT_EQ(store->rejected().count("size"), 1u) << log.str();
  EXPECT_NE(log.str().find("more than a table"), std::string::npos) << log.str();
}

TEST_F(CfarFactorCacheTest, ThePathFollowsTheCacheHomeAndNoneTurnsItOff) {
  EXPECT_EQ(cfar_factor_cache_path("none"), "");
  EXPECT_EQ(cfar_factor_cache_path("/some/where"), "/some/where");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  ASSERT_NE(xdg, nullptr);  // CTest sets it to the build's test cache
  EXPECT_EQ(cfar_factor_cache_path(""), std::string(xdg) + "/radarpipe/cfar-factors");
}

// Through the chain: a CpuChain built twice with the directory loads the second time, and its
// detections' thresholds are the same factors.
TEST_F(CfarFactorCacheTest, ChainsKeepTheirFactors) {
  Mode m = test::small_chain_mode(1, 300);
  m.processing.mti = MtiMode::ThreePulse;
  m.processing.cfar.type = CfarType::Ca;
  ChainOptions co;
  co.cfar_factors = dir_.string();
  std::ostringstream log;
  co.log = &log;
  CpuChain a(m, co);
  CpuChain b(m, co);
  EXPECT_FALSE(a.cfar().calibration().stored);
  EXPECT_TRUE(b.cfar().calibration().stored);
  for (std::size_t d = 0; d < a.cfar().doppler_bins(); d += 7)
    for (std::size_t r = 0; r < a.cfar().gates(); r += 13)
      ASSERT_EQ(a.cfar().alpha_at(d, r), b.cfar().alpha_at(d, r));
  EXPECT_EQ(log.str(), "");
}

}  // namespace
}  // namespace radarpipe
