#include "pipeline/commands/score.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/detection_json.hpp"
#include "io/json_depth.hpp"

namespace radarpipe {

std::vector<DetectionReport> read_detections_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the detection file");
  std::vector<DetectionReport> out;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(n);
    if (const std::string deep = io::json_depth_error(line); !deep.empty())
      throw std::runtime_error(where + ": " + deep);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw std::runtime_error(where + ":" + std::to_string(e.byte) + ": invalid JSON (" +
                               std::string(e.what()).substr(std::string(e.what()).rfind(':') + 2) +
                               ")");
    }
    if (j.is_object() && j.contains("incomplete"))  // process failed after this many CPIs
      throw std::runtime_error(where +
                               ": the detections are incomplete (the run that wrote them "
                               "failed: " +
                               j["incomplete"].value("error", std::string("?")) +
                               "); score a complete run");
    out.push_back(io::report_from_json(j, where));
  }
  return out;
}

io::TruthFile read_truth_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the truth file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (const std::string deep = io::json_depth_error(text); !deep.empty())
    throw std::runtime_error(path + ": " + deep);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": invalid JSON at byte " + std::to_string(e.byte));
  }
  try {
    return io::truth_from_json(j, path);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

CpiAssociation associate_cpi(const DetectionReport& rep, const io::CpiTruth& ct,
                             const io::TruthFile& truth, const ScoreOptions& opt) {
  const io::TruthGeometry& g = truth.geometry;
  const double M = static_cast<double>(g.doppler_bins);
  CpiAssociation a;
  a.target_detection.assign(ct.targets.size(), -1);
  a.detection_kind.assign(rep.detections.size(), DetectionKind::FalseAlarm);
  // Strongest targets pick first; each detection serves one target.
  std::vector<std::size_t> order(ct.targets.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return ct.targets[x].expected_snr_db > ct.targets[y].expected_snr_db;
  });
  for (std::size_t ti : order) {
    const io::TargetTruth& t = ct.targets[ti];
    std::ptrdiff_t best = -1;
    double best_d = 1e300;
    for (std::size_t i = 0; i < rep.detections.size(); ++i) {
      if (a.detection_kind[i] == DetectionKind::Target) continue;
      const Detection& d = rep.detections[i];
      const double dr = d.range_bin_frac - t.range_bin;
      const double dd = std::remainder(d.doppler_bin_frac - t.doppler_bin, M);
      if (std::fabs(dr) > opt.range_gate_bins || std::fabs(dd) > opt.doppler_gate_bins) continue;
      const double dist = std::hypot(dr / opt.range_gate_bins, dd / opt.doppler_gate_bins);
      if (dist < best_d) best_d = dist, best = static_cast<std::ptrdiff_t>(i);
    }
    if (best >= 0) {
      a.target_detection[ti] = best;
      a.detection_kind[static_cast<std::size_t>(best)] = DetectionKind::Target;
    }
  }
  // A clutter patch's compressed echo spreads over the pulse length on either side of it.
  const double spread_m = static_cast<double>(g.waveform_samples) * g.range_bin_m;
  for (std::size_t i = 0; i < rep.detections.size(); ++i) {
    if (a.detection_kind[i] == DetectionKind::Target) continue;
    const Detection& d = rep.detections[i];
    for (const io::ClutterPatch& p : truth.clutter)
      if (d.range_m >= p.range_start_m - spread_m && d.range_m <= p.range_end_m + spread_m &&
          std::fabs(d.doppler_bin_frac - M / 2) <= opt.clutter_doppler_bins)
        a.detection_kind[i] = DetectionKind::Clutter;
  }
  return a;
}

Score score_detections(const std::vector<DetectionReport>& reports, const io::TruthFile& truth,
                       const ScoreOptions& opt) {
  Score s;
  const io::TruthGeometry& g = truth.geometry;
  const double M = static_cast<double>(g.doppler_bins);
  std::map<std::uint64_t, const DetectionReport*> by_cpi;
  for (const DetectionReport& r : reports) by_cpi[r.cpi] = &r;
  std::map<std::string, std::size_t> target_index;
  struct Acc {
    double r2 = 0, v2 = 0;
    std::uint64_t n = 0;
  };
  std::vector<Acc> acc;
  Acc all;
  for (const io::CpiTruth& ct : truth.cpis) {
    auto it = by_cpi.find(ct.cpi);
    if (it == by_cpi.end()) {
      ++s.cpis_missing;
      continue;
    }
    const DetectionReport& rep = *it->second;
    ++s.cpis;
    s.cells += rep.cells;
    const CpiAssociation a = associate_cpi(rep, ct, truth, opt);
    for (std::size_t k = 0; k < ct.targets.size(); ++k) {
      const io::TargetTruth& t = ct.targets[k];
      if (!target_index.count(t.name)) {
        target_index[t.name] = s.targets.size();
        s.targets.push_back({t.name});
        acc.emplace_back();
      }
      const std::size_t ti = target_index[t.name];
      if (!t.in_window || t.expected_snr_db < opt.min_expected_snr_db) continue;
      ++s.opportunities;
      ++s.targets[ti].opportunities;
      if (a.target_detection[k] < 0) {
        s.misses.push_back({ct.cpi, t.name, t.expected_snr_db});
        continue;
      }
      const Detection& d = rep.detections[static_cast<std::size_t>(a.target_detection[k])];
      ++s.hits;
      ++s.targets[ti].hits;
      const double er = d.range_m - t.range_m;
      double ev = d.range_rate_mps - t.apparent_range_rate_mps;
      if (g.velocity_span_mps > 0) ev = std::remainder(ev, g.velocity_span_mps);
      const double erb = std::fabs(d.range_bin_frac - t.range_bin);
      const double edb = std::fabs(std::remainder(d.doppler_bin_frac - t.doppler_bin, M));
      for (Acc* x : {&acc[ti], &all}) {
        x->r2 += er * er;
        x->v2 += ev * ev;
        ++x->n;
      }
      s.targets[ti].max_range_error_bins = std::max(s.targets[ti].max_range_error_bins, erb);
      s.targets[ti].max_doppler_error_bins = std::max(s.targets[ti].max_doppler_error_bins, edb);
      s.max_range_error_bins = std::max(s.max_range_error_bins, erb);
      s.max_doppler_error_bins = std::max(s.max_doppler_error_bins, edb);
    }
    for (DetectionKind kind : a.detection_kind) {
      if (kind == DetectionKind::Clutter) ++s.clutter_detections;
      if (kind == DetectionKind::FalseAlarm) ++s.false_alarms;
    }
  }
  for (std::size_t i = 0; i < s.targets.size(); ++i)
    if (acc[i].n) {
      s.targets[i].range_rmse_m = std::sqrt(acc[i].r2 / static_cast<double>(acc[i].n));
      s.targets[i].velocity_rmse_mps = std::sqrt(acc[i].v2 / static_cast<double>(acc[i].n));
    }
  if (all.n) {
    s.range_rmse_m = std::sqrt(all.r2 / static_cast<double>(all.n));
    s.velocity_rmse_mps = std::sqrt(all.v2 / static_cast<double>(all.n));
  }
  return s;
}

std::string format_score(const Score& s, const ScoreOptions& opt) {
  std::ostringstream o;
  char buf[1024];
  std::snprintf(
      buf, sizeof buf,
      "CPIs scored          %llu (%llu truth CPIs without a report)\n"
      "Pd                   %.4f (%llu of %llu target-CPIs, gate %.1f range x %.1f "
      "Doppler bins)\n"
      "false alarms         %llu (%.3f per CPI, %.3g per cell tested)\n"
      "clutter detections   %llu\n"
      "range RMSE           %.3f m (max error %.3f bins)\n"
      "velocity RMSE        %.3f m/s (max error %.3f Doppler bins)\n",
      static_cast<unsigned long long>(s.cpis), static_cast<unsigned long long>(s.cpis_missing),
      s.pd(), static_cast<unsigned long long>(s.hits),
      static_cast<unsigned long long>(s.opportunities), opt.range_gate_bins, opt.doppler_gate_bins,
      static_cast<unsigned long long>(s.false_alarms), s.false_alarms_per_cpi(),
      s.false_alarm_rate(), static_cast<unsigned long long>(s.clutter_detections), s.range_rmse_m,
      s.max_range_error_bins, s.velocity_rmse_mps, s.max_doppler_error_bins);
  o << buf << "\n";
  std::snprintf(buf, sizeof buf, "%-16s %8s %8s %12s %12s\n", "target", "Pd", "hits", "range RMSE",
                "vel RMSE");
  o << buf;
  for (const TargetScore& t : s.targets) {
    std::snprintf(buf, sizeof buf, "%-16s %8.3f %4llu/%-3llu %10.2f m %8.2f m/s\n", t.name.c_str(),
                  t.pd(), static_cast<unsigned long long>(t.hits),
                  static_cast<unsigned long long>(t.opportunities), t.range_rmse_m,
                  t.velocity_rmse_mps);
    o << buf;
  }
  return o.str();
}

std::string score_json(const Score& s) {
  nlohmann::json targets = nlohmann::json::array();
  for (const TargetScore& t : s.targets)
    targets.push_back({{"name", t.name},
                       {"pd", t.pd()},
                       {"hits", t.hits},
                       {"opportunities", t.opportunities},
                       {"range_rmse_m", t.range_rmse_m},
                       {"velocity_rmse_mps", t.velocity_rmse_mps},
                       {"max_range_error_bins", t.max_range_error_bins},
                       {"max_doppler_error_bins", t.max_doppler_error_bins}});
  nlohmann::json misses = nlohmann::json::array();
  for (const Miss& m : s.misses)
    misses.push_back({{"cpi", m.cpi}, {"name", m.name}, {"expected_snr_db", m.expected_snr_db}});
  return nlohmann::json{{"cpis", s.cpis},
                        {"cpis_missing", s.cpis_missing},
                        {"pd", s.pd()},
                        {"hits", s.hits},
                        {"opportunities", s.opportunities},
                        {"false_alarms", s.false_alarms},
                        {"false_alarms_per_cpi", s.false_alarms_per_cpi()},
                        {"false_alarm_rate", s.false_alarm_rate()},
                        {"clutter_detections", s.clutter_detections},
                        {"cells", s.cells},
                        {"range_rmse_m", s.range_rmse_m},
                        {"velocity_rmse_mps", s.velocity_rmse_mps},
                        {"max_range_error_bins", s.max_range_error_bins},
                        {"max_doppler_error_bins", s.max_doppler_error_bins},
                        {"targets", targets},
                        {"misses", misses}}
      .dump(2);
}

}  // namespace radarpipe
