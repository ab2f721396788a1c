// File-mode processing: a SigMF recording in, one detection report per CPI out (JSON Lines,
// docs/detections.md). The mode comes from --mode or from the recording's radar extension; a
// given mode that contradicts the recording is an error naming both values.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/detection.hpp"
#include "core/mode.hpp"
#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"

namespace radarpipe {

/// A mode and a recording that disagree, or a recording that cannot say its mode.
class ModeMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ResolvedMode {
  Mode mode;
  std::string origin;  ///< "configs/demo.yaml" or "rec.sigmf-meta (radar extension)"
  std::string note;    ///< what was assumed, if anything
};

/// The mode to process `rec` with. mode_path given: that file, checked against everything the
/// recording says (core:sample_rate, core:num_channels, the radar: keys). Otherwise the
/// recording's radar extension plus its radar:processing (or the default processing).
ResolvedMode mode_for_recording(const io::SigmfReader& rec,
                                const std::optional<std::string>& mode_path);
/// A loaded mode (named `origin`) checked against the recording.
ResolvedMode mode_for_recording(const io::SigmfReader& rec, const Mode& mode,
                                const std::string& origin);

struct ProcessOptions {
  std::string input;
  std::optional<std::string> mode_path;
  std::optional<Backend> backend;  ///< overrides the mode's backend
  std::string output = "-";        ///< JSON Lines file, "-" = stdout, "" = none
  /// A mode already loaded (calibrate's, with its Pfa and without a measured factor): used
  /// instead of mode_path's file, checked against the recording the same way, named by
  /// mode_path in messages.
  std::optional<Mode> mode;
  std::string asterix_output;  ///< ASTERIX data blocks, concatenated (.ast); empty: none
  bool verify_checksum = true;
  bool progress = false;  ///< progress bar on stderr
  std::size_t threads = 0;
  std::string fft_wisdom;  ///< FFT wisdom file overriding the mode's ("none": none)
  /// Solved CFAR factors' directory ("": the per-user cache, "none": none).
  std::string cfar_factors;
  /// Threads converting ahead (the hash has one of its own); 0: 2 beside a chain that computes
  /// on the host, half the cores beside one that computes on a device.
  std::size_t reader_threads = 0;
  /// The clutter map's file ("": the mode's processing.clutter_map.file, "none": none): loaded
  /// before the first CPI when it exists, saved after the last.
  std::string clutter_map;
};

struct ProcessSummary {
  std::string mode_origin;
  std::string backend;  ///< "cpu (reason)"
  std::uint64_t cpis = 0;
  std::uint64_t detections = 0;
  std::uint64_t samples = 0;    ///< complex samples processed, all channels
  std::uint64_t cells = 0;      ///< cells the CFAR tested, all CPIs
  std::uint64_t crossings = 0;  ///< of them above the threshold (the false-alarm monitor's count)
  double design_pfa = 0;        ///< processing.cfar.pfa
  double seconds = 0;           ///< wall time, opening the recording and planning included
  double loop_seconds = 0;      ///< wall time of the CPI loop: reading, processing, writing
  double setup_seconds = 0;     ///< from the call to the CPI loop: opening, mode, planning, buffers
  double first_report_seconds = 0;      ///< from the call to the first report written
  std::uint64_t asterix_datagrams = 0;  ///< data blocks written to asterix_output
  std::uint64_t asterix_plots = 0;
  std::uint64_t asterix_plots_dropped = 0;  ///< detections no CAT048 record could carry
  std::uint64_t leftover_samples = 0;
  std::uint64_t leftover_bytes = 0;
  bool checksum_verified = false;
  std::string clutter_map_file;               ///< where the map was kept ("": not kept)
  bool clutter_map_loaded = false;            ///< the run started from the saved map
  std::uint64_t clutter_map_loaded_cpis = 0;  ///< CPIs the loaded map had learned from
  bool clutter_map_saved = false;
  std::uint64_t map_cells = 0, map_tested = 0, map_crossings = 0;  ///< the map's rows, all CPIs
  /// Throughput of the CPI loop (setup excluded).
  double samples_per_s() const {
    return loop_seconds > 0 ? static_cast<double>(samples) / loop_seconds : 0;
  }
};

class SignalChain;

/// A CPI tuned to `tuned_hz` (a capture's or an IQ frame's centre frequency; 0 = not given) in
/// a mode centred on `mode_hz` (frequency agility): Doppler scales to velocity by the tuned
/// wavelength, so the range rates are recomputed. Nothing changes when the two agree.
void retune_range_rates(DetectionReport& report, double tuned_hz, double mode_hz);

/// Called for every report, in CPI order, before it is written, with the capture's slot and
/// the chain (whose intermediate results, e.g. power(), belong to that CPI until the next).
using ReportObserver =
    std::function<void(const DetectionReport&, const io::CpiSlot&, const SignalChain&)>;

/// Processes a whole recording. Throws io::SigmfError, ConfigError or ModeMismatch before the
/// first CPI; std::runtime_error if the output cannot be written.
ProcessSummary process_recording(const ProcessOptions& options, std::ostream& log,
                                 const ReportObserver& observer = {});

}  // namespace radarpipe
