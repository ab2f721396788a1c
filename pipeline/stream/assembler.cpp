#include "pipeline/stream/assembler.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace radarpipe::stream {

const char* to_string(CpiDrop d) {
  switch (d) {
    case CpiDrop::SequenceGap:
      return "sequence_gap";
    case CpiDrop::PulseGap:
      return "pulse_gap";
    case CpiDrop::RejectedFrame:
      return "rejected_frame";
    case CpiDrop::StreamChange:
      return "stream_change";
    case CpiDrop::StreamEnd:
      return "stream_end";
    case CpiDrop::Overrun:
      return "overrun";
    case CpiDrop::Shutdown:
      return "shutdown";
    case CpiDrop::LinkMessage:
      return "link_message";
    case CpiDrop::LostInFlight:
      return "lost_in_flight";
    case CpiDrop::DigitizerFlag:
      return "digitizer_flag";
  }
  return "?";
}

CpiAssembler::CpiAssembler(const Mode& mode, AssemblerCounters& counters, Acquire acquire,
                           Release release, Emit emit)
    : channels_(mode.radar.channels),
      pulses_(mode.processing.pulses),
      gates_(mode.radar.range_gates),
      pri_ns_(mode.radar.pri_s * 1e9),
      counters_(counters),
      acquire_(std::move(acquire)),
      release_(std::move(release)),
      emit_(std::move(emit)) {}

CpiAssembler::~CpiAssembler() {
  if (buffer_) release_(buffer_);
}

void CpiAssembler::drop(CpiDrop cause) {
  if (!buffer_) return;
  release_(buffer_);
  buffer_ = nullptr;
  counters_.drop(cause);
}

void CpiAssembler::abort(CpiDrop cause) {
  drop(cause);
}

void CpiAssembler::on_reject(io::FrameReject cause) {
  counters_.reject(cause);
  // Whose frame it was is unknown (it did not decode, or is not the mode's shape): the CPI in
  // assembly is kept. If it was the stream's own, its sequence number is missing from what
  // follows, and the gap drops the CPI then (cause rejected_frame).
  ++rejected_since_accepted_;
}

void CpiAssembler::reject_parts(std::size_t) {
  counters_.frames_received.fetch_add(1, std::memory_order_relaxed);
  on_reject(io::FrameReject::Parts);
}

CpiAssembler::Result CpiAssembler::push(const void* header, std::size_t header_size,
                                        const void* payload, std::size_t payload_size) {
  counters_.frames_received.fetch_add(1, std::memory_order_relaxed);
  Result res;
  io::IqFrameHeader h;
  res.check = io::decode_iq_frame(header, header_size, payload_size, h);
  if (res.check.ok() && (h.gates != gates_ || h.channels != channels_))
    res.check = {io::FrameReject::Shape, "frame of " + std::to_string(h.channels) + " channels x " +
                                             std::to_string(h.gates) + " gates, the mode has " +
                                             std::to_string(channels_) + " channels x " +
                                             std::to_string(gates_) + " gates"};
  // The pulses' times are the frame's plus k PRIs: a timestamp near the end of int64 ns would
  // overflow there (undefined behaviour), so such a frame is refused.
  if (res.check.ok() &&
      (static_cast<double>(h.timestamp_ns) + static_cast<double>(h.pulses) * pri_ns_ > 9.2e18 ||
       static_cast<double>(h.timestamp_ns) < -9.2e18))
    res.check = {io::FrameReject::Timestamp,
                 "timestamp " + std::to_string(h.timestamp_ns) + " ns with " +
                     std::to_string(h.pulses) +
                     " pulses runs past the times radarpipe represents (int64 ns, year 2262)"};
  if (!res.check.ok()) {
    on_reject(res.check.reject);
    return res;
  }

  // One stream at a time: the first to arrive is locked in until it ends (an end-of-stream
  // frame). A frame of another stream, or one whose sequence lies behind the stream's or more
  // than kSequenceWindow ahead, is rejected and counted without touching the CPI being
  // assembled: garbage or a stranger's frames cannot spoil the real stream, and one absurd
  // sequence number cannot make every later frame look old. kResync such frames in a row, of
  // one stream and in consecutive sequence, say the stream really moved (a sender restarted, or
  // another took over after a silent end): the stream then follows them.
  const bool ours = !have_stream_ || h.stream_id == stream_id_;
  const bool in_window = !have_sequence_ || (h.sequence >= next_sequence_ &&
                                             h.sequence - next_sequence_ <= kSequenceWindow);
  if (!ours || !in_window) {
    if (resync_count_ > 0 && h.stream_id == resync_stream_ && h.sequence == resync_next_)
      ++resync_count_;
    else
      resync_count_ = 1;
    resync_stream_ = h.stream_id;
    resync_next_ = h.sequence + 1;
    if (resync_count_ < kResync) {
      const io::FrameReject cause = ours ? io::FrameReject::Sequence : io::FrameReject::Stream;
      res.check = {cause, !ours ? "stream " + std::to_string(h.stream_id) + " while stream " +
                                      std::to_string(stream_id_) + " is being received"
                          : h.sequence < next_sequence_
                              ? "sequence " + std::to_string(h.sequence) + " of stream " +
                                    std::to_string(h.stream_id) +
                                    " repeats or goes back (expected " +
                                    std::to_string(next_sequence_) + ")"
                              : "sequence " + std::to_string(h.sequence) + " of stream " +
                                    std::to_string(h.stream_id) + " jumps more than " +
                                    std::to_string(kSequenceWindow) + " frames ahead of " +
                                    std::to_string(next_sequence_)};
      counters_.reject(cause);
      ++rejected_since_accepted_;
      return res;
    }
    // The stream moved: follow it from this frame on.
    counters_.sequence_gaps.fetch_add(1, std::memory_order_relaxed);
    drop(ours ? CpiDrop::SequenceGap : CpiDrop::StreamChange);
    resync_count_ = 0;
    stream_id_ = h.stream_id;
    have_stream_ = true;
    next_sequence_ = h.sequence;
    rejected_since_accepted_ = 0;
  }
  resync_count_ = 0;
  have_stream_ = true;
  stream_id_ = h.stream_id;  // the stream's own, or the first: locked in
  res.stream_id = h.stream_id;
  if (have_sequence_ && h.sequence > next_sequence_) {
    // Frames missing: rejected ones (the CPI's drop is theirs) or lost on the way.
    const std::uint64_t gap = h.sequence - next_sequence_;
    const std::uint64_t rejected = std::min<std::uint64_t>(gap, rejected_since_accepted_);
    counters_.sequence_gaps.fetch_add(1, std::memory_order_relaxed);
    if (gap > rejected)
      counters_.frames_missing.fetch_add(gap - rejected, std::memory_order_relaxed);
    drop(rejected > 0 ? CpiDrop::RejectedFrame : CpiDrop::SequenceGap);
  }
  rejected_since_accepted_ = 0;
  have_sequence_ = true;
  next_sequence_ = h.sequence + 1;

  for (std::uint32_t i = 0; i < h.pulses; ++i) {
    const std::uint64_t p = h.first_pulse + i;
    if (buffer_ && p != next_pulse_) drop(CpiDrop::PulseGap);
    if (!buffer_) {
      if (p % pulses_ != 0) {
        counters_.pulses_discarded.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      buffer_ = acquire_();
      if (!buffer_) {
        counters_.drop(CpiDrop::Overrun);
        counters_.pulses_discarded.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      current_.buffer = buffer_;
      current_.stream_id = h.stream_id;
      current_.cpi = p / pulses_;
      current_.timestamp_ns = h.timestamp_ns + std::llround(static_cast<double>(i) * pri_ns_);
      current_.center_frequency_hz = h.center_frequency_hz;
      next_pulse_ = p;
    }
    cf32* cube = static_cast<cf32*>(buffer_);
    const std::size_t row = p % pulses_;
    for (std::size_t c = 0; c < channels_; ++c)
      io::unpack_pulse(h, payload, i, c, cube + (c * pulses_ + row) * gates_);
    if (++next_pulse_ % pulses_ == 0) {
      buffer_ = nullptr;
      counters_.cpis_assembled.fetch_add(1, std::memory_order_relaxed);
      emit_(current_);
    }
  }
  if (h.end_of_stream()) {
    drop(CpiDrop::StreamEnd);
    have_sequence_ = false;
    have_stream_ = false;  // the lock ends with the stream
    res.end_of_stream = true;
  }
  return res;
}

}  // namespace radarpipe::stream
