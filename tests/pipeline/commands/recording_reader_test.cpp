// Reading ahead (pipeline/commands/recording_reader.hpp): every CPI the reader delivers equals
// what SigmfReader::read() gives for it, in cf32 for every stored format tried and as stored
// ci16 for ci16_le, with 1, 3 and 16 channels and over several reader threads; the checksum
// hashed in the same pass verifies a good file and finds a changed byte anywhere (inside a
// CPI, in a gap between captures, in the tail no CPI covers), also when CPIs are read twice.
#include "pipeline/commands/recording_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "io/sha512.hpp"

namespace radarpipe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Files {
 public:
  Files() : dir_(fs::temp_directory_path() / ("radarpipe_reader_" + std::to_string(getpid()))) {
    fs::create_directories(dir_);
  }
  ~Files() { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  fs::path dir_;
};

// A recording of `samples` per channel of random components in `datatype` (cf32_le or
// ci16_le), captures starting at `starts`, with its correct checksum.
std::string write_recording(const Files& f, const std::string& name, const std::string& datatype,
                            std::size_t channels, std::size_t samples,
                            const std::vector<std::size_t>& starts,
                            std::vector<std::uint8_t>* data) {
  const std::size_t bytes = datatype == "ci16_le" ? 2 : 4;
  data->resize(samples * channels * 2 * bytes);
  std::mt19937 rng(static_cast<unsigned>(channels * 1000 + samples));
  std::normal_distribution<float> g(0.0f, 1000.0f);
  for (std::size_t i = 0; i < samples * channels * 2; ++i) {
    if (bytes == 2) {
      const auto v = static_cast<std::int16_t>(std::lround(g(rng)));
      std::memcpy(data->data() + 2 * i, &v, 2);
    } else {
      const float v = g(rng);
      std::memcpy(data->data() + 4 * i, &v, 4);
    }
  }
  io::Sha512 h;
  h.update(data->data(), data->size());
  json caps = json::array();
  for (std::size_t s : starts) caps.push_back({{"core:sample_start", s}});
  const json meta = {{"global",
                      {{"core:datatype", datatype},
                       {"core:version", "1.2.0"},
                       {"core:sample_rate", 1e6},
                       {"core:num_channels", channels},
                       {"core:sha512", h.hex_digest()}}},
                     {"captures", caps},
                     {"annotations", json::array()}};
  std::ofstream(f.path(name + ".sigmf-meta")) << meta.dump(2);
  std::ofstream(f.path(name + ".sigmf-data"), std::ios::binary)
      .write(reinterpret_cast<const char*>(data->data()),
             static_cast<std::streamsize>(data->size()));
  return f.path(name);
}

io::SigmfReadOptions while_reading() {
  io::SigmfReadOptions o;
  o.checksum_while_reading = true;
  return o;
}

TEST(RecordingReader, DeliversWhatReadGivesInEveryLayout) {
  Files f;
  struct Case {
    std::string datatype;
    std::size_t channels;
    std::size_t threads;
    std::size_t gates = 37;  // odd: uneven conversion runs
  };
  // Channel counts around the de-interleave's blocks, and channel runs aligned (64 gates) or not.
  for (const Case& c :
       {Case{"cf32_le", 1, 1}, Case{"cf32_le", 3, 2}, Case{"ci16_le", 1, 3}, Case{"ci16_le", 16, 2},
        Case{"ci16_le", 3, 1}, Case{"ci16_le", 8, 1}, Case{"ci16_le", 11, 2},
        Case{"ci16_le", 16, 1, 64}, Case{"ci16_le", 19, 2, 64}}) {
    SCOPED_TRACE(c.datatype + ", " + std::to_string(c.channels) + " channels, " +
                 std::to_string(c.threads) + " threads, " + std::to_string(c.gates) + " gates");
    std::vector<std::uint8_t> data;
    const std::size_t pulses = 4, gates = c.gates;
    const std::string rec =
        write_recording(f, "r", c.datatype, c.channels, 5 * pulses * gates + 11, {0}, &data);
    io::SigmfReader reader(rec, while_reading());
    io::RecordingCpiSource source(reader, pulses, gates, 1e-4);
    ASSERT_EQ(source.slots().size(), 5u);
    io::SigmfReader plain(rec);  // checks at open, reads with read()
    const std::size_t per_channel = pulses * gates, cube = c.channels * per_channel;
    for (SampleFormat format : {SampleFormat::Cf32, SampleFormat::Ci16}) {
      if (format == SampleFormat::Ci16 && !reader.stored_as_ci16()) continue;
      io::SigmfReader r2(rec, while_reading());
      RecordingReader ahead(r2, source, format, c.threads);
      EXPECT_EQ(ahead.cpi_bytes(), cube * (format == SampleFormat::Ci16 ? 4 : 8));
      AlignedBuffer<std::uint8_t> got(ahead.cpi_bytes());  // 64-byte aligned, as process's
      std::vector<cf32> want(cube);
      for (std::size_t k = 0; k < source.slots().size(); ++k) {
        ahead.start(k, got.data());
        ahead.wait();
        plain.read(source.slots()[k].first_sample, per_channel, want.data(), per_channel);
        if (format == SampleFormat::Cf32) {
          ASSERT_EQ(std::memcmp(got.data(), want.data(), ahead.cpi_bytes()), 0) << "CPI " << k;
        } else {
          const auto* iq = reinterpret_cast<const std::int16_t*>(got.data());
          for (std::size_t i = 0; i < cube; ++i) {
            ASSERT_EQ(static_cast<float>(iq[2 * i]) * ahead.scale(), want[i].real()) << i;
            ASSERT_EQ(static_cast<float>(iq[2 * i + 1]) * ahead.scale(), want[i].imag()) << i;
          }
        }
      }
      EXPECT_TRUE(ahead.finish());
      EXPECT_TRUE(r2.checksum_verified());
    }
  }
}

// One byte changed in a CPI, in the gap between two captures that no CPI covers, or in the
// tail after the last CPI: the one-pass checksum finds each, at the end, naming the file.
TEST(RecordingReader, OnePassChecksumFindsAChangedByteAnywhere) {
  Files f;
  const std::size_t pulses = 4, gates = 10, per_cpi = pulses * gates;
  std::vector<std::uint8_t> data;
  // Capture 0: two CPIs and 7 samples over; capture 1: one CPI and 3 over (the tail).
  const std::size_t second = 2 * per_cpi + 7, total = second + per_cpi + 3;
  const std::string rec = write_recording(f, "g", "ci16_le", 2, total, {0, second}, &data);
  const std::size_t frame = 2 * 4;
  for (const std::size_t at : {std::size_t{0}, (per_cpi + 5) * frame, (2 * per_cpi + 3) * frame,
                               (total - 1) * frame + 1, std::size_t{1} << 62}) {
    SCOPED_TRACE(at);
    std::vector<std::uint8_t> changed = data;
    if (at < changed.size()) changed[at] ^= 0x40;
    std::ofstream(rec + ".sigmf-data", std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(changed.data()),
               static_cast<std::streamsize>(changed.size()));
    io::SigmfReader reader(rec, while_reading());
    io::RecordingCpiSource source(reader, pulses, gates, 1e-4);
    ASSERT_EQ(source.slots().size(), 3u);
    RecordingReader ahead(reader, source, SampleFormat::Cf32, 2);
    std::vector<std::uint8_t> dst(ahead.cpi_bytes());
    for (std::size_t k : {0u, 1u, 1u, 0u, 2u}) {  // CPIs read again hash nothing twice
      ahead.start(k, dst.data());
      ahead.wait();
    }
    if (at < changed.size()) {
      try {
        ahead.finish();
        FAIL() << "no checksum mismatch";
      } catch (const io::SigmfError& e) {
        EXPECT_NE(std::string(e.what()).find("g.sigmf-data: checksum mismatch"), std::string::npos)
            << e.what();
      }
    } else {
      EXPECT_TRUE(ahead.finish());
    }
  }
}

TEST(RecordingReader, ReadErrorsReachTheCaller) {
  Files f;
  std::vector<std::uint8_t> data;
  const std::string rec = write_recording(f, "t", "cf32_le", 1, 100, {0}, &data);
  io::SigmfReadOptions o;
  o.verify_checksum = false;
  io::SigmfReader reader(rec, o);
  io::RecordingCpiSource source(reader, 2, 10, 1e-4);
  fs::resize_file(rec + ".sigmf-data", 8 * 30);  // truncated after opening
  RecordingReader ahead(reader, source, SampleFormat::Cf32, 2);
  std::vector<std::uint8_t> dst(ahead.cpi_bytes());
  ahead.start(0, dst.data());
  ahead.wait();
  ahead.start(3, dst.data());  // samples 60..80: past the truncation
  EXPECT_THROW(ahead.wait(), io::SigmfError);
  EXPECT_THROW(ahead.start(9, dst.data()), std::out_of_range);
}

}  // namespace
}  // namespace radarpipe
