#include "core/mode.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/radar_math.hpp"

namespace radarpipe {
namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
// Exact (round-trip) text of a double, for fingerprints.
std::string num17(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string num(std::size_t v) {
  return std::to_string(v);
}

[[noreturn]] void fail(const std::string& key, const std::string& message) {
  throw ConfigError(key, message);
}

void require_finite(const std::string& key, double v) {
  if (!std::isfinite(v)) fail(key, num(v) + " is not a finite number");
}

void require_positive(const std::string& key, double v) {
  require_finite(key, v);
  if (!(v > 0.0)) fail(key, num(v) + " must be > 0");
}

void require_in(const std::string& key, double v, double lo, double hi) {
  require_finite(key, v);
  if (v < lo || v > hi) fail(key, num(v) + " is not in [" + num(lo) + ", " + num(hi) + "]");
}

void require_count(const std::string& key, std::size_t v, std::size_t lo, std::size_t hi) {
  if (v < lo || v > hi) fail(key, num(v) + " is not in [" + num(lo) + ", " + num(hi) + "]");
}

// n: the window's length. Hann and Blackman vanish at both ends, so they need 3 samples.
void validate_window(const std::string& key, const WindowConfig& w, std::size_t n) {
  if ((w.type == WindowType::Hann || w.type == WindowType::Blackman) && n < 3)
    fail(key + ".type", std::string(to_string(w.type)) + " over " + std::to_string(n) +
                            " samples is all zeros; it needs at least 3 (use rect)");
  if (w.type == WindowType::Taylor) {
    if (w.nbar < 1 || w.nbar > 20)
      fail(key + ".nbar", std::to_string(w.nbar) + " is not in [1, 20]");
    require_in(key + ".sll_db", w.sll_db, 13.0, 120.0);
  } else if (w.type == WindowType::Chebyshev) {
    require_in(key + ".attenuation_db", w.attenuation_db, 13.0, 200.0);
  }
}

// processing.cfar.factors: the factor and its evidence as `radarpipe calibrate` wrote them.
void validate_factors(const CfarFactors& f, const std::string& fingerprint) {
  const std::string k = "processing.cfar.factors";
  require_positive(k + ".alpha", f.alpha);
  if (f.alpha > 1.0e9) fail(k + ".alpha", num(f.alpha) + " is not in (0, 1e9]");
  if (f.fingerprint != fingerprint)
    fail(k + ".fingerprint",
         "'" + f.fingerprint + "' was measured for another map; this mode's is '" + fingerprint +
             "' (the waveform, sample rate, gates, channels, pulses, windows, MTI, Doppler size "
             "or a CFAR key changed): run radarpipe calibrate again or remove the factors");
  if (f.crossings > f.cells)
    fail(k + ".crossings", num(static_cast<double>(f.crossings)) + " is more than the " +
                               num(static_cast<double>(f.cells)) + " cells");
  require_in(k + ".measured_pfa", f.measured_pfa, 0.0, 1.0);
  require_in(k + ".pfa_low", f.pfa_low, 0.0, f.measured_pfa);
  require_in(k + ".pfa_high", f.pfa_high, f.measured_pfa, 1.0);
  if (f.alpha_low != 0 || f.alpha_high != 0) {
    require_in(k + ".alpha_low", f.alpha_low, 0.0, f.alpha);
    require_in(k + ".alpha_high", f.alpha_high, f.alpha, 1.0e9);
  }
}

std::size_t round_samples(double seconds, double fs) {
  return static_cast<std::size_t>(std::llround(seconds * fs));
}

}  // namespace

double WaveformConfig::duration_s() const {
  return type == WaveformType::Barker ? barker_length * chip_width_s : pulse_width_s;
}

double WaveformConfig::resolution_bandwidth_hz() const {
  switch (type) {
    case WaveformType::Lfm:
      return bandwidth_hz;
    case WaveformType::Barker:
      return 1.0 / chip_width_s;
    case WaveformType::Rect:
      return 1.0 / pulse_width_s;
  }
  return bandwidth_hz;
}

double RadarConfig::wavelength_m() const {
  return kSpeedOfLight_mps / center_frequency_hz;
}

std::string Mode::cfar_fingerprint() const {
  const RadarConfig& r = radar;
  const ProcessingConfig& p = processing;
  const CfarConfig& c = p.cfar;
  const WaveformConfig& w = r.waveform;
  auto window = [](const WindowConfig& x) {
    return std::string(to_string(x.type)) + "/" + std::to_string(x.nbar) + "/" + num17(x.sll_db) +
           "/" + num17(x.attenuation_db);
  };
  const std::string text =
      "fs=" + num17(r.sample_rate_hz) + " gates=" + std::to_string(r.range_gates) +
      " channels=" + std::to_string(r.channels) + " waveform=" + to_string(w.type) + "/" +
      num17(w.pulse_width_s) + "/" + num17(w.bandwidth_hz) + "/" + std::to_string(w.direction) +
      "/" + std::to_string(w.barker_length) + "/" + num17(w.chip_width_s) +
      " pulses=" + std::to_string(p.pulses) + " range_window=" + window(p.range_window) +
      " mti=" + to_string(p.mti) + " doppler_window=" + window(p.doppler_window) +
      " fft=" + std::to_string(p.doppler_fft_size) + " combine=" + to_string(p.channel_combine) +
      " cfar=" + to_string(c.type) + "/" + std::to_string(c.guard_range) + "/" +
      std::to_string(c.guard_doppler) + "/" + std::to_string(c.train_range) + "/" +
      std::to_string(c.train_doppler) + "/" + num17(c.pfa) + "/" + num17(c.os_rank) + "/" +
      to_string(c.threshold);
  // FNV-1a, 64 bits: enough to tell one mode from another; nothing here is a secret.
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::size_t CfarConfig::interior_training_cells() const {
  const std::size_t outer =
      (2 * (guard_range + train_range) + 1) * (2 * (guard_doppler + train_doppler) + 1);
  const std::size_t inner = (2 * guard_range + 1) * (2 * guard_doppler + 1);
  return outer - inner;
}

void Mode::validate() const {
  const RadarConfig& r = radar;
  require_in("radar.center_frequency_hz", r.center_frequency_hz, 1.0e6, 300.0e9);
  require_positive("radar.sample_rate_hz", r.sample_rate_hz);
  require_positive("radar.pri_s", r.pri_s);
  require_count("radar.range_gates", r.range_gates, 1, std::size_t{1} << 24);
  require_finite("radar.window_start_s", r.window_start_s);
  if (r.window_start_s < 0.0) fail("radar.window_start_s", num(r.window_start_s) + " must be >= 0");
  require_count("radar.channels", r.channels, 1, 1024);

  const double window_end_s =
      r.window_start_s + static_cast<double>(r.range_gates) / r.sample_rate_hz;
  if (window_end_s > r.pri_s * (1.0 + 1e-12))
    fail("radar.range_gates", num(r.range_gates) + " gates starting at window_start_s " +
                                  num(r.window_start_s) + " s end at " + num(window_end_s) +
                                  " s, beyond the PRI of " + num(r.pri_s) + " s");

  const WaveformConfig& w = r.waveform;
  const double fs = r.sample_rate_hz;
  switch (w.type) {
    case WaveformType::Lfm:
      require_positive("radar.waveform.pulse_width_s", w.pulse_width_s);
      require_positive("radar.waveform.bandwidth_hz", w.bandwidth_hz);
      if (w.bandwidth_hz > fs * (1.0 + 1e-12))
        fail("radar.waveform.bandwidth_hz", num(w.bandwidth_hz) +
                                                " exceeds the complex sample rate " + num(fs) +
                                                " Hz (the chirp would alias)");
      if (w.direction != 1 && w.direction != -1)
        fail("radar.waveform.direction", std::to_string(w.direction) + " is not up or down");
      break;
    case WaveformType::Barker:
      if (barker_chip(w.barker_length, 0) == 0)
        fail("radar.waveform.length", std::to_string(w.barker_length) +
                                          " is not a Barker code length (2, 3, 4, 5, 7, 11, 13)");
      require_positive("radar.waveform.chip_width_s", w.chip_width_s);
      if (w.chip_width_s * fs < 1.0 - 1e-9)
        fail("radar.waveform.chip_width_s",
             num(w.chip_width_s) + " is shorter than one sample (1/fs = " + num(1.0 / fs) + " s)");
      break;
    case WaveformType::Rect:
      require_positive("radar.waveform.pulse_width_s", w.pulse_width_s);
      break;
  }
  const std::size_t pulse_samples = round_samples(w.duration_s(), fs);
  const std::string pulse_key = w.type == WaveformType::Barker ? "radar.waveform.chip_width_s"
                                                               : "radar.waveform.pulse_width_s";
  if (pulse_samples < 1)
    fail(pulse_key, "the pulse of " + num(w.duration_s()) +
                        " s is shorter than one sample (1/fs = " + num(1.0 / fs) + " s)");
  if (pulse_samples > r.range_gates)
    fail(pulse_key, "the pulse of " + num(w.duration_s()) + " s (" + num(pulse_samples) +
                        " samples) is longer than the receive window of " + num(r.range_gates) +
                        " range gates");

  const ProcessingConfig& p = processing;
  require_count("processing.pulses", p.pulses, 1, 65536);
  std::size_t after_mti = p.pulses;
  if (p.mti == MtiMode::TwoPulse || p.mti == MtiMode::ThreePulse) {
    const std::size_t taps = p.mti == MtiMode::TwoPulse ? 2 : 3;
    if (p.pulses < taps)
      fail("processing.mti", std::string(to_string(p.mti)) + " needs at least " + num(taps) +
                                 " pulses, processing.pulses is " + num(p.pulses));
    after_mti = p.pulses - (taps - 1);
  }
  validate_window("processing.range_window", p.range_window, pulse_samples);
  validate_window("processing.doppler_window", p.doppler_window, after_mti);
  require_count("processing.doppler_fft_size", p.doppler_fft_size, 1, 65536);
  if (p.doppler_fft_size < after_mti)
    fail("processing.doppler_fft_size", num(p.doppler_fft_size) + " is shorter than the " +
                                            num(after_mti) + " pulses left after MTI (" +
                                            to_string(p.mti) + ")");

  const CfarConfig& c = p.cfar;
  require_finite("processing.cfar.pfa", c.pfa);
  if (!(c.pfa > 0.0 && c.pfa < 1.0)) fail("processing.cfar.pfa", num(c.pfa) + " is not in (0, 1)");
  require_finite("processing.cfar.os_rank", c.os_rank);
  if (!(c.os_rank > 0.0 && c.os_rank <= 1.0))
    fail("processing.cfar.os_rank", num(c.os_rank) + " is not in (0, 1]");
  if (c.interior_training_cells() == 0)
    fail("processing.cfar.training_cells", "range 0 and doppler 0 leave no training cells");
  const std::size_t doppler_extent = 2 * (c.guard_doppler + c.train_doppler) + 1;
  if (doppler_extent > p.doppler_fft_size)
    fail("processing.cfar.training_cells.doppler",
         "the CFAR window spans " + num(doppler_extent) + " Doppler cells (2 x (guard " +
             num(c.guard_doppler) + " + training " + num(c.train_doppler) +
             ") + 1), more than the " + num(p.doppler_fft_size) + " Doppler bins of the map");
  const std::size_t range_extent = 2 * (c.guard_range + c.train_range) + 1;
  if (range_extent > r.range_gates)
    fail("processing.cfar.training_cells.range",
         "the CFAR window spans " + num(range_extent) + " range cells (2 x (guard " +
             num(c.guard_range) + " + training " + num(c.train_range) + ") + 1), more than the " +
             num(r.range_gates) + " range gates of the map");
  if (c.type == CfarType::Os &&
      std::llround(c.os_rank * static_cast<double>(c.interior_training_cells())) < 1)
    fail("processing.cfar.os_rank", num(c.os_rank) + " x " + num(c.interior_training_cells()) +
                                        " training cells rounds to rank 0; it must select >= 1");
  if (c.factors.present) validate_factors(c.factors, cfar_fingerprint());
  require_count("processing.max_crossings", p.max_crossings, 1, std::size_t{1} << 30);
  require_count("processing.max_detections", p.max_detections, 1, std::size_t{1} << 24);

  const PipelineConfig& pl = pipeline;
  require_count("pipeline.cpis_in_flight", pl.cpis_in_flight, 2, 64);
  require_count("pipeline.link_queue", pl.link_queue, 1, 64);
  if (pl.segments.empty()) fail("pipeline.segments", "is empty; it needs at least one segment");
  int next_stage = 0;
  for (std::size_t i = 0; i < pl.segments.size(); ++i) {
    const SegmentConfig& s = pl.segments[i];
    const std::string key = "pipeline.segments[" + num(i) + "]";
    if (s.name.empty() || s.name.size() > 32 ||
        s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
      fail(key + ".name", "'" + s.name + "' is not 1 to 32 of a-z, 0-9, _ and -");
    for (std::size_t j = 0; j < i; ++j)
      if (pl.segments[j].name == s.name) fail(key + ".name", "'" + s.name + "' names two segments");
    if (static_cast<int>(s.first) != next_stage || s.last < s.first)
      fail(key + ".stages",
           std::string("must start with ") +
               to_string(static_cast<Stage>(std::min(next_stage, kStageCount - 1))) +
               " (segments list the stages once each, in chain order)");
    next_stage = static_cast<int>(s.last) + 1;
    if (i == 0 && !s.from.empty())
      fail(key + ".from", "'" + s.from +
                              "': the first segment is fed by the IQ stream (radarpipe run "
                              "--from), it has no link from a previous segment");
    if (i > 0) {
      const std::string ep =
          s.from.empty() || (s.from[0] != '@' && s.from[0] != '>') ? s.from : s.from.substr(1);
      if (ep.rfind("inproc://", 0) != 0 && ep.rfind("ipc://", 0) != 0 && ep.rfind("tcp://", 0) != 0)
        fail(key + ".from", "'" + s.from +
                                "' is not a ZeroMQ endpoint (inproc://NAME, ipc://PATH or "
                                "tcp://HOST:PORT) for the link from segment '" +
                                pl.segments[i - 1].name + "'");
    }
  }
  if (next_stage != kStageCount)
    fail("pipeline.segments", std::string("end before ") +
                                  to_string(static_cast<Stage>(next_stage)) +
                                  "; every stage must be in a segment");

  const AntennaConfig& a = antenna;
  if (a.present) {
    auto azimuth = [](const std::string& key, double v) {
      require_finite(key, v);
      if (v < 0.0 || v >= 360.0) fail(key, num(v) + " is not in [0, 360)");
    };
    azimuth("antenna.azimuth_deg", a.azimuth_deg);
    require_in("antenna.beamwidth_deg", a.beamwidth_deg, 1e-6, 360.0);
    if (a.scan == ScanType::Fixed) {
      if (!a.channel_azimuths_deg.empty() && a.channel_azimuths_deg.size() != radar.channels)
        fail("antenna.channel_azimuths_deg",
             num(a.channel_azimuths_deg.size()) + " azimuths given for " + num(radar.channels) +
                 " channels (radar.channels); give one per channel");
      for (std::size_t i = 0; i < a.channel_azimuths_deg.size(); ++i)
        azimuth("antenna.channel_azimuths_deg[" + num(i) + "]", a.channel_azimuths_deg[i]);
    } else {
      if (!a.channel_azimuths_deg.empty())
        fail("antenna.channel_azimuths_deg",
             "only applies to a fixed scan; a rotating antenna has one beam");
      require_in("antenna.rotation_period_s", a.rotation_period_s, 0.1, 511.0);
      if (a.direction != 1 && a.direction != -1)
        fail("antenna.direction", num(static_cast<double>(a.direction)) +
                                      " is not clockwise (+1) or anticlockwise (-1)");
      if (a.sectors < 1 || a.sectors > 256 || (a.sectors & (a.sectors - 1)) != 0)
        fail("antenna.sectors", num(a.sectors) +
                                    " is not a power of two in [1, 256] (CAT034 sector numbers "
                                    "are multiples of 360/256 degrees)");
    }
  }

  const ClutterMapConfig& cm = processing.clutter_map;
  if (cm.present) {
    const std::string k = "processing.clutter_map";
    const bool rotating = a.present && a.scan == ScanType::Rotating;
    const ModeGeometry g = derive_geometry(*this);
    std::size_t half = cm.doppler_bins;
    if (cm.velocity_mps != 0.0) {
      require_in(k + ".velocity_mps", cm.velocity_mps, 1e-9, 1e6);
      // Compared as a double first: an absurd PRI makes the velocity bin tiny and the quotient
      // beyond what size_t holds (undefined to convert; fuzz_mode_file found it).
      const double rows = std::floor(cm.velocity_mps / g.velocity_bin_mps);
      half = rows > static_cast<double>(p.doppler_fft_size) ? p.doppler_fft_size
                                                            : static_cast<std::size_t>(rows);
    }
    if (half > (p.doppler_fft_size - 1) / 2)
      fail(cm.velocity_mps != 0.0 ? k + ".velocity_mps" : k + ".doppler_bins",
           "the map's rows (" + num(half) +
               " each side of zero Doppler) are more than fit in the " + num(p.doppler_fft_size) +
               " Doppler bins of the map");
    if (cm.in_scans && !rotating)
      fail(k + ".time_constant_scans",
           "scans need a rotating antenna (antenna.scan: rotating); give time_constant_cpis");
    if (cm.azimuth_cells != 0) {
      if (!rotating)
        fail(k + ".azimuth_cells",
             "only applies to a rotating antenna; a fixed beam's map has one azimuth cell");
      require_count(k + ".azimuth_cells", cm.azimuth_cells, 1, 4096);
    }
    require_in(k + (cm.in_scans ? ".time_constant_scans" : ".time_constant_cpis"), cm.time_constant,
               1e-3, 1e4);
    require_in(k + (cm.in_scans ? ".warmup_scans" : ".warmup_cpis"), cm.warmup, 0.0, 1e6);
    if (clutter_map_geometry(*this).warmup_updates > 1000000)
      fail(k + ".warmup_scans", num(cm.warmup) + " scans are more than 10^6 updates of a cell");
    if (cm.factor_db != 0.0) {
      if (cm.pfa != 0.0) fail(k + ".factor_db", "and pfa both given; give one");
      require_in(k + ".factor_db", cm.factor_db, 1e-3, 100.0);
    } else if (cm.pfa != 0.0) {
      require_in(k + ".pfa", cm.pfa, 1e-15, 0.1);
    }
    require_in(k + ".hold_s", cm.hold_s, 0.0, 1e6);
    const ClutterMapGeometry cg = clutter_map_geometry(*this);
    if (cg.time_constant_updates > 1e4)
      fail(k + (cm.in_scans ? ".time_constant_scans" : ".time_constant_cpis"),
           num(cm.time_constant) + " is " + num(cg.time_constant_updates) +
               " updates of a cell; at most 10^4");
    if (cg.cells() > kMaxClutterMapCells)
      fail(k, num(cg.maps) + " maps x " + num(cg.azimuth_cells) + " azimuth cells x " +
                  num(cg.rows) + " Doppler rows x " + num(cg.gates) +
                  " gates = " + num(cg.cells()) + " cells, more than the " +
                  num(kMaxClutterMapCells) + " the stage keeps");
  }

  const AsterixConfig& x = asterix;
  if (x.present) {
    if (!a.present)
      fail("asterix", "needs an antenna: section (I048/040 carries each plot's azimuth)");
    require_count("asterix.sac", x.sac, 0, 255);
    require_count("asterix.sic", x.sic, 0, 255);
    require_count("asterix.ttl", x.ttl, 0, 255);
    require_count("asterix.max_datagram_bytes", x.max_datagram_bytes, 64, 65507);
    require_in("asterix.amplitude_offset_db", x.amplitude_offset_db, -300.0, 300.0);
    if (!x.destination.empty() && x.destination.rfind("udp://", 0) != 0)
      fail("asterix.destination",
           "'" + x.destination + "' is not udp://HOST:PORT (unicast or multicast group)");
  }

  const VrtInputConfig& v = input.vrt;
  require_finite("input.vrt.scale", v.scale);
  if (!(v.scale > 0.0)) fail("input.vrt.scale", num(v.scale) + " must be > 0");
  // 1970 .. 2100: CPI times (epoch + 126 years at most) stay inside int64 nanoseconds.
  if (v.epoch == VrtEpoch::Time && (v.epoch_ns < 0 || v.epoch_ns > 4102444800LL * 1000000000LL))
    fail("input.vrt.epoch", "a time from 1970 to 2100 (UTC), got " +
                                num(static_cast<double>(v.epoch_ns) * 1e-9) + " s after 1970");
  if (v.gps_leap_seconds < 0 || v.gps_leap_seconds > 100)
    fail("input.vrt.gps_leap_seconds",
         num(static_cast<double>(v.gps_leap_seconds)) + " is not in [0, 100]");
  require_count("input.vrt.receive_buffer_bytes", v.receive_buffer_bytes, std::size_t{1} << 16,
                std::size_t{1} << 31);
  if (!v.stream_ids.empty()) {
    if (v.stream_ids.size() != r.channels)
      fail("input.vrt.stream_ids", num(v.stream_ids.size()) + " stream IDs for " + num(r.channels) +
                                       " channels; give one per channel");
    for (std::size_t i = 0; i < v.stream_ids.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (v.stream_ids[i] == v.stream_ids[j])
          fail("input.vrt.stream_ids", "stream ID " + num(std::size_t{v.stream_ids[i]}) +
                                           " names channels " + num(j) + " and " + num(i));
  }
}

ModeGeometry derive_geometry(const Mode& mode) {
  const RadarConfig& r = mode.radar;
  const ProcessingConfig& p = mode.processing;
  ModeGeometry g{};
  g.wavelength_m = r.wavelength_m();
  g.prf_hz = r.prf_hz();
  g.waveform_samples = round_samples(r.waveform.duration_s(), r.sample_rate_hz);
  g.first_eclipsed_bin = r.range_gates - g.waveform_samples + 1;
  g.range_bin_m = kSpeedOfLight_mps / (2.0 * r.sample_rate_hz);
  g.range_resolution_m = kSpeedOfLight_mps / (2.0 * r.waveform.resolution_bandwidth_hz());
  g.first_range_m = range_of_bin_m(0.0, r.window_start_s, r.sample_rate_hz);
  g.last_range_m =
      range_of_bin_m(static_cast<double>(r.range_gates - 1), r.window_start_s, r.sample_rate_hz);
  g.last_full_gain_range_m = range_of_bin_m(static_cast<double>(r.range_gates - g.waveform_samples),
                                            r.window_start_s, r.sample_rate_hz);
  g.transmit_eclipse_range_m = 0.5 * kSpeedOfLight_mps * r.waveform.duration_s();
  g.unambiguous_range_m = 0.5 * kSpeedOfLight_mps * r.pri_s;
  g.pulses_after_mti = p.pulses - (p.mti == MtiMode::TwoPulse     ? 1
                                   : p.mti == MtiMode::ThreePulse ? 2
                                                                  : 0);
  g.velocity_span_mps = g.wavelength_m * g.prf_hz / 2.0;
  g.velocity_bin_mps = g.velocity_span_mps / static_cast<double>(p.doppler_fft_size);
  g.doppler_bin_hz = g.prf_hz / static_cast<double>(p.doppler_fft_size);
  g.cpi_duration_s = static_cast<double>(p.pulses) * r.pri_s;
  g.input_samples_per_s = static_cast<double>(r.channels * r.range_gates) / r.pri_s;
  g.maps = p.channel_combine == ChannelCombine::Noncoherent ? 1 : r.channels;
  g.cfar_looks = p.channel_combine == ChannelCombine::Noncoherent ? r.channels : 1;
  g.cells_per_cpi = g.maps * p.doppler_fft_size * r.range_gates;
  return g;
}

ClutterMapGeometry clutter_map_geometry(const Mode& mode) {
  const ClutterMapConfig& cm = mode.processing.clutter_map;
  ClutterMapGeometry c;
  if (!cm.present) return c;
  const ModeGeometry g = derive_geometry(mode);
  const AntennaConfig& a = mode.antenna;
  const bool rotating = a.present && a.scan == ScanType::Rotating;
  const std::size_t m = mode.processing.doppler_fft_size;
  std::size_t w = cm.doppler_bins;
  if (cm.velocity_mps > 0.0)
    w = static_cast<std::size_t>(
        std::min(std::floor(cm.velocity_mps / g.velocity_bin_mps), static_cast<double>(m)));
  w = std::min(w, (m - 1) / 2);
  c.present = true;
  const std::size_t zero = static_cast<std::size_t>(doppler_zero_bin(static_cast<long>(m)));
  c.first_row = zero - w;
  c.rows = 2 * w + 1;
  c.maps = g.maps;
  c.gates = mode.radar.range_gates;
  c.looks = g.cfar_looks;
  c.azimuth_cells =
      !rotating ? 1
      : cm.azimuth_cells
          ? cm.azimuth_cells
          : std::max<std::size_t>(
                1, static_cast<std::size_t>(std::lround(360.0 / std::max(a.beamwidth_deg, 1e-6))));
  c.azimuth_cells = std::min<std::size_t>(c.azimuth_cells, 4096);
  // A cell is updated by every CPI whose beam lies in its azimuth cell: CPIs per turn over the
  // cells per turn, each turn.
  const double per_scan =
      rotating ? a.rotation_period_s / g.cpi_duration_s / static_cast<double>(c.azimuth_cells) : 1;
  c.updates_per_second = 1.0 / (g.cpi_duration_s * static_cast<double>(c.azimuth_cells));
  const double unit = cm.in_scans ? per_scan : 1.0;
  c.time_constant_updates = std::max(1.0, cm.time_constant * unit);
  const double warmup = cm.warmup > 0.0 ? cm.warmup * unit : c.time_constant_updates;
  c.warmup_updates = static_cast<std::size_t>(std::max(1.0, std::ceil(warmup - 1e-9)));
  c.gap_updates = static_cast<std::size_t>(std::ceil(c.time_constant_updates - 1e-9));
  c.hold_updates =
      static_cast<std::size_t>(std::min(std::llround(cm.hold_s * c.updates_per_second), 1ll << 31));
  c.factor_db = cm.factor_db;
  c.shape = cm.shape;
  c.pfa = cm.factor_db > 0.0 ? 0.0 : cm.pfa > 0.0 ? cm.pfa : mode.processing.cfar.pfa;
  return c;
}

const char* to_string(WaveformType v) {
  switch (v) {
    case WaveformType::Lfm:
      return "lfm";
    case WaveformType::Barker:
      return "barker";
    case WaveformType::Rect:
      return "rect";
  }
  return "?";
}
const char* to_string(WindowType v) {
  switch (v) {
    case WindowType::Rect:
      return "rect";
    case WindowType::Hann:
      return "hann";
    case WindowType::Hamming:
      return "hamming";
    case WindowType::Blackman:
      return "blackman";
    case WindowType::Taylor:
      return "taylor";
    case WindowType::Chebyshev:
      return "chebyshev";
  }
  return "?";
}
const char* to_string(MtiMode v) {
  switch (v) {
    case MtiMode::None:
      return "none";
    case MtiMode::TwoPulse:
      return "two_pulse";
    case MtiMode::ThreePulse:
      return "three_pulse";
  }
  return "?";
}
const char* to_string(ClutterMapShape v) {
  return v == ClutterMapShape::Noise ? "noise" : "measured";
}
const char* to_string(ChannelCombine v) {
  return v == ChannelCombine::Noncoherent ? "noncoherent" : "per_channel";
}
const char* to_string(CfarType v) {
  switch (v) {
    case CfarType::Ca:
      return "ca";
    case CfarType::Go:
      return "go";
    case CfarType::So:
      return "so";
    case CfarType::Os:
      return "os";
  }
  return "?";
}
const char* to_string(FftPlanning v) {
  switch (v) {
    case FftPlanning::Estimate:
      return "estimate";
    case FftPlanning::Measure:
      return "measure";
    case FftPlanning::Patient:
      return "patient";
  }
  return "?";
}
const char* to_string(CfarThreshold v) {
  switch (v) {
    case CfarThreshold::Calibrated:
      return "calibrated";
    case CfarThreshold::Textbook:
      return "textbook";
  }
  return "?";
}
const char* to_string(Backend v) {
  switch (v) {
    case Backend::Auto:
      return "auto";
    case Backend::Cpu:
      return "cpu";
    case Backend::Cuda:
      return "cuda";
  }
  return "?";
}

const char* to_string(ScanType v) {
  return v == ScanType::Fixed ? "fixed" : "rotating";
}

const char* to_string(Stage v) {
  switch (v) {
    case Stage::PulseCompression:
      return "pulse_compression";
    case Stage::Doppler:
      return "doppler";
    case Stage::Detection:
      return "cfar";
  }
  return "?";
}

}  // namespace radarpipe
