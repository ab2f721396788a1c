// The link progress file (link_progress.hpp): its line round-trips at the fields' limits, and
// anything else in the file (another length, a letter, a number past its field's type) is
// refused, said naming the file, and replaced.
#include "pipeline/stream/link_progress.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace radarpipe::stream;

TEST(LinkProgress, TheLineRoundTripsAtTheLimits) {
  for (const LinkProgress p : {LinkProgress{0, 0, 0}, LinkProgress{7, 1234, 5},
                               LinkProgress{UINT32_MAX, UINT64_MAX, UINT64_MAX}}) {
    const std::string line = format_link_progress(p);
    EXPECT_EQ(line.size(), 79u);
    const auto back = parse_link_progress(line);
    ASSERT_TRUE(back) << line;
    EXPECT_EQ(back->stream_id, p.stream_id);
    EXPECT_EQ(back->next_cpi, p.next_cpi);
    EXPECT_EQ(back->upstream_dropped, p.upstream_dropped);
  }
}

TEST(LinkProgress, AnythingElseIsRefused) {
  const std::string good = format_link_progress({7, 1234, 5});
  EXPECT_FALSE(parse_link_progress(""));
  EXPECT_FALSE(parse_link_progress(good.substr(0, 78)));
  EXPECT_FALSE(parse_link_progress(good + "x"));
  std::string letter = good;
  letter[40] = 'x';
  EXPECT_FALSE(parse_link_progress(letter));
  std::string other = good;
  other[0] = 'R';
  EXPECT_FALSE(parse_link_progress(other));
  // 9999999999 does not fit a stream ID's 32 bits; 99...9 (20 digits) not a CPI's 64.
  std::string id = good;
  id.replace(26, 10, "9999999999");
  EXPECT_FALSE(parse_link_progress(id));
  std::string cpi = good;
  cpi.replace(37, 20, std::string(20, '9'));
  EXPECT_FALSE(parse_link_progress(cpi));
}

TEST(LinkProgress, TheFileKeepsTheLastRecordAndReplacesGarbage) {
  const fs::path dir =
      fs::temp_directory_path() / ("radarpipe-progress-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ostringstream log;
  {
    LinkProgressFile f(dir.string(), "detect", log);
    EXPECT_FALSE(f.loaded());  // a first start
    f.record({3, 10, 0});
    f.record({3, 11, 2});
  }
  {
    LinkProgressFile f(dir.string(), "detect", log);
    ASSERT_TRUE(f.loaded());
    EXPECT_EQ(f.loaded()->stream_id, 3u);
    EXPECT_EQ(f.loaded()->next_cpi, 11u);
    EXPECT_EQ(f.loaded()->upstream_dropped, 2u);
  }
  EXPECT_TRUE(log.str().empty()) << log.str();
  std::ofstream(dir / "detect.progress") << std::string(200, 'z');
  {
    LinkProgressFile f(dir.string(), "detect", log);
    EXPECT_FALSE(f.loaded());
    f.record({4, 1, 0});
  }
  EXPECT_NE(log.str().find((dir / "detect.progress").string() +
                           ": not a link progress line (200 bytes, expected 79)"),
            std::string::npos)
      << log.str();
  LinkProgressFile again(dir.string(), "detect", log);
  ASSERT_TRUE(again.loaded());  // the garbage's tail went with it
  EXPECT_EQ(again.loaded()->stream_id, 4u);
  fs::remove_all(dir);
}
