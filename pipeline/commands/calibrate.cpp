#include "pipeline/commands/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"
#include "kernels/cpu/cfar.hpp"
#include "pipeline/chain/signal_chain.hpp"
#include "pipeline/chain/stage_config.hpp"
#include "pipeline/commands/process.hpp"
#include "pipeline/config/mode_file.hpp"

namespace radarpipe {
namespace {

std::string num(double v, int digits = 4) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

}  // namespace

CalibrateResult calibrate_recording(const CalibrateOptions& opt, std::ostream& log) {
  CalibrateResult res;
  // The mode afresh: a measured factor already in the file is what is being replaced.
  Mode mode = load_mode_file(opt.mode_path, MeasuredFactors::Drop);
  CfarConfig& cc = mode.processing.cfar;
  if (opt.pfa) {
    cc.pfa = *opt.pfa;
    mode.validate();  // names processing.cfar.pfa if --pfa is out of range
  }
  const double pfa = cc.pfa;
  const ModeGeometry g = derive_geometry(mode);
  const std::size_t bins = mode.processing.doppler_fft_size;
  const std::size_t big_r = cc.guard_range + cc.train_range;
  const std::size_t full = g.first_eclipsed_bin;
  if (full < 2 * big_r + 1)
    throw ConfigError("processing.cfar.training_cells.range",
                      "the " + std::to_string(full) +
                          " full-gain range bins hold no interior CFAR window (2 x " +
                          std::to_string(big_r) + " + 1 bins): nothing to calibrate on");
  const std::size_t interior = full - 2 * big_r;
  const double cells_per_cpi =
      static_cast<double>(g.maps) * static_cast<double>(bins) * static_cast<double>(interior);

  // Too short is refused before anything is planned: say how long it must be.
  std::uint64_t cpis_present = 0;
  {
    io::SigmfReadOptions ro;
    ro.verify_checksum = false;
    io::SigmfReader rec(opt.input, ro);
    io::RecordingCpiSource src(rec, mode.processing.pulses, mode.radar.range_gates,
                               mode.radar.pri_s);
    cpis_present = src.slots().size();
  }
  const double cells_needed = kCalibrateMinCrossings / pfa;
  const double cpis_needed = std::ceil(cells_needed / cells_per_cpi);
  if (static_cast<double>(cpis_present) < cpis_needed)
    throw ModeMismatch(opt.input + ": holds " + std::to_string(cpis_present) + " CPIs (" +
                       num(static_cast<double>(cpis_present) * cells_per_cpi) +
                       " interior CFAR cells); measuring Pfa " + num(pfa) + " to +-10% (" +
                       num(kCalibrateMinCrossings) + " crossings expected) needs " +
                       num(cells_needed) + " cells: at least " + num(cpis_needed, 12) + " CPIs, " +
                       num(cpis_needed * g.cpi_duration_s) + " s of this mode's noise");

  // The measuring CFAR: the mode's own table, lowered so that the model expects about 30x the
  // design rate (at most 5%): every cell whose ratio could be the quantile crosses it and is
  // reported with its P and Z. A recording whose noise crosses 30x less than the model expects
  // is reported below rather than measured wrong.
  cpu::CfarStageConfig sc = cfar_stage_config(mode, g);
  const cpu::Cfar model(sc);
  res.model_alpha = model.alpha_at(big_r);
  res.textbook_alpha = model.textbook_alpha_at(big_r);
  const double lowered_pfa = std::min(0.05, 30 * pfa);
  const std::size_t n1 = model.leading_cells_at(big_r), n2 = model.lagging_cells_at(big_r);
  const std::size_t k_os = model.os_rank_at(big_r);
  const double lower = cpu::cfar_alpha(cc.type, lowered_pfa, n1, n2, k_os, g.cfar_looks) /
                       cpu::cfar_alpha(cc.type, pfa, n1, n2, k_os, g.cfar_looks);
  sc.cfar.factors.present = true;
  sc.cfar.factors.alpha = lower * res.model_alpha;
  cpu::Cfar measure(sc);

  const double n_total = cells_per_cpi * static_cast<double>(cpis_present);
  const double k_expect = pfa * n_total;
  // The heap holds about Pfa x cells ratios (16 bytes each): bounded before anything is kept.
  const double keep_d = std::ceil(k_expect + 3 * std::sqrt(k_expect) + 2) + 1;
  if (keep_d > kCalibrateMaxKept)
    throw ModeMismatch(opt.input + ": measuring Pfa " + num(pfa) + " over all " + num(n_total) +
                       " interior cells would keep " + num(keep_d) + " ratios, more than the " +
                       num(kCalibrateMaxKept) + " calibrate holds; use a recording of at most " +
                       num(std::floor((kCalibrateMaxKept - 3 * std::sqrt(kCalibrateMaxKept) - 3) /
                                      (pfa * cells_per_cpi)),
                           12) +
                       " CPIs");
  const auto keep = static_cast<std::size_t>(keep_d);
  // The largest ratios with their CPI (for the spread between CPIs, below).
  using Ratio = std::pair<double, std::uint32_t>;
  std::priority_queue<Ratio, std::vector<Ratio>, std::greater<Ratio>> top;
  std::uint64_t cells = 0, model_crossings = 0, lowered_crossings = 0;
  std::vector<cpu::CfarCrossing> out(bins * mode.radar.range_gates);
  PowerMap power;

  ProcessOptions po;
  po.input = opt.input;
  po.mode_path = opt.mode_path;
  po.mode = mode;
  po.output = "";
  po.threads = opt.threads;
  po.verify_checksum = opt.verify_checksum;
  po.backend = Backend::Cpu;  // the factor is the chain's on every backend; the map is the same
  const ProcessSummary sum = process_recording(
      po, log, [&](const DetectionReport&, const io::CpiSlot&, const SignalChain& chain) {
        chain.copy_power(power);
        for (std::size_t c = 0; c < power.maps; ++c) {
          const cpu::CfarStats st = measure.process(power.map(c), out.data(), out.size());
          for (std::size_t j = 0; j < st.stored; ++j) {
            const cpu::CfarCrossing& x = out[j];
            if (x.range_bin < big_r || x.range_bin >= full - big_r) continue;
            const double r = static_cast<double>(x.power) /
                             (measure.alpha_at(x.doppler_bin, x.range_bin) * x.noise);
            ++lowered_crossings;
            if (r * lower > 1.0) ++model_crossings;
            const Ratio v{r, static_cast<std::uint32_t>(res.cpis)};
            if (top.size() < keep) {
              top.push(v);
            } else if (v > top.top()) {
              top.pop();
              top.push(v);
            }
          }
          cells += static_cast<std::uint64_t>(bins) * interior;
        }
        ++res.cpis;
      });
  const double n = static_cast<double>(cells);
  const std::size_t k = static_cast<std::size_t>(std::llround(pfa * n));
  if (top.size() < k + 1)
    throw std::runtime_error(
        opt.input + ": only " + std::to_string(lowered_crossings) + " of " + std::to_string(cells) +
        " interior cells crossed the factor " + num(lower * res.model_alpha) +
        " (where the model expects Pfa " + num(lowered_pfa) +
        "); the noise is far below what the mode's model predicts: is this a noise recording of "
        "this receiver, with samples that are not zero?");
  // Largest first: r[0] >= r[1] >= ...; k ratios lie above r[k].
  std::vector<double> r(top.size());
  std::vector<double> per_cpi(res.cpis, 0.0);
  for (std::size_t i = r.size(); i-- > 0;) {
    r[i] = top.top().first;
    if (i < k) per_cpi[top.top().second] += 1;
    top.pop();
  }
  const double base = measure.alpha_at(big_r);
  CfarFactors& f = mode.processing.cfar.factors;
  f.present = true;
  f.alpha = r[k] * base;
  // The spread of the count above alpha, from the CPIs themselves (independent of one another,
  // while the cells within one are not: correlated cells cross in clusters, so the count varies
  // more than a binomial one). Its variance over the CPIs' variance per crossing is the
  // dispersion: 1 for independent cells.
  const double kd = static_cast<double>(k), cpis_d = static_cast<double>(res.cpis);
  double ss = 0;
  for (double c : per_cpi) ss += (c - kd / cpis_d) * (c - kd / cpis_d);
  const double var_total = res.cpis > 1 ? ss / (cpis_d - 1) * cpis_d : kd;
  res.dispersion = kd > 0 ? var_total / kd : 1;
  const double sd = std::sqrt(std::max(var_total, kd));  // never below the binomial
  // The factor's 95% interval: the ratios at ranks k -+ 1.96 sd.
  const double spread = 1.959964 * sd;
  const std::size_t hi_rank = static_cast<std::size_t>(std::max(0.0, std::floor(kd - spread)));
  const std::size_t lo_rank =
      std::min(r.size() - 1, static_cast<std::size_t>(std::ceil(kd + spread)));
  f.alpha_high = r[hi_rank] * base;
  f.alpha_low = r[lo_rank] * base;
  f.cells = cells;
  f.crossings = k;
  f.measured_pfa = kd / n;
  f.pfa_low = std::max(0.0, (kd - spread) / n);
  f.pfa_high = std::min(1.0, (kd + spread) / n);
  // Too few crossings for +-10% once their clustering is counted: refused, with the length
  // that would do.
  if (spread > 0.10 * kd) {
    const double factor = (spread / (0.10 * kd)) * (spread / (0.10 * kd));
    throw ModeMismatch(opt.input + ": the crossings of this noise cluster (dispersion " +
                       num(res.dispersion, 3) + "), so " + std::to_string(res.cpis) +
                       " CPIs measure Pfa " + num(pfa) + " to +-" + num(100 * spread / kd, 3) +
                       "% only; +-10% needs at least " + num(std::ceil(factor * cpis_d), 12) +
                       " CPIs, " + num(factor * cpis_d * g.cpi_duration_s) +
                       " s of this mode's noise");
  }
  f.source = opt.input;
  f.fingerprint = mode.cfar_fingerprint();
  mode.validate();
  res.model_rate_over_design = static_cast<double>(model_crossings) / n / pfa;

  std::ostringstream comment;
  comment << "Written by radarpipe calibrate on " << utc_now() << " from " << opt.input << " and "
          << opt.mode_path << ".\n"
          << "processing.cfar.factors: the " << to_string(cc.type) << " CFAR's interior factor "
          << num(f.alpha, 6) << " gives Pfa " << num(pfa) << " on " << cells << " cells of "
          << res.cpis << " CPIs (95%: " << num(f.pfa_low) << " to " << num(f.pfa_high)
          << ", crossings' dispersion " << num(res.dispersion, 3) << ");\n"
          << "the mode's " << to_string(cc.threshold) << " factor " << num(res.model_alpha, 6)
          << " gave " << num(res.model_rate_over_design, 3)
          << " x the design on this noise (textbook factor " << num(res.textbook_alpha, 6) << ").";
  res.text = mode_file_yaml(mode, comment.str());
  // What is written must read back as this mode (a check of the writer, not of the user).
  const Mode back = parse_mode_yaml(res.text, opt.output);
  if (back.cfar_fingerprint() != f.fingerprint || back.processing.cfar.factors.alpha != f.alpha)
    throw std::logic_error("calibrate: the written mode does not read back as measured");
  if (opt.output == "-") {
    std::cout << res.text;
  } else {
    std::ofstream file(opt.output, std::ios::trunc);
    if (!file) throw std::runtime_error(opt.output + ": cannot create the mode file");
    file << res.text;
    file.flush();
    if (!file) throw std::runtime_error(opt.output + ": write error (disk full?)");
  }
  res.mode = mode;
  res.seconds = sum.seconds;
  return res;
}

}  // namespace radarpipe
