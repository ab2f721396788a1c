// The false-alarm rate of every CFAR variant through the whole CPU chain on complex white
// noise, against the design (issue 17's matrix, docs/signal-chain.md "Calibrated thresholds"):
// window pairs rect/rect, hamming/hann, taylor/chebyshev, blackman/blackman x MTI none and
// three-pulse x 1 and 4 noncoherent channels, each at design 1e-3 and 1e-4, with the calibrated
// and the textbook factors. Too long for the test suite (cfar_pfa_test runs a subset); the
// results are committed to bench/results/.
//
// The power map does not depend on the CFAR, so one chain run per (windows, MTI, channels)
// feeds every counter: the chain's own CFAR stage (cpu::Cfar from cfar_stage_config) for each
// variant, Pfa and threshold, counting crossings over the interior windows of the full-gain
// range bins, and apart over the leading edge's reduced windows (m < R), the eclipsed tail
// (the last L - 1 bins, less the trailing edge) and the trailing edge's windows (m >= N - R). The
// 95% interval of each rate is taken from the spread of the count between CPIs (independent; the
// cells within a CPI cross in clusters), never narrower than binomial.
//
//   radarpipe_cfar_sweep [--cpis N] [--seed S] [--case I] [--cfar TYPE] [--json FILE]
//                        [--markdown FILE]
// (--case: only the I-th map case, 0-based, in the order of the table; --cfar: one variant)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/cfar.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "pipeline/chain/stage_config.hpp"

using namespace radarpipe;

namespace {

struct MapCase {
  WindowConfig range, doppler;
  MtiMode mti;
  std::size_t channels;
};

struct Counter {
  CfarType type;
  double pfa;
  CfarThreshold threshold;
  std::vector<double> per_cpi;                 // interior crossings of each CPI
  double leading = 0, tail = 0, trailing = 0;  // crossings in the regions outside the interior
};

std::string window_name(const WindowConfig& w) {
  return to_string(w.type);
}

Mode sweep_mode(const MapCase& mc) {
  // The measurement: 600 gates x 64 pulses, LFM 15 MHz at 20 MHz, 10 us, guard 2/2,
  // training 8/4.
  Mode m;
  m.radar.center_frequency_hz = 9.4e9;
  m.radar.sample_rate_hz = 20.0e6;
  m.radar.pri_s = 100.0e-6;
  m.radar.range_gates = 600;
  m.radar.channels = mc.channels;
  m.radar.waveform.type = WaveformType::Lfm;
  m.radar.waveform.pulse_width_s = 10.0e-6;
  m.radar.waveform.bandwidth_hz = 15.0e6;
  m.processing.pulses = 64;
  m.processing.doppler_fft_size = 64;
  m.processing.range_window = mc.range;
  m.processing.doppler_window = mc.doppler;
  m.processing.mti = mc.mti;
  m.processing.fft_planning = FftPlanning::Estimate;
  m.processing.fft_wisdom = "none";
  m.processing.cfar.guard_range = 2;
  m.processing.cfar.guard_doppler = 2;
  m.processing.cfar.train_range = 8;
  m.processing.cfar.train_doppler = 4;
  m.validate();
  return m;
}

nlohmann::json run_case(const MapCase& mc, std::size_t cpis, std::uint64_t seed,
                        const std::vector<CfarType>& types) {
  const auto t0 = std::chrono::steady_clock::now();
  const Mode base = sweep_mode(mc);
  ChainOptions co;
  co.threads = 1;
  CpuChain chain(base, co);
  const ModeGeometry& g = chain.geometry();
  const std::size_t big_r = base.processing.cfar.guard_range + base.processing.cfar.train_range;
  const std::size_t lo = big_r, hi = g.first_eclipsed_bin - big_r;
  const std::size_t trailing_from = base.radar.range_gates - big_r;
  const double cells_per_cpi =
      static_cast<double>(base.processing.doppler_fft_size) * static_cast<double>(hi - lo);

  std::vector<Counter> counters;
  std::vector<cpu::Cfar> cfars;
  for (double pfa : {1e-3, 1e-4})
    for (CfarType t : types)
      for (CfarThreshold th : {CfarThreshold::Calibrated, CfarThreshold::Textbook}) {
        Mode m = base;
        m.processing.cfar.type = t;
        m.processing.cfar.pfa = pfa;
        m.processing.cfar.threshold = th;
        counters.push_back({t, pfa, th, {}});
        cfars.emplace_back(cfar_stage_config(m, derive_geometry(m)));
      }
  std::vector<cpu::CfarCrossing> out(base.processing.doppler_fft_size * base.radar.range_gates);
  Cpi cpi(CpiShape{mc.channels, base.processing.pulses, base.radar.range_gates});
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 0.70710678f);
  for (std::size_t k = 0; k < cpis; ++k) {
    for (cf32& z : cpi.samples) {
      const float re = gauss(rng);
      z = cf32(re, gauss(rng));
    }
    cpi.id = k;
    chain.process(cpi);
    const float* map = chain.power().map(0);
    for (std::size_t i = 0; i < counters.size(); ++i) {
      const cpu::CfarStats st = cfars[i].process(map, out.data(), out.size());
      double n = 0;
      for (std::size_t j = 0; j < st.stored; ++j) {
        const std::size_t m = out[j].range_bin;
        n += m >= lo && m < hi;
        counters[i].leading += m < lo;
        counters[i].tail += m >= g.first_eclipsed_bin && m < trailing_from;
        counters[i].trailing += m >= trailing_from;
      }
      counters[i].per_cpi.push_back(n);
    }
  }
  nlohmann::json rows = nlohmann::json::array();
  const double cpis_d = static_cast<double>(cpis);
  for (const Counter& c : counters) {
    double total = 0;
    for (double v : c.per_cpi) total += v;
    const double mean = total / cpis_d;
    double ss = 0;
    for (double v : c.per_cpi) ss += (v - mean) * (v - mean);
    const double var_total = std::max(ss / (cpis_d - 1) * cpis_d, total);
    const double cells = cells_per_cpi * cpis_d;
    const double ratio = total / cells / c.pfa;
    const double half = 1.959964 * std::sqrt(var_total) / cells / c.pfa;
    // Cells of a region of `bins` range bins over the run.
    auto region = [&](std::size_t bins) {
      return static_cast<double>(base.processing.doppler_fft_size * bins) * cpis_d;
    };
    rows.push_back({{"cfar", to_string(c.type)},
                    {"leading_edge_rate_over_design", c.leading / region(lo) / c.pfa},
                    {"eclipsed_tail_rate_over_design",
                     c.tail / region(trailing_from - g.first_eclipsed_bin) / c.pfa},
                    {"trailing_edge_rate_over_design", c.trailing / region(big_r) / c.pfa},
                    {"pfa", c.pfa},
                    {"threshold", to_string(c.threshold)},
                    {"crossings", total},
                    {"cells", cells},
                    {"rate_over_design", ratio},
                    {"interval95", {ratio - half, ratio + half}},
                    {"dispersion", total > 0 ? var_total / total : 1.0}});
  }
  return {{"range_window", window_name(mc.range)},
          {"doppler_window", window_name(mc.doppler)},
          {"mti", to_string(mc.mti)},
          {"channels", mc.channels},
          {"cpis", cpis},
          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
          {"rows", rows}};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t cpis = 1600;
  std::uint64_t seed = 2026;
  std::string json_path, md_path;
  long only = -1;
  std::vector<CfarType> types = {CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--cpis")) {
      cpis = std::stoul(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--seed")) {
      seed = std::stoull(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--case")) {
      only = std::stol(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--cfar")) {
      const std::string v = argv[i + 1];
      types.clear();
      for (CfarType t : {CfarType::Ca, CfarType::Go, CfarType::So, CfarType::Os})
        if (v == to_string(t)) types.push_back(t);
      if (types.empty()) {
        std::cerr << "--cfar: ca, go, so or os\n";
        return 2;
      }
    } else if (!std::strcmp(argv[i], "--json")) {
      json_path = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--markdown")) {
      md_path = argv[i + 1];
    } else {
      std::cerr << "usage: radarpipe_cfar_sweep [--cpis N] [--seed S] [--case I] [--cfar TYPE] "
                   "[--json FILE] [--markdown FILE]\n";
      return 2;
    }
  }
  if (cpis < 2) {
    std::cerr << "--cpis: at least 2\n";
    return 2;
  }
  std::vector<MapCase> cases;
  const std::pair<WindowConfig, WindowConfig> pairs[] = {
      {WindowConfig{WindowType::Rect}, WindowConfig{WindowType::Rect}},
      {WindowConfig{WindowType::Hamming}, WindowConfig{WindowType::Hann}},
      {WindowConfig{WindowType::Taylor}, WindowConfig{WindowType::Chebyshev}},
      {WindowConfig{WindowType::Blackman}, WindowConfig{WindowType::Blackman}}};
  for (const auto& w : pairs)
    for (MtiMode mti : {MtiMode::None, MtiMode::ThreePulse})
      for (std::size_t ch : {std::size_t{1}, std::size_t{4}})
        cases.push_back({w.first, w.second, mti, ch});
  if (only >= 0) {
    if (static_cast<std::size_t>(only) >= cases.size()) {
      std::cerr << "--case: 0 to " << cases.size() - 1 << "\n";
      return 2;
    }
    const std::size_t keep = static_cast<std::size_t>(only);
    cases = {cases[keep]};
    seed += 1000 * keep;  // the same noise as in the whole sweep
  }

  std::vector<nlohmann::json> results(cases.size());
  std::mutex mu;
  std::size_t next = 0;
  auto worker = [&] {
    for (;;) {
      std::size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next == cases.size()) return;
        i = next++;
      }
      results[i] = run_case(cases[i], cpis, seed + 1000 * i, types);
      std::lock_guard<std::mutex> lock(mu);
      std::cerr << "case " << i + 1 << "/" << cases.size() << " done in "
                << results[i]["seconds"].get<double>() << " s\n";
    }
  };
  const std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();

  nlohmann::json doc = {{"what", "CFAR false-alarm rate through the CPU chain on white noise"},
                        {"mode",
                         "600 gates x 64 pulses, LFM 15 MHz 10 us at 20 MHz, guard 2/2, training "
                         "8/4, interior windows of the full-gain range bins"},
                        {"cpis_per_case", cpis},
                        {"seed", seed},
                        {"cases", results}};
  if (!json_path.empty()) std::ofstream(json_path) << doc.dump(1) << "\n";

  // Markdown: one row per map case and Pfa, rate over design for each variant (calibrated,
  // then textbook in brackets); a mark where the calibrated rate is outside +-10%.
  // A table row's first cells: the map case and the design Pfa.
  auto row_head = [](const nlohmann::json& c, double pfa) {
    char head[160];
    std::snprintf(head, sizeof head, "| %s / %s | %s | %zu | %.0e |",
                  c["range_window"].get<std::string>().c_str(),
                  c["doppler_window"].get<std::string>().c_str(),
                  c["mti"].get<std::string>().c_str(), c["channels"].get<std::size_t>(), pfa);
    return std::string(head);
  };
  std::string md =
      "| range / Doppler window | MTI | channels | design | CA | GO | SO | OS |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|\n";
  int outside = 0, total = 0;
  for (const nlohmann::json& c : results)
    for (double pfa : {1e-3, 1e-4}) {
      md += row_head(c, pfa);
      for (const char* v : {"ca", "go", "so", "os"}) {
        double cal = -1, tb = -1;
        for (const nlohmann::json& r : c["rows"])
          if (r["cfar"] == v && r["pfa"].get<double>() == pfa)
            (r["threshold"] == "calibrated" ? cal : tb) = r["rate_over_design"].get<double>();
        if (cal < 0) {  // not run (--cfar)
          md += " - |";
          continue;
        }
        const bool off = std::fabs(cal - 1.0) > 0.10;
        outside += off;
        ++total;
        char cell[64];
        std::snprintf(cell, sizeof cell, " %s%.2f (%.2f) |", off ? "**" : "", cal, tb);
        md += cell;
        if (off) md.insert(md.size() - 2, "**");
      }
      md += "\n";
    }
  md +=
      "\nOutside the interior windows, calibrated (leading edge m < R / eclipsed tail / trailing "
      "edge m >= N - R):\n\n"
      "| range / Doppler window | MTI | channels | design | CA | GO | SO | OS |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const nlohmann::json& c : results)
    for (double pfa : {1e-3, 1e-4}) {
      md += row_head(c, pfa);
      for (const char* v : {"ca", "go", "so", "os"}) {
        bool found = false;
        for (const nlohmann::json& r : c["rows"])
          if (r["cfar"] == v && r["pfa"].get<double>() == pfa && r["threshold"] == "calibrated") {
            char cell[80];
            std::snprintf(cell, sizeof cell, " %.2f / %.2f / %.2f |",
                          r["leading_edge_rate_over_design"].get<double>(),
                          r["eclipsed_tail_rate_over_design"].get<double>(),
                          r["trailing_edge_rate_over_design"].get<double>());
            md += cell;
            found = true;
          }
        if (!found) md += " - |";
      }
      md += "\n";
    }
  char tail[200];
  std::snprintf(tail, sizeof tail,
                "\nCalibrated rate over design (textbook in brackets); %d of %d outside +-10%% "
                "(bold). %zu CPIs per case.\n",
                outside, total, cpis);
  md += tail;
  if (!md_path.empty()) std::ofstream(md_path) << md;
  std::cout << md;
  return 0;
}
