#include "pipeline/commands/rd_map_image.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/radar_math.hpp"

namespace radarpipe {
namespace {

std::string fmt(double v, int decimals) {
  char buf[32];
  if (std::fabs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0.0;  // no "-0"
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// A "nice" tick step (1, 2 or 5 x 10^k) giving about `target` ticks over span.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

}  // namespace

double noise_floor_db(const PowerMap& power, std::size_t index) {
  const std::size_t n = power.doppler_bins * power.gates;
  std::vector<float> cells(power.map(index), power.map(index) + n);
  std::nth_element(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(n / 2), cells.end());
  const double median = std::max(static_cast<double>(cells[n / 2]), 1e-30);
  return 10.0 * std::log10(median / std::log(2.0));
}

io::Image render_range_doppler_map(const PowerMap& power, std::size_t index, const Mode& mode,
                                   const std::vector<Detection>& detections,
                                   const std::vector<io::TargetTruth>& truth,
                                   const MapImageOptions& o) {
  const double noise_db = noise_floor_db(power, index);
  const ModeGeometry g = derive_geometry(mode);
  const int W = o.plot_width, H = o.plot_height;
  const int left = 90, top = 60, right = 150, bottom = 70;
  const io::Rgb bg{255, 255, 255}, ink{30, 30, 30}, grid{90, 90, 90};
  io::Image img(left + W + right, top + H + bottom, bg);

  const std::size_t N = power.gates, M = power.doppler_bins;
  const float* map = power.map(index);
  // Plot coordinates: x from range bin (max over the bins a column covers), y from the
  // velocity, positive (receding) up. Velocity v = -f_D lambda / 2 decreases with the Doppler
  // bin, so the top row is the lowest Doppler bin.
  const double r0 = g.first_range_m, r1 = g.last_range_m;
  const double vspan = g.velocity_span_mps;
  auto x_of_range = [&](double r) { return left + (r - r0) / (r1 - r0) * (W - 1); };
  auto y_of_velocity = [&](double v) { return top + (0.5 - v / vspan) * (H - 1); };
  for (int px = 0; px < W; ++px) {
    const std::size_t m_lo =
        static_cast<std::size_t>(static_cast<double>(px) * static_cast<double>(N) / W);
    const std::size_t m_hi = std::max(
        m_lo + 1,
        static_cast<std::size_t>(static_cast<double>(px + 1) * static_cast<double>(N) / W));
    for (int py = 0; py < H; ++py) {
      // Doppler bin d has velocity -(d - M/2) PRF/M lambda/2: top row (v = +span/2) is d = 0.
      const std::size_t d = std::min(
          M - 1, static_cast<std::size_t>(static_cast<double>(py) * static_cast<double>(M) / H));
      float peak = 0;
      for (std::size_t m = m_lo; m < m_hi && m < N; ++m) peak = std::max(peak, map[d * N + m]);
      const double db = 10.0 * std::log10(std::max(peak, 1e-30f)) - noise_db;
      img.set(left + px, top + py, io::viridis((db - o.floor_db) / (o.ceiling_db - o.floor_db)));
    }
  }
  // Eclipsed region: hatched overlay so nobody mistakes its lower gain for an empty sky.
  const double eclipse_r = range_of_bin_m(static_cast<double>(g.first_eclipsed_bin),
                                          mode.radar.window_start_s, mode.radar.sample_rate_hz);
  const int xe = static_cast<int>(x_of_range(eclipse_r));
  for (int py = 0; py < H; py += 6) img.line(xe, top + py, xe, top + py + 2, {230, 230, 230});
  img.text(xe + 6, top + 6, "eclipsed", {230, 230, 230}, 2);

  // Axes, ticks, labels.
  img.line(left - 1, top - 1, left + W, top - 1, ink);
  img.line(left - 1, top + H, left + W, top + H, ink);
  img.line(left - 1, top - 1, left - 1, top + H, ink);
  img.line(left + W, top - 1, left + W, top + H, ink);
  const double rstep = nice_step((r1 - r0) / 1000.0, 8) * 1000.0;
  for (double r = std::ceil(r0 / rstep) * rstep; r <= r1; r += rstep) {
    const int x = static_cast<int>(x_of_range(r));
    img.line(x, top + H, x, top + H + 5, ink);
    const std::string s = fmt(r / 1000.0, rstep < 1000 ? 1 : 0);
    img.text(x - io::Image::text_width(s, 2) / 2, top + H + 10, s, ink, 2);
  }
  const std::string xl = "range (km)";
  img.text(left + W / 2 - io::Image::text_width(xl, 2) / 2, top + H + 38, xl, ink, 2);
  const double vstep = nice_step(vspan, 8);
  for (double v = std::ceil(-vspan / 2 / vstep) * vstep; v <= vspan / 2; v += vstep) {
    const int y = static_cast<int>(y_of_velocity(v));
    img.line(left - 6, y, left - 1, y, ink);
    const std::string s = fmt(v, 0);
    img.text(left - 10 - io::Image::text_width(s, 2), y - 7, s, ink, 2);
    if (std::fabs(v) < 1e-9)
      for (int x = left; x < left + W; x += 8) img.line(x, y, x + 3, y, grid);
  }
  img.text_up(14, top + H / 2 + io::Image::text_width("range rate (m/s)", 2) / 2,
              "range rate (m/s)", ink, 2);
  img.text(left, 18, o.title, ink, 2);

  // Colour bar.
  const int cb_x = left + W + 30, cb_w = 22;
  for (int py = 0; py < H; ++py) {
    const double t = 1.0 - static_cast<double>(py) / (H - 1);
    img.fill_rect(cb_x, top + py, cb_x + cb_w, top + py, io::viridis(t));
  }
  img.line(cb_x - 1, top - 1, cb_x + cb_w + 1, top - 1, ink);
  img.line(cb_x - 1, top + H, cb_x + cb_w + 1, top + H, ink);
  const double cstep = nice_step(o.ceiling_db - o.floor_db, 6);
  for (double db = std::ceil(o.floor_db / cstep) * cstep; db <= o.ceiling_db + 1e-9; db += cstep) {
    const int y =
        top + static_cast<int>((1.0 - (db - o.floor_db) / (o.ceiling_db - o.floor_db)) * (H - 1));
    img.line(cb_x + cb_w + 1, y, cb_x + cb_w + 5, y, ink);
    img.text(cb_x + cb_w + 9, y - 7, fmt(db, 0), ink, 2);
  }
  img.text(cb_x - 8, top - 22, "dB/noise", ink, 2);

  // Truth circled (orange); detections boxed (white with a dark outline), below.
  const io::Rgb truth_c{255, 120, 0}, det_c{255, 255, 255}, det_edge{0, 0, 0};
  for (const io::TargetTruth& t : truth) {
    if (!t.in_window) continue;
    const int x = static_cast<int>(x_of_range(t.range_m));
    const int y = static_cast<int>(y_of_velocity(t.apparent_range_rate_mps));
    img.circle(x, y, 13, truth_c, 3);
    img.text(x + 16, y - 20, t.name, {255, 255, 255}, 2);
  }
  // Detections: a hollow square around the peak, so the echo itself stays visible.
  auto box = [&](int x, int y) {
    const int h = 6;
    for (int t = 0; t < 2; ++t) {
      const io::Rgb c = t == 0 ? det_edge : det_c;
      const int w = t == 0 ? 4 : 2;
      img.line(x - h, y - h, x + h, y - h, c, w);
      img.line(x - h, y + h, x + h, y + h, c, w);
      img.line(x - h, y - h, x - h, y + h, c, w);
      img.line(x + h, y - h, x + h, y + h, c, w);
    }
  };
  for (const Detection& d : detections)
    box(static_cast<int>(x_of_range(d.range_m)), static_cast<int>(y_of_velocity(d.range_rate_mps)));
  // Legend.
  const int ly = top + H + 38, lx = left + W - 330;
  img.circle(lx, ly + 7, 8, truth_c, 3);
  img.text(lx + 16, ly, "truth", ink, 2);
  box(lx + 116, ly + 7);
  img.text(lx + 130, ly, "detection", ink, 2);
  return img;
}

}  // namespace radarpipe
