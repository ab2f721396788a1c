// `radarpipe replay --to vrt+udp://... | vrt+tcp://...`: a digitizer stand-in speaking VITA 49.2
// (docs/streaming.md "VRT sender"). Each channel of the recording is one data stream; packets
// follow the DIFI profile by default (IEEE-ISTO 4900-2021: class ID OUI 0x6A621E, POSIX integer
// and picosecond fractional timestamps, a 27-word context packet per stream before each CPI,
// 16-bit link-efficient samples), gated (each pulse's window its own run of packets) or
// continuous (one unbroken stream, zeros between the windows), paced by the PRI or as fast as the
// socket takes them. Timestamps follow the contract the VRT source reads (vrt_assembler.hpp):
// pulse k of the recording is transmitted at its CPI's time plus k PRI.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/mode.hpp"
#include "pipeline/stream/replay.hpp"

namespace radarpipe::stream {

struct VrtReplayOptions {
  PulseTiming timing = PulseTiming::Gated;
  bool timing_given = false;  ///< else the mode's input.vrt.timing
  /// difi (16-bit, DIFI's payload format words), sc8, sc12, sc16 or cf32.
  std::string format = "difi";
  std::size_t max_packet_bytes = 8972;  ///< a 9000-byte MTU less IPv4 and UDP headers
  bool trailer = false;                 ///< a trailer (valid data, calibrated time) on data packets
  bool class_id = true;                 ///< DIFI's class IDs; false: packets without one
};

class VrtReplayer {
 public:
  /// Opens the recording, resolves the mode, binds (tcp) or connects (udp). Throws as Replayer.
  VrtReplayer(ReplayOptions options, VrtReplayOptions vrt);
  ~VrtReplayer();
  const std::string& endpoint() const;
  std::size_t cpis_in_recording() const;
  /// The value of one integer LSB in the samples sent (a mode's input.vrt.scale for them).
  float scale() const;
  /// Streams until done or `stop`; tcp waits for a receiver first and closes at the end (the
  /// stream's end for the receiver).
  ReplaySummary run(const std::atomic<bool>& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace radarpipe::stream
