// FFT plans once per machine (docs/performance.md "FFT plans once per machine"): FFTW wisdom,
// what FFTW_MEASURE / PATIENT planning learned, kept in a file and loaded before the CPU chain
// plans, so that only the first start on a machine measures (about 0.65 s on bench-matx).
//
// The file is ours: a first line naming the machine it was measured on (CPU model, SIMD level,
// FFTW version), then FFTW's wisdom text. Wisdom from another machine or another FFTW, a file
// without that line, or text FFTW rejects is ignored with a warning, never trusted: plans from
// foreign wisdom are correct but may be slow. The system's wisdom (/etc/fftw/wisdomf) is
// imported first. Writes go to a temporary file renamed into place, so a reader never sees half
// a file.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

#include "core/mode.hpp"

namespace radarpipe {

/// The wisdom file for a mode: `override` (a --fft-wisdom option) if given, else the mode's
/// processing.fft_wisdom, else $XDG_CACHE_HOME/radarpipe/fftw-wisdom (~/.cache when
/// XDG_CACHE_HOME is unset). "" when wisdom is off ("none") or no home directory is known.
std::string fft_wisdom_path(const Mode& mode, const std::string& override_path = {});

/// This machine's line: "radarpipe fftw wisdom; cpu <model>; simd <avx2|sse2>; fftw <version>".
std::string fft_wisdom_machine();

/// Loads wisdom before a CPU chain plans, and saves what the planning added.
class FftWisdom {
 public:
  /// Imports the system's wisdom and the file at `path` ("" = none), warning on `log` about a
  /// file that is corrupt or from another machine. Until save() or destruction, a transform
  /// the wisdom does not cover makes `log` say, once, that FFTs are being planned for this
  /// machine.
  FftWisdom(std::string path, std::ostream& log);
  ~FftWisdom();
  FftWisdom(const FftWisdom&) = delete;
  FftWisdom& operator=(const FftWisdom&) = delete;

  /// True when the file was read and accepted.
  bool loaded() const { return loaded_; }
  /// Writes the file if planning measured anything since construction (or `force`); returns
  /// true when it was written. A failure to write is a warning on `log`, not an error.
  bool save(bool force = false);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ostream& log_;
  bool loaded_ = false;
  std::size_t measured_at_start_ = 0;
};

}  // namespace radarpipe
