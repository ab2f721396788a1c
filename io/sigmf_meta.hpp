// SigMF metadata (`.sigmf-meta`, SigMF spec v1.x): the global object, captures and annotations,
// plus radarpipe's `radar` extension namespace, which records the radar mode's `radar:` keys so
// that a recording describes itself.
//
// Extension keys (global object; declared as {"name": "radar", "version": "1.0.0"} in
// core:extensions):
//   radar:center_frequency_hz  carrier fc (Hz)
//   radar:pri_s                pulse repetition interval (s)
//   radar:range_gates          complex samples recorded per pulse per channel N
//   radar:window_start_s       delay from pulse start to the first recorded sample t0 (s)
//   radar:waveform             {type: lfm|barker|rect, pulse_width_s, bandwidth_hz,
//                               direction: up|down, length, chip_width_s}
//   radar:sample_scale         float value of one integer LSB (integer datatypes; default 1)
// The sample rate and the channel count are core:sample_rate and core:num_channels.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/mode.hpp"
#include "io/sigmf_datatype.hpp"

namespace radarpipe::io {

/// A recording that cannot be read as asked. what() names the file and the field.
class SigmfError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kSigmfVersion = "1.2.0";
inline constexpr const char* kRadarExtensionVersion = "1.0.0";

struct SigmfCapture {
  std::uint64_t sample_start = 0;           ///< core:sample_start (samples, not bytes)
  std::optional<double> frequency_hz;       ///< core:frequency
  std::optional<std::string> datetime;      ///< core:datetime as written
  std::optional<std::int64_t> datetime_ns;  ///< the same, parsed (UTC ns)
  /// radar:cpi: the stream's number of the capture's first CPI (a live recording's CPIs keep
  /// the numbers `run` gave them across gaps); absent: numbered on from the capture before.
  std::optional<std::uint64_t> cpi;
  nlohmann::json fields = nlohmann::json::object();  ///< every key, including the above
};

struct SigmfAnnotation {
  std::uint64_t sample_start = 0;                    ///< core:sample_start
  std::optional<std::uint64_t> sample_count;         ///< core:sample_count
  nlohmann::json fields = nlohmann::json::object();  ///< every key, carried through unchanged
};

/// The radar extension's content: RadarConfig minus what core:* carries.
struct RadarExtension {
  RadarConfig radar;        ///< sample_rate_hz and channels filled from core:*
  double sample_scale = 1;  ///< radar:sample_scale
};

struct SigmfMeta {
  SampleFormat format;                  ///< core:datatype
  double sample_rate_hz = 0;            ///< core:sample_rate (0 when absent)
  std::size_t num_channels = 1;         ///< core:num_channels
  std::string version = kSigmfVersion;  ///< core:version
  std::optional<std::string> sha512;    ///< core:sha512
  std::optional<RadarExtension> radar;  ///< present when the radar extension is declared
  nlohmann::json global = nlohmann::json::object();  ///< every global key, as read or to write
  std::vector<SigmfCapture> captures;
  std::vector<SigmfAnnotation> annotations;

  /// float value of one LSB for integer formats (radar:sample_scale, else 1).
  float sample_scale() const { return radar ? static_cast<float>(radar->sample_scale) : 1.0f; }
};

/// Parses metadata text. `source` (the file name) starts every error message; JSON syntax
/// errors give line and column.
SigmfMeta parse_sigmf_meta(const std::string& text, const std::string& source);

/// The metadata as SigMF JSON: `global` with the typed fields (datatype, sample rate, channels,
/// version, sha512, the radar extension) written over it, then captures and annotations.
nlohmann::json sigmf_meta_to_json(const SigmfMeta& meta);

/// The radar extension's global keys for a radar configuration.
void set_radar_extension(SigmfMeta& meta, const RadarConfig& radar, double sample_scale);

}  // namespace radarpipe::io
