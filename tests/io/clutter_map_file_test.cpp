// Saved clutter maps (io/clutter_map_file.hpp): what is written reads back bit for bit, and
// every kind of bad file is refused with its cause and a message naming the file and the value.
#include "io/clutter_map_file.hpp"

#include <gtest/gtest.h>

#include <string>

#include "io/sha512.hpp"

namespace radarpipe {
namespace {

ClutterMapState sample_state() {
  ClutterMapState s;
  s.maps = 2;
  s.azimuth_cells = 3;
  s.rows = 5;
  s.gates = 11;
  s.reset();
  for (std::size_t i = 0; i < s.cells(); ++i) {
    s.mean[i] = 0.25f * static_cast<float>(i) + 1e-3f;
    s.learned[i] = static_cast<std::uint32_t>(i % 17);
    s.spread[i] = 0.01f * static_cast<float>(i % 13);
    s.run[i] = static_cast<std::uint32_t>(i % 5);
    s.quiet[i] = static_cast<std::uint32_t>(i % 2);
  }
  s.cpis = 12345;
  return s;
}

std::string cause_of(const std::string& bytes, const ClutterMapState& shape, std::string* what) {
  try {
    io::parse_clutter_map_file(bytes, "key", shape, "site.map");
  } catch (const io::ClutterMapFileError& e) {
    *what = e.what();
    return e.cause();
  }
  return "accepted";
}

TEST(ClutterMapFile, RoundTripsBitForBit) {
  const ClutterMapState s = sample_state();
  const std::string b = io::clutter_map_file("key", s);
  EXPECT_EQ(b.size(), io::clutter_map_file_bytes(s));
  const ClutterMapState r = io::parse_clutter_map_file(b, "key", s, "site.map");
  EXPECT_EQ(r.cpis, s.cpis);
  EXPECT_EQ(r.mean, s.mean);
  EXPECT_EQ(r.spread, s.spread);
  EXPECT_EQ(r.learned, s.learned);
  EXPECT_EQ(r.run, s.run);
  EXPECT_EQ(r.quiet, s.quiet);
}

TEST(ClutterMapFile, EveryBadFileIsRefusedByCause) {
  const ClutterMapState s = sample_state();
  const std::string good = io::clutter_map_file("key", s);
  std::string what;
  EXPECT_EQ(cause_of(good.substr(0, 100), s, &what), "size");
  EXPECT_NE(what.find("site.map: is 100 bytes"), std::string::npos) << what;
  EXPECT_EQ(cause_of(good.substr(0, good.size() - 1), s, &what), "size");
  EXPECT_NE(what.find(std::to_string(good.size())), std::string::npos) << what;
  std::string magic = good;
  magic[3] = 'X';
  EXPECT_EQ(cause_of(magic, s, &what), "magic");
  EXPECT_NE(what.find("not a radarpipe clutter map"), std::string::npos) << what;
  // A map saved by the format before the spread (RPCMAP01) is refused by name: the map relearns.
  std::string older = good;
  older[7] = '1';
  EXPECT_EQ(cause_of(older, s, &what), "magic");
  EXPECT_NE(what.find("another format (RPCMAP01, expected RPCMAP02"), std::string::npos) << what;
  std::string flipped = good;
  flipped[good.size() / 2] ^= 1;  // a cell's bit: the trailer no longer matches
  EXPECT_EQ(cause_of(flipped, s, &what), "checksum");
  EXPECT_EQ(cause_of(io::clutter_map_file("another mode", s), s, &what), "key");
  ClutterMapState other = s;
  other.gates = 12;
  EXPECT_EQ(cause_of(good, other, &what), "shape");
  EXPECT_NE(what.find("holds 2 maps x 3 azimuth cells x 5 rows x 11 gates"), std::string::npos)
      << what;
  EXPECT_NE(what.find("12 gates"), std::string::npos) << what;
  // A header that declares a huge shape is refused by the shape before anything is allocated.
  std::string huge = good;
  huge[8 + 128] = '\xff';
  huge[8 + 128 + 7] = '\x7f';
  EXPECT_EQ(cause_of(huge, s, &what), "shape");
}

}  // namespace
}  // namespace radarpipe
