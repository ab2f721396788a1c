// What listen and stats make of published messages (io/message_text.hpp, io/detection_json.hpp,
// io/json_field.hpp): reports survive the JSON round trip; integer fields take only JSON
// integers in range (a float timestamp of 1.7e26 was undefined behaviour, found by
// fuzz_stream_message and kept in its corpus); end-of-stream markers from JSON; depth-limited
// objects only; the text listen prints.
#include "io/message_text.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "io/detection_json.hpp"

namespace radarpipe::io {
namespace {

DetectionReport sample_report() {
  DetectionReport r;
  r.cpi = 7;
  r.timestamp_ns = 1764633600123456789LL;
  r.cells = 230400;
  r.crossings = 12;
  r.noise_power_db = -3.5;
  Detection d;
  d.range_m = 1234.5;
  d.range_rate_mps = -4.25;
  d.snr_db = 17.0;
  d.channel = 2;
  d.cells = 3;
  d.range_extent_bins = 2;
  r.detections.push_back(d);
  return r;
}

TEST(MessageText, ReportsSurviveTheJsonRoundTrip) {
  const DetectionReport r = sample_report();
  const DetectionReport back = report_from_json(report_to_json(r), "test");
  EXPECT_EQ(back.cpi, r.cpi);
  EXPECT_EQ(back.timestamp_ns, r.timestamp_ns);
  EXPECT_EQ(back.cells, r.cells);
  ASSERT_EQ(back.detections.size(), 1u);
  EXPECT_EQ(back.detections[0].range_m, 1234.5);
  EXPECT_EQ(back.detections[0].cells, 3u);
  EXPECT_EQ(back.detections[0].channel, 2);
}

// Each field replaced by a value its type cannot hold: refused, naming the field and the value.
TEST(MessageText, IntegerFieldsTakeOnlyIntegersInRange) {
  struct Case {
    const char* field;
    nlohmann::json value;
    bool in_detection;
  };
  const Case cases[] = {{"timestamp_ns", 1.764633600e26, false},
                        {"timestamp_ns", 9223372036854775808ull, false},
                        {"cpi", -1, false},
                        {"cpi", 2.5, false},
                        {"crossings_dropped", "12", false},
                        {"cells", 4294967296ull, true},
                        {"channel", 3000000000ull, true},
                        {"range_bin", -2147483649LL, true},
                        {"eclipsed", 1, true}};
  for (const Case& c : cases) {
    nlohmann::json j = report_to_json(sample_report());
    (c.in_detection ? j["detections"][0] : j)[c.field] = c.value;
    try {
      (void)report_from_json(j, "msg");
      ADD_FAILURE() << c.field << " = " << c.value.dump() << " was taken";
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(std::string("'") + c.field + "'"), std::string::npos) << what;
      EXPECT_NE(what.find(c.value.dump().substr(0, 6)), std::string::npos) << what;
    }
  }
}

TEST(MessageText, EndMarkersFromJson) {
  const StreamEndInfo e = stream_end_from_json(
      nlohmann::json::parse(R"({"stream_id": 3, "cpis_processed": 10})"), "end.json");
  EXPECT_EQ(e.stream_id, 3u);
  EXPECT_EQ(e.cpis_processed, 10u);
  EXPECT_EQ(e.cpis_dropped, 0u);  // absent
  for (const char* bad : {R"({"stream_id": -1})", R"({"stream_id": 4294967296})",
                          R"({"cpis_dropped": 1.5})", R"({"frames_rejected": "many"})"})
    EXPECT_THROW(stream_end_from_json(nlohmann::json::parse(bad), "end.json"), MessageError) << bad;
}

TEST(MessageText, OnlyShallowObjectsAreMessages) {
  EXPECT_NO_THROW(parse_message_json("t", R"({"a": [1, {"b": 2}]})"));
  EXPECT_THROW(parse_message_json("t", "[1, 2]"), MessageError);
  EXPECT_THROW(parse_message_json("t", "{\"a\": "), MessageError);
  EXPECT_THROW(parse_message_json("t", std::string(100000, '[')), MessageError);
}

TEST(MessageText, ListenPrintsTheCpiAndEachDetection) {
  std::ostringstream os;
  ReportEnvelope env;
  env.stream_id = 5;
  env.cpis_dropped = 1;
  print_report(sample_report(), &env, os);
  const std::string text = os.str();
  EXPECT_NE(text.find("CPI 7  2025-12-02T00:00:00.123456789Z"), std::string::npos) << text;
  EXPECT_NE(text.find("1 detection(s), 12 crossings, noise -3.50 dB"), std::string::npos) << text;
  EXPECT_NE(text.find("[stream 5: 1 CPIs dropped"), std::string::npos) << text;
  EXPECT_NE(text.find("range     1234.5 m  velocity    -4.25 m/s  SNR   17.0 dB  ch  2"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("clutter map"), std::string::npos) << text;  // none in this mode
  DetectionReport r = sample_report();
  r.map_cells = 900;
  r.map_tested = 800;
  r.map_crossings = 1;
  r.detections[0].decided_by = DecidedBy::ClutterMap;
  std::ostringstream with_map;
  print_report(r, nullptr, with_map);
  EXPECT_NE(with_map.str().find("noise -3.50 dB, clutter map 1 of 800 tested"), std::string::npos)
      << with_map.str();
  EXPECT_NE(with_map.str().find("ch  2  clutter map\n"), std::string::npos) << with_map.str();
}

}  // namespace
}  // namespace radarpipe::io
