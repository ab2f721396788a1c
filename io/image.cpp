#include "io/image.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

namespace radarpipe::io {
namespace {

using Glyph = std::array<const char*, 7>;

const std::map<char, Glyph>& font() {
  static const std::map<char, Glyph> glyphs = {
#include "io/font5x7.inc"
  };
  return glyphs;
}

const Glyph* glyph(char ch) {
  const auto& f = font();
  auto it = f.find(ch);
  if (it == f.end()) it = f.find('?' == ch ? ' ' : '#');
  return &it->second;
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void chunk(std::vector<std::uint8_t>& out, const char* type,
           const std::vector<std::uint8_t>& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  const uLong crc = crc32(0L, out.data() + start, static_cast<uInt>(out.size() - start));
  put_u32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace

Image::Image(int width, int height, Rgb bg)
    : width_(width), height_(height), rgb_(static_cast<std::size_t>(width) * height * 3) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("image size must be positive");
  for (std::size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = bg.r;
    rgb_[i + 1] = bg.g;
    rgb_[i + 2] = bg.b;
  }
}

void Image::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  rgb_[i] = c.r;
  rgb_[i + 1] = c.g;
  rgb_[i + 2] = c.b;
}

Rgb Image::get(int x, int y) const {
  const std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void Image::fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  for (int y = std::max(0, y0); y <= std::min(height_ - 1, y1); ++y)
    for (int x = std::max(0, x0); x <= std::min(width_ - 1, x1); ++x) set(x, y, c);
}

void Image::line(int x0, int y0, int x1, int y1, Rgb c, int thickness) {
  // Bresenham, each point stamped as a thickness x thickness square.
  const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
  const int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  for (;;) {
    fill_rect(x0 + lo, y0 + lo, x0 + hi, y0 + hi, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

void Image::circle(int cx, int cy, int radius, Rgb c, int thickness) {
  const double r_out = radius + thickness / 2.0, r_in = radius - thickness / 2.0;
  for (int y = cy - radius - thickness; y <= cy + radius + thickness; ++y)
    for (int x = cx - radius - thickness; x <= cx + radius + thickness; ++x) {
      const double d = std::hypot(x - cx, y - cy);
      if (d >= r_in && d <= r_out) set(x, y, c);
    }
}

int Image::text_width(const std::string& s, int scale) {
  return s.empty() ? 0 : static_cast<int>(s.size()) * 6 * scale - scale;
}

void Image::text(int x, int y, const std::string& s, Rgb c, int scale) {
  for (char ch : s) {
    const Glyph& g = *glyph(ch);
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col)
        if (g[row][col] == '#')
          fill_rect(x + col * scale, y + row * scale, x + col * scale + scale - 1,
                    y + row * scale + scale - 1, c);
    x += 6 * scale;
  }
}

void Image::text_up(int x, int y, const std::string& s, Rgb c, int scale) {
  // Font column -> image row going up, font row -> image column going right.
  for (char ch : s) {
    const Glyph& g = *glyph(ch);
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col)
        if (g[row][col] == '#')
          fill_rect(x + row * scale, y - col * scale - scale + 1, x + row * scale + scale - 1,
                    y - col * scale, c);
    y -= 6 * scale;
  }
}

Rgb viridis(double t) {
  static const double anchors[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                       {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                       {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  if (!(t > 0)) t = 0;
  if (t > 1) t = 1;
  const double pos = t * 8.0;
  const int i = std::min(7, static_cast<int>(pos));
  const double f = pos - i;
  auto mix = [&](int ch) {
    return static_cast<std::uint8_t>(
        std::lround(anchors[i][ch] + f * (anchors[i + 1][ch] - anchors[i][ch])));
  };
  return {mix(0), mix(1), mix(2)};
}

std::vector<std::uint8_t> encode_png(const Image& image) {
  const auto w = static_cast<std::size_t>(image.width());
  const auto h = static_cast<std::size_t>(image.height());
  std::vector<std::uint8_t> raw;
  raw.reserve(h * (w * 3 + 1));
  for (std::size_t y = 0; y < h; ++y) {
    raw.push_back(0);  // filter type: none
    const std::uint8_t* row = image.pixels().data() + y * w * 3;
    raw.insert(raw.end(), row, row + w * 3);
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> z(zlen);
  if (compress2(z.data(), &zlen, raw.data(), static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw std::runtime_error("PNG: zlib compression failed");
  z.resize(zlen);
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<std::uint8_t> ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(w));
  put_u32(ihdr, static_cast<std::uint32_t>(h));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8 bits, RGB, deflate, adaptive filter, no interlace
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", {});
  return out;
}

void write_png(const std::string& path, const Image& image) {
  const std::vector<std::uint8_t> png = encode_png(image);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  if (!out) throw std::runtime_error(path + ": cannot write the PNG file");
}

}  // namespace radarpipe::io
