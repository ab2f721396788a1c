// Where a chain's clutter map is kept across restarts (docs/modes.md "processing.clutter_map"):
// a site that restarts reloads the ground it learned instead of warming up again. The file is
// io/clutter_map_file.hpp's; a file that is missing starts the map afresh, one that is rejected
// (another mode's, torn, altered, impossible values) is ignored with a warning naming the file
// and why, counted by cause, and the map learns afresh. Saves go to a temporary file renamed
// into place, so a crash mid-save leaves the previous map.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <thread>

#include "core/mode.hpp"
#include "pipeline/chain/signal_chain.hpp"

namespace radarpipe {

/// The map file: `override_path` if given ("none": none, ""), else the mode's
/// processing.clutter_map.file; "" without a clutter map.
std::string clutter_map_path(const Mode& mode, const std::string& override_path = {});

/// Everything that gives the map's cells their meaning, as text: the power map's geometry and
/// units (the radar and the linear stages), the map's rows, azimuth cells and time constant.
/// Not the decision's keys (pfa, factor_db, hold, warm-up): changing them keeps the map.
std::string clutter_map_key(const Mode& mode);

class ClutterMapStore {
 public:
  /// `path` "" keeps nothing. Warnings go to `log`.
  ClutterMapStore(std::string path, const Mode& mode, std::ostream& log);
  const std::string& path() const { return path_; }
  /// Loads the file into the chain's map; false when there is none or it was rejected.
  bool load(SignalChain& chain);
  /// Saves the chain's map (nothing in flight); false (with a warning) when it cannot.
  bool save(const SignalChain& chain);
  /// Copies the chain's map (nothing in flight) and writes the copy on a thread of its own, so
  /// that a running chain waits only for the copy; skipped (false) while the previous write is
  /// still going. save() and the destructor wait for it.
  bool save_in_background(const SignalChain& chain);
  ~ClutterMapStore();
  ClutterMapStore(const ClutterMapStore&) = delete;
  ClutterMapStore& operator=(const ClutterMapStore&) = delete;
  /// Files ignored, by cause (io::ClutterMapFileError::cause(), "values", "read").
  const std::map<std::string, std::uint64_t>& rejected() const { return rejected_; }
  std::uint64_t loaded_cpis() const { return loaded_cpis_; }  ///< the loaded map's CPIs
  std::uint64_t saved() const { return saved_.load(); }

 private:
  std::string path_;
  std::string key_;
  std::ostream& log_;
  bool write(const ClutterMapState& s);
  void wait();

  std::map<std::string, std::uint64_t> rejected_;
  std::uint64_t loaded_cpis_ = 0;
  std::atomic<std::uint64_t> saved_{0};
  std::thread writer_;
  std::atomic<bool> writing_{false};
  ClutterMapState copy_;  ///< what the writer writes
};

}  // namespace radarpipe
