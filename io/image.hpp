// A small RGB raster for radarpipe's pictures (the demo's range-Doppler map): filled
// rectangles, lines, circles, 5x7 bitmap text, a perceptually uniform colour map, and PNG
// output through zlib.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace radarpipe::io {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

class Image {
 public:
  Image(int width, int height, Rgb background);
  int width() const { return width_; }
  int height() const { return height_; }
  void set(int x, int y, Rgb c);  ///< ignores points outside the image
  Rgb get(int x, int y) const;
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);  ///< inclusive corners
  void line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1);
  void circle(int cx, int cy, int radius, Rgb c, int thickness = 1);
  /// Text with its top-left corner at (x, y), each font pixel drawn as scale x scale.
  void text(int x, int y, const std::string& s, Rgb c, int scale = 1);
  /// Text rotated 90 degrees counter-clockwise (reads bottom to top), bottom-left at (x, y).
  void text_up(int x, int y, const std::string& s, Rgb c, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);
  static int text_height(int scale = 1) { return 7 * scale; }
  const std::vector<std::uint8_t>& pixels() const { return rgb_; }

 private:
  int width_, height_;
  std::vector<std::uint8_t> rgb_;
};

/// The viridis colour map at t in [0, 1] (clamped).
Rgb viridis(double t);

/// PNG bytes of the image (8-bit RGB, zlib-compressed).
std::vector<std::uint8_t> encode_png(const Image& image);
/// Writes the PNG; throws std::runtime_error naming the path on failure.
void write_png(const std::string& path, const Image& image);

}  // namespace radarpipe::io
