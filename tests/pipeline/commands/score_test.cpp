// Scoring against hand-built truth and detections whose hits, misses, false alarms, clutter
// detections and errors are counted here by hand.
#include "pipeline/commands/score.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace radarpipe;

namespace {

io::TruthFile make_truth() {
  io::TruthFile f;
  f.geometry.range_bin_m = 7.5;
  f.geometry.velocity_bin_mps = 1.25;
  f.geometry.velocity_span_mps = 80.0;  // M = 64 bins
  f.geometry.doppler_bins = 64;
  f.geometry.range_gates = 1000;
  f.geometry.waveform_samples = 10;
  io::ClutterPatch p;
  p.range_start_m = 100;
  p.range_end_m = 500;
  f.clutter = {p};
  for (std::uint64_t k = 0; k < 2; ++k) {
    io::CpiTruth c;
    c.cpi = k;
    io::TargetTruth a;
    a.name = "a";
    a.range_bin = 300.2;
    a.range_m = 300.2 * 7.5;
    a.doppler_bin = 63.8;  // next to the wrap: detections at bin 0.1 are 0.3 bins away
    a.apparent_range_rate_mps = 10.0;
    a.expected_snr_db = 20;
    a.in_window = true;
    io::TargetTruth b = a;
    b.name = "b";
    b.range_bin = 600.0;
    b.range_m = 4500.0;
    b.doppler_bin = 20.0;
    b.apparent_range_rate_mps = -39.5;  // near -span/2: a +40 m/s estimate is 0.5 m/s off
    b.expected_snr_db = 5;              // weak: excluded by --min-snr 10
    c.targets = {a, b};
    f.cpis.push_back(c);
  }
  return f;
}

Detection det(double range_bin, double doppler_bin, double range_m, double rate) {
  Detection d;
  d.range_bin_frac = range_bin;
  d.doppler_bin_frac = doppler_bin;
  d.range_m = range_m;
  d.range_rate_mps = rate;
  return d;
}

}  // namespace

TEST(Score, CountsHitsMissesFalseAlarmsClutterAndErrors) {
  const io::TruthFile truth = make_truth();
  std::vector<DetectionReport> reports(2);
  reports[0].cpi = 0;
  reports[0].cells = 1000;
  // a: found across the Doppler wrap, 0.3 range bins long (2.25 m) and 1 m/s fast.
  reports[0].detections = {det(300.5, 0.1, 300.5 * 7.5, 11.0),
                           // b: found 0.4 bins off, -39.5 truth vs +40.0 measured: 0.5 m/s
                           // once folded into the 80 m/s span.
                           det(600.4, 20.0, 4503.0, 40.0),
                           // clutter: zero Doppler (bin 32), inside the patch + 10 bins
                           det(70.0, 32.5, 560.0, 0.0),
                           // a false alarm far from everything
                           det(900.0, 10.0, 6750.0, 30.0)};
  reports[1].cpi = 1;
  reports[1].cells = 1000;
  // a missed (the detection is 2.5 range bins away: outside the gate), b missed.
  reports[1].detections = {det(302.7, 63.8, 302.7 * 7.5, 10.0)};

  const Score s = score_detections(reports, truth);
  EXPECT_EQ(s.cpis, 2u);
  EXPECT_EQ(s.opportunities, 4u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses.size(), 2u);
  EXPECT_EQ(s.clutter_detections, 1u);
  EXPECT_EQ(s.false_alarms, 2u);  // the far one, and CPI 1's out-of-gate one
  EXPECT_DOUBLE_EQ(s.false_alarms_per_cpi(), 1.0);
  EXPECT_DOUBLE_EQ(s.false_alarm_rate(), 2.0 / 2000.0);
  EXPECT_NEAR(s.range_rmse_m, std::sqrt((2.25 * 2.25 + 3.0 * 3.0) / 2), 1e-9);
  EXPECT_NEAR(s.velocity_rmse_mps, std::sqrt((1.0 + 0.25) / 2), 1e-9);
  EXPECT_NEAR(s.max_range_error_bins, 0.4, 1e-9);
  EXPECT_NEAR(s.max_doppler_error_bins, 0.3, 1e-9);
  ASSERT_EQ(s.targets.size(), 2u);
  EXPECT_DOUBLE_EQ(s.targets[0].pd(), 0.5);

  ScoreOptions strong;
  strong.min_expected_snr_db = 10;  // b no longer counts toward Pd (but still takes its detection)
  const Score t = score_detections(reports, truth, strong);
  EXPECT_EQ(t.opportunities, 2u);
  EXPECT_EQ(t.hits, 1u);
  EXPECT_EQ(t.false_alarms, 2u);

  ScoreOptions wide;
  wide.range_gate_bins = 3;  // CPI 1's detection now hits a
  EXPECT_EQ(score_detections(reports, truth, wide).hits, 3u);
}

TEST(Score, EachDetectionServesOneTargetStrongestFirst) {
  io::TruthFile truth = make_truth();
  truth.cpis.resize(1);
  truth.cpis[0].targets[1] = truth.cpis[0].targets[0];
  truth.cpis[0].targets[1].name = "a-twin";
  truth.cpis[0].targets[1].expected_snr_db = 30;  // picks first
  DetectionReport r;
  r.cpi = 0;
  r.detections = {det(300.2, 63.8, 2251.5, 10.0)};
  const CpiAssociation a = associate_cpi(r, truth.cpis[0], truth);
  EXPECT_EQ(a.target_detection[0], -1);
  EXPECT_EQ(a.target_detection[1], 0);
  EXPECT_EQ(a.detection_kind[0], DetectionKind::Target);
}
