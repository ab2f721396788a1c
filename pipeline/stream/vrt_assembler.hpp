// CPIs from VITA 49.2 packets (docs/streaming.md "VRT source"): each data stream is one receive
// channel; every packet's fractional timestamp places its samples on the pulse grid counted from
// the epoch (pulse k transmitted at epoch + k PRI), gated (each pulse's receive window arrives as
// its own run of N samples) or continuous (the ingest cuts window k at epoch + k PRI + window
// start). Samples are converted straight into pooled cube buffers; a CPI is emitted once every
// channel has filled it, in CPI order, and dropped whole, counted by cause, when any of its
// samples is missing: a timestamp gap (packets lost), a reordered packet, a channel falling
// behind, a digitizer's sample-loss or invalid-data flag, no free buffer. No sockets and no
// threads here; the ingest thread drives it (vrt_ingest.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "core/mode.hpp"
#include "io/vrt.hpp"
#include "pipeline/stream/assembler.hpp"

namespace radarpipe::stream {

/// Why a VRT packet was not taken (besides the codec's own causes, io::vrt::Error).
enum class VrtReject : std::uint8_t {
  Short,        ///< codec: fewer bytes than a header or than the size field says
  Size,         ///< codec: the size field disagrees with the fields or the bytes
  Type,         ///< codec: a reserved packet type
  Unsupported,  ///< codec: command packets
  Context,      ///< codec: a context packet's fields run past its size
  Datagram,     ///< a datagram holding bytes beyond its one packet
  Extension,    ///< extension data or context packets: not samples this source reads
  Stream,       ///< a stream ID that is not one of the mode's channels (or the one locked in)
  Timestamp,    ///< no fractional timestamp, or not the kind the epoch was taken from
  Format,       ///< the payload is not whole samples of a supported payload format
  Window,       ///< gated: samples outside a receive window, or before the epoch
  Late,         ///< behind the stream's position: a duplicate or a reordered packet
  Jump,         ///< farther ahead than 64 CPIs (taken once 8 in a row confirm it)
  SampleRate,   ///< the stream's context packets give a sample rate other than the mode's
};
inline constexpr int kVrtRejectCauses = 14;
const char* to_string(VrtReject r);

/// Written by the ingest thread, read by telemetry from any thread.
struct VrtCounters {
  std::atomic<std::uint64_t> packets{0}, data_packets{0}, context_packets{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> rejected_by[kVrtRejectCauses] = {};
  std::atomic<std::uint64_t> before_epoch{0};  ///< data packets before the epoch was known
  std::atomic<std::uint64_t> packets_lost{0};  ///< by the 4-bit packet count at timestamp gaps
  std::atomic<std::uint64_t> samples_lost{0};  ///< positions a timestamp gap skipped
  std::atomic<std::uint64_t> count_errors{0};  ///< count out of step where timestamps agree
  std::atomic<std::uint64_t> resyncs{0};       ///< restarts confirmed by 8 packets in a row
  std::atomic<std::uint64_t> sample_loss_flags{0}, over_range_flags{0}, invalid_data_flags{0};
  std::atomic<std::uint64_t> context_mismatches{0};    ///< context fields contradicting the mode
  std::atomic<std::uint64_t> retunes{0};               ///< RF reference frequency changes
  std::atomic<std::uint64_t> kernel_drops{0};          ///< the UDP socket's own (SO_RXQ_OVFL)
  std::atomic<std::uint64_t> receive_buffer_bytes{0};  ///< SO_RCVBUF granted (UDP)
  std::atomic<std::uint64_t> connections{0};           ///< TCP connections made

  void reject(VrtReject r) {
    rejected_by[static_cast<int>(r)].fetch_add(1, std::memory_order_relaxed);
    rejected.fetch_add(1, std::memory_order_relaxed);
  }
};

class VrtAssembler {
 public:
  using Acquire = CpiAssembler::Acquire;
  using Release = CpiAssembler::Release;
  using Emit = CpiAssembler::Emit;
  using Log = std::function<void(const std::string&)>;

  /// `frames` takes the CPI counts (assembled, dropped by cause) and the packets as frames
  /// received and rejected; `log` receives one line per first rejection of each cause and per
  /// first contradiction of each context field.
  VrtAssembler(const Mode& mode, VrtCounters& counters, AssemblerCounters& frames, Acquire acquire,
               Release release, Emit emit, Log log);
  ~VrtAssembler();
  VrtAssembler(const VrtAssembler&) = delete;
  VrtAssembler& operator=(const VrtAssembler&) = delete;

  /// One packet: a whole datagram, or one packet cut from a TCP stream (`size` = its bytes).
  /// `arrival_ns`: the host's UTC clock, the date of timestamps that have no UTC or GPS seconds.
  void push(const unsigned char* bytes, std::size_t size, std::int64_t arrival_ns);
  /// The stream ended (a TCP connection closed): CPIs in assembly are dropped (stream_end) and
  /// the next packet starts a new stream (a new epoch, unless the mode gives one).
  void end_of_stream();
  /// Drops every CPI in assembly.
  void abort(CpiDrop cause);
  /// The stream ID reported with CPIs: channel 0's.
  std::uint32_t stream_id() const;

 private:
  struct Stream;
  struct Slot;
  enum class Clock : std::uint8_t { RealTime, SampleCount, Count };

  /// Counts the rejection; logs the first of each cause (`why`: a string, or a callable making
  /// it only then).
  template <class Why>
  void reject(VrtReject cause, Why&& why);
  void on_context(const unsigned char* b, const io::vrt::Packet& p, Stream& s);
  void on_data(const unsigned char* b, const io::vrt::Packet& p, Stream& s, std::int64_t arrival);
  Stream* stream_for(const io::vrt::Packet& p);
  bool take_epoch(const io::vrt::Packet& p, bool data, std::int64_t arrival);
  /// Rejects (timestamp) a fraction of a second that is not below one second.
  bool fraction_ok(const io::vrt::Packet& p);
  long double position(const io::vrt::Packet& p) const;  ///< samples after pulse 0's transmit
  std::int64_t utc_ns(const io::vrt::Packet& p, std::int64_t arrival) const;
  void reset(CpiDrop cause);
  // Positions on the stream axis v: gated k * N + g relative to pulse k0_; continuous samples.
  std::int64_t cpi_start(std::uint64_t m) const;
  std::int64_t window_start(std::int64_t k) const;  ///< continuous: w_k
  void lose(std::int64_t from, std::int64_t to, CpiDrop cause);
  void place(Stream& s, const unsigned char* payload, std::int64_t v, std::size_t n);
  void write(Stream& s, std::uint64_t m, std::size_t row, std::size_t gate,
             const unsigned char* payload, std::size_t first, std::size_t n);
  Slot* slot(std::uint64_t m, Stream& opener);
  void finish_front();
  void retire_lagging(std::int64_t lead_v);

  const Mode& mode_;
  std::size_t C_, P_, N_;
  double fs_, pri_s_, t0_s_;
  long double pri_fs_, t0_fs_;
  bool gated_;
  VrtCounters& counters_;
  AssemblerCounters& frames_;
  Acquire acquire_;
  Release release_;
  Emit emit_;
  Log log_;
  std::uint32_t logged_rejects_ = 0;  ///< causes already logged (bit per VrtReject)

  std::vector<Stream> streams_;  ///< one per channel
  // The epoch: pulse 0's transmit time, E samples after the reference timestamp R.
  bool have_epoch_ = false;
  Clock clock_ = Clock::RealTime;
  io::vrt::Tsi tsi_ = io::vrt::Tsi::None;
  std::uint32_t ref_s_ = 0;
  std::uint64_t ref_frac_ = 0;
  long double epoch_offset_ = 0;  ///< E
  std::int64_t epoch_ns_ = 0;     ///< UTC of pulse 0
  bool have_base_ = false;
  std::int64_t k0_ = 0;         ///< gated: pulse index of v = 0
  std::uint64_t base_ = 0;      ///< the first CPI still in assembly
  std::deque<Slot> slots_;      ///< CPIs base_, base_ + 1, ...
  std::int64_t lag_limit_ = 0;  ///< how far the leading channel may run past a CPI's end
  std::size_t max_packet_samples_ = 0;
};

}  // namespace radarpipe::stream
