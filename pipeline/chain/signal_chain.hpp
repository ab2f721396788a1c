// The one interface the runtime drives every chain through (ARCHITECTURE.md "One chain
// interface"): `radarpipe process`, `radarpipe run`'s segments, the demo and the benchmarks hold
// a SignalChain from make_chain (pipeline/chain/backend.hpp) and never ask which backend it is.
//
// The chain is pipelined. submit() hands it one CPI; collect() returns the oldest CPI submitted
// and not yet collected, with its report (or its output buffer) and its stage times. Up to
// depth() CPIs may be in flight at once: the CUDA chain keeps one per stream slot (CPI n + 1's
// upload and kernels overlap CPI n's), the CPU chain computes each CPI inside submit() on all
// its workers and so has depth 1. A producer may write the next CPI straight into the buffer
// the chain reads from (next_input(): pinned memory on the GPU) instead of handing a pointer.
//
//   while (source has a CPI) {
//     if (chain.in_flight() == chain.depth()) consume(chain.collect());
//     fill(chain.next_input());            // or job.in = caller's buffer
//     chain.submit(job);
//   }
//   while (chain.in_flight() > 0) consume(chain.collect());
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/clutter_map_state.hpp"
#include "core/cpi.hpp"
#include "core/detection.hpp"
#include "core/mode.hpp"

namespace radarpipe {

const char* to_string(SampleFormat f);  ///< "cf32", "ci16"

/// Options of make_chain for either backend.
struct ChainOptions {
  std::size_t threads = 0;                ///< CPU workers including the caller; 0 = every core
  std::size_t doppler_tile_gates = 32;    ///< CPU: range gates per Doppler tile
  Stage first = Stage::PulseCompression;  ///< the stages this chain plans for: first..last
  Stage last = Stage::Detection;
  /// CPU: the FFT wisdom file, overriding the mode's processing.fft_wisdom ("none": none);
  /// make_chain loads it before planning and saves what planning measured
  /// (pipeline/chain/fft_wisdom.hpp).
  std::string fft_wisdom;
  /// The directory of solved CFAR factor tables (pipeline/chain/cfar_factor_cache.hpp): the
  /// chain's constructor loads the table from it or solves and keeps it ("": none). make_chain
  /// resolves "" to $XDG_CACHE_HOME/radarpipe/cfar-factors; "none": none.
  std::string cfar_factors;
  std::ostream* log = nullptr;  ///< where make_chain says so (planning, wisdom); null: stderr
};

/// One CPI handed to SignalChain::submit.
struct ChainJob {
  std::uint64_t cpi = 0;
  std::int64_t timestamp_ns = 0;
  /// The first stage's input: the IQ cube x[c][p][n] (pulse compression; in `format`), the
  /// compressed cube (Doppler, cf32) or the maps [map][d][m] (detection, float). nullptr: the
  /// buffer next_input() handed out, filled by the producer. The chain is done reading a
  /// caller's buffer when submit() returns.
  const void* in = nullptr;
  SampleFormat format = SampleFormat::Cf32;
  float scale = 1.0f;  ///< multiplies every ci16 component (cf32 input is taken as it is)
  /// The last stage's output when that is not detection (the compressed cube, or the maps),
  /// caller-owned; written by the time collect() returns this CPI.
  void* out = nullptr;
};

/// Wall or device time of each stage for one CPI, seconds; 0 for stages the chain does not run.
struct StageSeconds {
  double s[kStageCount] = {0.0, 0.0, 0.0};
  double& operator[](Stage st) { return s[static_cast<int>(st)]; }
  double operator[](Stage st) const { return s[static_cast<int>(st)]; }
};

/// What collect() returns for one CPI.
struct ChainResult {
  std::uint64_t cpi = 0;
  std::int64_t timestamp_ns = 0;
  /// The report when the last stage is detection, else nullptr; valid until the next collect().
  const DetectionReport* report = nullptr;
  void* out = nullptr;  ///< the job's `out`, written (chains ending before detection)
  /// Per stage: the CPU chain's wall times; the CUDA chain's device times from events around
  /// each stage, detection adding the host's download and clustering after the stream's sync.
  StageSeconds seconds;
};

class SignalChain {
 public:
  virtual ~SignalChain() = default;

  virtual Backend backend() const = 0;
  virtual const Mode& mode() const = 0;
  virtual Stage first() const = 0;
  virtual Stage last() const = 0;

  /// CPIs that may be in flight at once (>= 1).
  virtual std::size_t depth() const = 0;
  /// CPIs submitted and not yet collected.
  virtual std::size_t in_flight() const = 0;
  /// True when submit() takes a first-stage input in `format`.
  virtual bool accepts(SampleFormat format) const = 0;
  /// Bytes of one CPI's first-stage input in `format`.
  std::size_t input_bytes(SampleFormat format) const;

  /// The buffer the next submit() with a null `in` reads: input_bytes(Cf32) bytes, 64-byte
  /// aligned, where the producer writes the next CPI in place. std::logic_error while
  /// in_flight() == depth() (every buffer is still being read). The CPU chain allocates it on
  /// the first call; the CUDA chain hands out its slots' pinned buffers.
  virtual void* next_input() = 0;
  /// Starts one CPI. std::logic_error while in_flight() == depth(), for an output missing or
  /// given where the last stage needs it or not, or a format the chain does not accept. No
  /// allocation.
  virtual void submit(const ChainJob& job) = 0;
  /// submit() of a whole CPI (cf32, the mode's shape: std::invalid_argument otherwise).
  void submit(const Cpi& cpi);
  /// The oldest CPI in flight, waited for. std::logic_error when none is.
  virtual ChainResult collect() = 0;

  /// A copy of the power maps of the last collected CPI (pictures; not on the hot path).
  virtual void copy_power(PowerMap& out) const = 0;

  // --- The clutter map (processing.clutter_map: state across CPIs) ----------------------------
  /// The map's state after the last collected CPI (the CUDA chain downloads it; not on the hot
  /// path); nullptr when the chain has no map (no clutter_map section, or no detection stage).
  /// Nothing may be in flight (std::logic_error).
  virtual const ClutterMapState* clutter_map() const = 0;
  /// Replaces the map's state (a saved map reloaded): std::invalid_argument when its shape or
  /// values do not fit this map; std::logic_error without a map or with a CPI in flight.
  virtual void restore_clutter_map(const ClutterMapState& state) = 0;

  // --- One CPI at a time (nothing may be in flight) -------------------------------------------
  /// The whole chain on one CPI of the mode's shape (std::invalid_argument otherwise); the
  /// report stays valid until the next call.
  const DetectionReport& process(const Cpi& cpi);  ///< submit(cpi), then collect()
  /// The stages first..last on host buffers (`in`, `out` as ChainJob), stage_seconds[s] each
  /// stage's time. Returns the report when the last stage is detection, else nullptr.
  const DetectionReport* run_stages(const void* in, void* out, std::uint64_t cpi,
                                    std::int64_t timestamp_ns, double* stage_seconds);

 protected:
  /// Sizes for input_bytes(); set by each chain's constructor.
  std::size_t cube_samples_ = 0, map_cells_ = 0;
  /// std::logic_error unless `job` suits a chain for first..last (the checks submit() names).
  void check_job(const ChainJob& job, const char* who) const;
  /// std::logic_error naming `who` unless fewer than depth() CPIs are in flight.
  void check_room(const char* who) const;
};

}  // namespace radarpipe
