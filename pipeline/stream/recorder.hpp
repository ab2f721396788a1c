// `radarpipe record` (docs/streaming.md "Recording a live stream"): any live IQ input `run`
// takes (IQ frames over ZeroMQ, VITA 49 packets over UDP or TCP) assembled into CPIs by the same
// ingest, and written to SigMF as they arrive: memory bounded by the ingest's CPI buffers, the
// radar extension and radar:processing written so `process` reads the recording back, a capture
// wherever the stream's CPIs stop following on (a gap: its first CPI's number in radar:cpi, its
// time in core:datetime) or the centre frequency changes (a retune), an annotation for every gap
// naming the causes of the CPIs missing. SIGINT/SIGTERM stop it with a valid, checksummed file.
// `process` on the recording gives the reports `run` gave live (the same CPIs, numbers, times).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "core/mode.hpp"

namespace radarpipe::stream {

struct RecordOptions {
  Mode mode;
  std::string from;            ///< as `run --from`; empty: the mode's input.from
  std::string output;          ///< NAME: NAME.sigmf-meta and NAME.sigmf-data (or NAME.sigmf)
  std::string datatype;        ///< ci16_le or cf32_le; empty: ci16_le for integer VRT, else cf32_le
  double scale = 0;            ///< ci16_le: one LSB; 0: the mode's input.vrt.scale
  bool archive = false;        ///< one NAME.sigmf archive
  std::uint64_t max_cpis = 0;  ///< stop after this many CPIs written (0: until stopped)
  bool exit_at_end = false;    ///< stop when the IQ stream ends
};

struct RecordSummary {
  std::uint64_t cpis = 0;          ///< CPIs written
  std::uint64_t samples = 0;       ///< per channel
  std::uint64_t captures = 0;      ///< captures in the metadata
  std::uint64_t gaps = 0;          ///< annotations for CPIs missing
  std::uint64_t cpis_dropped = 0;  ///< at the ingest, by cause below
  std::map<std::string, std::uint64_t> dropped_by_cause;
  std::uint64_t frames_rejected = 0;  ///< frames or packets
  std::uint64_t clipped = 0;          ///< ci16 components saturated
  std::vector<std::string> files;
  double seconds = 0;
};

class Recorder {
 public:
  /// Validates, creates the output and binds or connects the input. Throws ConfigError,
  /// std::invalid_argument, std::runtime_error or io::SigmfError.
  Recorder(zmq::context_t& ctx, RecordOptions options);
  ~Recorder();
  /// What the input bound ({"iq": "127.0.0.1:PORT"}) and what it reads, for the terminal.
  const std::map<std::string, std::string>& bound() const;
  std::string input() const;
  /// Records until `stop`, the end of the stream (exit_at_end) or max_cpis; closes the files.
  RecordSummary run(const std::atomic<bool>& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace radarpipe::stream
