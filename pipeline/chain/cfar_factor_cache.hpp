// Solved CFAR factor tables kept between runs (docs/signal-chain.md "Calibrated thresholds"):
// the calibrated thresholds take seconds to solve with MTI (every range-edge and tail window on
// its own Doppler rows), and a chain is built again on every start of `run` or `process`. One
// file per table under $XDG_CACHE_HOME/radarpipe/cfar-factors/ (~/.cache when unset), named
// by the SHA-512 of everything that determines the table (cpu::calibration_key: the CFAR, the
// map's size, the stages' coefficients, the solver's version).
//
// A file is outside bytes: it is read only if its size is exactly what its header's geometry
// implies (and that geometry is the map's), its SHA-512 trailer matches its content, it is
// stored under the same key, and every factor is finite and positive; anything else is
// ignored with a warning naming the file, the field, its value and what was expected, counted
// by cause, and the table is solved again and the file rewritten. Writes go to a temporary
// file renamed into place.
//
// Layout (little-endian): "RPCFAR01", the key's SHA-512 (128 hex digits), u64 doppler_bins,
// gates, classes, solves, exact (0/1), f64 effective_cells; f64 range_alpha[gates];
// u32 row_class[gates]; f64 row_factor[classes x doppler_bins]; the SHA-512 (128 hex digits)
// of everything before it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kernels/cpu/cfar_calibration.hpp"

namespace radarpipe {

/// The directory: `override_path` if given ("none": no store, ""), else
/// $XDG_CACHE_HOME/radarpipe/cfar-factors (~/.cache when XDG_CACHE_HOME is unset); "" when
/// no home directory is known.
std::string cfar_factor_cache_path(const std::string& override_path = {});

/// A file that is not a table for this key and map. cause(): "size", "magic", "checksum",
/// "key", "geometry", "classes", "value".
class CfarFactorFileError : public std::runtime_error {
 public:
  CfarFactorFileError(std::string cause, const std::string& what)
      : std::runtime_error(what), cause_(std::move(cause)) {}
  const std::string& cause() const { return cause_; }

 private:
  std::string cause_;
};

/// The SHA-512 of a key, 128 lowercase hex digits.
std::string cfar_key_digest(const std::string& key);

/// A table's file, for the key whose digest is given.
std::string cfar_factor_file(const std::string& key_digest, const cpu::CfarFactorTable& table);

/// Parses and checks a file (`name` in messages) against the key's digest and the map's size.
/// Throws CfarFactorFileError; reads nothing beyond `bytes` and allocates only after the size
/// matched the header's geometry.
cpu::CfarFactorTable parse_cfar_factor_file(std::string_view bytes, const std::string& key_digest,
                                            std::size_t doppler_bins, std::size_t gates,
                                            const std::string& name);

/// The largest file a table for this map can be (its rows: one class per range bin and one for
/// the interior).
std::uint64_t cfar_factor_file_max_bytes(std::size_t doppler_bins, std::size_t gates);

/// The store on disk.
class CfarFactorCache final : public cpu::CfarFactorStore {
 public:
  /// `dir` "" keeps nothing. Warnings go to `log`.
  CfarFactorCache(std::string dir, std::ostream& log);
  bool load(const std::string& key, std::size_t doppler_bins, std::size_t gates,
            cpu::CfarFactorTable& out) override;
  void save(const std::string& key, const cpu::CfarFactorTable& table) override;

  const std::string& dir() const { return dir_; }
  /// Files ignored, by cause (CfarFactorFileError::cause(), "read" for I/O errors).
  const std::map<std::string, std::uint64_t>& rejected() const { return rejected_; }
  std::uint64_t loaded() const { return loaded_; }
  std::uint64_t saved() const { return saved_; }

 private:
  std::string file_for(const std::string& digest) const;

  std::string dir_;
  std::ostream& log_;
  std::map<std::string, std::uint64_t> rejected_;
  std::uint64_t loaded_ = 0, saved_ = 0;
};

}  // namespace radarpipe
