// CPIs from IQ frames (docs/streaming.md "Assembly"). Pulse k of a stream belongs to CPI k / P
// at row k mod P; a CPI is emitted when its P pulses have arrived in order, and dropped whole,
// and counted by cause, when anything breaks it: a sequence gap (frames lost, or rejected), a
// pulse-index jump, a change of stream, the end of the stream or no free buffer (the chain is
// behind). One stream is received at a time, and frames that are not its own (another stream
// id, a sequence far off) are rejected without breaking its CPI (see push()).
// After a drop nothing is patched: the pulses up to the next CPI boundary are discarded and the
// next CPI starts clean. No sockets and no threads here; the ingest thread drives it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "core/mode.hpp"
#include "io/iq_frame.hpp"

namespace radarpipe::stream {

enum class CpiDrop {
  SequenceGap,    ///< frames missing before this one (sequence numbers jumped)
  PulseGap,       ///< in-sequence frames whose pulse indices jump
  RejectedFrame,  ///< a frame of the CPI was malformed or of the wrong shape
  StreamChange,   ///< frames of another stream id arrived
  StreamEnd,      ///< the stream ended inside the CPI
  Overrun,        ///< no free CPI buffer: the chain is behind
  Shutdown,       ///< the process stopped while the CPI was being assembled or queued
  LinkMessage,    ///< a malformed message between segments
  LostInFlight,   ///< CPIs a link's numbering skipped that its upstream did not count as dropped
                  ///< (the CPIs in flight in a killed upstream process)
  DigitizerFlag,  ///< a VRT packet of the CPI flagged sample loss or invalid data (its trailer)
};
inline constexpr int kCpiDropCauses = 10;
const char* to_string(CpiDrop d);

struct AssembledCpi {
  void* buffer = nullptr;  ///< cf32 x[c][p][n], ownership passes to the emit callback
  std::uint32_t stream_id = 0;
  std::uint64_t cpi = 0;
  std::int64_t timestamp_ns = 0;     ///< UTC ns of the CPI's first pulse
  double center_frequency_hz = 0.0;  ///< of the frame holding the first pulse; 0: the mode's
};

/// Written by the ingest thread, read by telemetry from any thread.
struct AssemblerCounters {
  std::atomic<std::uint64_t> frames_received{0};
  std::atomic<std::uint64_t> frames_rejected{0};
  std::atomic<std::uint64_t> rejected[io::kFrameRejectCauses] = {};
  std::atomic<std::uint64_t> sequence_gaps{0};
  std::atomic<std::uint64_t> frames_missing{0};
  std::atomic<std::uint64_t> pulses_discarded{0};
  std::atomic<std::uint64_t> cpis_assembled{0};
  std::atomic<std::uint64_t> cpis_dropped{0};
  std::atomic<std::uint64_t> dropped[kCpiDropCauses] = {};

  void drop(CpiDrop cause, std::uint64_t n = 1) {
    dropped[static_cast<int>(cause)].fetch_add(n, std::memory_order_relaxed);
    cpis_dropped.fetch_add(n, std::memory_order_relaxed);
  }
  void reject(io::FrameReject cause) {
    rejected[static_cast<int>(cause)].fetch_add(1, std::memory_order_relaxed);
    frames_rejected.fetch_add(1, std::memory_order_relaxed);
  }
};

class CpiAssembler {
 public:
  using Acquire = std::function<void*()>;  ///< a free cube buffer, or nullptr at once
  using Release = std::function<void(void*)>;
  using Emit = std::function<void(const AssembledCpi&)>;

  CpiAssembler(const Mode& mode, AssemblerCounters& counters, Acquire acquire, Release release,
               Emit emit);
  ~CpiAssembler();
  CpiAssembler(const CpiAssembler&) = delete;
  CpiAssembler& operator=(const CpiAssembler&) = delete;

  struct Result {
    io::FrameCheck check;
    bool end_of_stream = false;   ///< the frame was valid and flagged end of stream
    std::uint32_t stream_id = 0;  ///< of a valid frame
  };
  /// One two-part message: header and payload.
  Result push(const void* header, std::size_t header_size, const void* payload,
              std::size_t payload_size);
  /// A message with the wrong number of parts.
  void reject_parts(std::size_t parts);
  /// Drops the CPI being assembled, if any.
  void abort(CpiDrop cause);
  bool assembling() const { return buffer_ != nullptr; }

 private:
  void drop(CpiDrop cause);
  void on_reject(io::FrameReject cause);

  std::size_t channels_, pulses_, gates_;
  double pri_ns_;
  AssemblerCounters& counters_;
  Acquire acquire_;
  Release release_;
  Emit emit_;

  /// Frames a sequence number may jump ahead and still count as the stream's (a gap); beyond,
  /// the frame is rejected unless kResync in a row confirm the jump.
  static constexpr std::uint64_t kSequenceWindow = 4096;
  static constexpr int kResync = 8;

  bool have_stream_ = false, have_sequence_ = false;
  std::uint32_t stream_id_ = 0;  ///< the stream locked in (until its end-of-stream frame)
  std::uint64_t next_sequence_ = 0;
  std::uint64_t rejected_since_accepted_ = 0;  ///< frames rejected since the last accepted one
  int resync_count_ = 0;  ///< consecutive out-of-stream frames of resync_stream_, in sequence
  std::uint32_t resync_stream_ = 0;
  std::uint64_t resync_next_ = 0;
  void* buffer_ = nullptr;  ///< the CPI being assembled
  std::uint64_t next_pulse_ = 0;
  AssembledCpi current_;
};

}  // namespace radarpipe::stream
