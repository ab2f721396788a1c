#include "pipeline/stream/vrt_assembler.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

namespace radarpipe::stream {

namespace vrt = io::vrt;

const char* to_string(VrtReject r) {
  switch (r) {
    case VrtReject::Short:
      return "short";
    case VrtReject::Size:
      return "size";
    case VrtReject::Type:
      return "type";
    case VrtReject::Unsupported:
      return "unsupported";
    case VrtReject::Context:
      return "context";
    case VrtReject::Datagram:
      return "datagram";
    case VrtReject::Extension:
      return "extension";
    case VrtReject::Stream:
      return "stream";
    case VrtReject::Timestamp:
      return "timestamp";
    case VrtReject::Format:
      return "format";
    case VrtReject::Window:
      return "window";
    case VrtReject::Late:
      return "late";
    case VrtReject::Jump:
      return "jump";
    case VrtReject::SampleRate:
      return "sample_rate";
  }
  return "?";
}

namespace {

VrtReject reject_of(vrt::Error e) {
  switch (e) {
    case vrt::Error::Short:
      return VrtReject::Short;
    case vrt::Error::Size:
      return VrtReject::Size;
    case vrt::Error::Type:
      return VrtReject::Type;
    case vrt::Error::Unsupported:
      return VrtReject::Unsupported;
    default:
      return VrtReject::Context;
  }
}

vrt::PayloadFormat format_of(VrtPayload p) {
  switch (p) {
    case VrtPayload::Sc8:
      return vrt::PayloadFormat::sc8();
    case VrtPayload::Sc12:
      return vrt::PayloadFormat::sc12();
    case VrtPayload::Sc16:
      return vrt::PayloadFormat::sc16();
    case VrtPayload::Cf32:
      return vrt::PayloadFormat::cf32();
  }
  return vrt::PayloadFormat::sc16();
}

std::string format_name(const vrt::PayloadFormat& f) {
  if (f.same_samples(vrt::PayloadFormat::sc8())) return "sc8";
  if (f.same_samples(vrt::PayloadFormat::sc12())) return "sc12";
  if (f.same_samples(vrt::PayloadFormat::sc16())) return "sc16";
  if (f.same_samples(vrt::PayloadFormat::cf32())) return "cf32";
  return "words " + std::to_string(f.word0()) + ", " + std::to_string(f.word1());
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Seconds between the GPS epoch (1980-01-06) and the UTC epoch (1970-01-01), leap seconds aside.
constexpr std::int64_t kGpsEpochUnix = 315964800;
// Packets out of line (late, far ahead, before pulse 0) that say the stream really moved when
// this many arrive in a row, in increasing time.
constexpr int kResync = 8;
// How far ahead of its stream a packet may jump and count as a gap, in CPIs.
constexpr std::int64_t kJumpCpis = 64;

}  // namespace

struct VrtAssembler::Stream {
  std::size_t channel = 0;
  bool known = false;  ///< its stream ID is the mode's, or was locked in
  bool has_id = false;
  std::uint32_t id = 0;
  vrt::PayloadFormat format;
  double frequency_hz = 0;  ///< RF reference from its context packets; 0: the mode's
  bool rate_ok = true;
  double context_rate_hz = 0;
  bool positioned = false;
  std::int64_t next_v = 0;  ///< the position its next packet should start at
  std::uint8_t next_count = 0;
  int resync_n = 0;
  long double resync_last = 0;
  std::uint32_t reported = 0;  ///< context fields already reported as contradicting the mode
};

struct VrtAssembler::Slot {
  enum State : std::uint8_t { Empty, Open, Dead, Done } state = Empty;
  void* buffer = nullptr;
  std::uint64_t filled = 0;  ///< samples written, all channels
  AssembledCpi cpi;
};

VrtAssembler::VrtAssembler(const Mode& mode, VrtCounters& counters, AssemblerCounters& frames,
                           Acquire acquire, Release release, Emit emit, Log log)
    : mode_(mode),
      C_(mode.radar.channels),
      P_(mode.processing.pulses),
      N_(mode.radar.range_gates),
      fs_(mode.radar.sample_rate_hz),
      pri_s_(mode.radar.pri_s),
      t0_s_(mode.radar.window_start_s),
      pri_fs_(static_cast<long double>(mode.radar.pri_s) * mode.radar.sample_rate_hz),
      t0_fs_(static_cast<long double>(mode.radar.window_start_s) * mode.radar.sample_rate_hz),
      gated_(mode.input.vrt.timing == PulseTiming::Gated),
      counters_(counters),
      frames_(frames),
      acquire_(std::move(acquire)),
      release_(std::move(release)),
      emit_(std::move(emit)),
      log_(std::move(log)),
      streams_(mode.radar.channels) {
  const auto& ids = mode.input.vrt.stream_ids;
  if (ids.empty() && C_ > 1)
    throw ConfigError("input.vrt.stream_ids",
                      "a mode of " + std::to_string(C_) +
                          " channels reads VRT only with the stream ID of each channel");
  for (std::size_t c = 0; c < C_; ++c) {
    Stream& s = streams_[c];
    s.channel = c;
    s.format = format_of(mode.input.vrt.payload_format);
    if (!ids.empty()) {
      s.known = s.has_id = true;
      s.id = ids[c];
    }
  }
  lag_limit_ = gated_
                   ? static_cast<std::int64_t>(P_ * N_)
                   : static_cast<std::int64_t>(std::ceil(static_cast<double>(P_) * pri_s_ * fs_));
}

VrtAssembler::~VrtAssembler() {
  for (Slot& s : slots_)
    if (s.buffer) release_(s.buffer);
}

std::uint32_t VrtAssembler::stream_id() const {
  return streams_.front().id;
}

// `why` is the message, or a callable that makes it: built only for the one rejection of each
// cause that is logged, not for every packet of a flood.
template <class Why>
void VrtAssembler::reject(VrtReject cause, Why&& why) {
  counters_.reject(cause);
  frames_.frames_rejected.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t bit = 1u << static_cast<unsigned>(cause);
  if (!(logged_rejects_ & bit) && log_) {
    logged_rejects_ |= bit;
    std::string text;
    if constexpr (std::is_invocable_v<Why>)
      text = why();
    else
      text = why;
    log_("VRT packet rejected (" + std::string(to_string(cause)) + "): " + text +
         " (further rejections of this cause are counted, not logged)");
  }
}

VrtAssembler::Stream* VrtAssembler::stream_for(const vrt::Packet& p) {
  for (Stream& s : streams_)
    if (s.known && s.has_id == p.stream_id_present && (!s.has_id || s.id == p.stream_id)) return &s;
  // A one-channel mode without stream IDs takes the first data stream that arrives, for good;
  // context packets before it apply to the channel without locking it.
  Stream& only = streams_.front();
  if (C_ == 1 && !only.known) {
    if (p.is_context()) return &only;
    only.known = true;
    only.has_id = p.stream_id_present;
    only.id = p.stream_id;
    if (log_)
      log_(p.stream_id_present ? "VRT stream " + std::to_string(p.stream_id) + " taken as channel 0"
                               : std::string("VRT data without stream IDs taken as channel 0"));
    return &only;
  }
  // Context packets always carry a stream ID; a data stream without one has them under any.
  if (C_ == 1 && p.is_context() && !only.has_id) return &only;
  return nullptr;
}

void VrtAssembler::push(const unsigned char* b, std::size_t size, std::int64_t arrival_ns) {
  counters_.packets.fetch_add(1, std::memory_order_relaxed);
  frames_.frames_received.fetch_add(1, std::memory_order_relaxed);
  vrt::Packet p;
  const vrt::Error e = vrt::parse(b, size, p);
  if (e != vrt::Error::None) {
    reject(reject_of(e), [&] { return vrt::describe(e, b, size); });
    return;
  }
  if (p.bytes() != size) {
    reject(VrtReject::Datagram, [&] {
      return "a datagram of " + std::to_string(size) + " bytes holds a packet of " +
             std::to_string(p.bytes()) + " bytes (size field " + std::to_string(p.size_words) +
             " words); expected one packet per datagram";
    });
    return;
  }
  if (!p.is_data() && !p.is_context()) {
    reject(VrtReject::Extension, [&] {
      return "packet type " + std::to_string(static_cast<unsigned>(p.type)) +
             " (extension data or context): the source reads signal data and context packets";
    });
    return;
  }
  Stream* s = stream_for(p);
  if (!s) {
    reject(VrtReject::Stream, [&] {
      std::string ids;
      for (const Stream& st : streams_)
        ids +=
            (ids.empty() ? "" : ", ") + (st.has_id ? std::to_string(st.id) : std::string("none"));
      return (p.stream_id_present ? "stream ID " + std::to_string(p.stream_id)
                                  : std::string("a packet without stream ID")) +
             " is not a channel of the mode (stream IDs by channel: " + ids + ")";
    });
    return;
  }
  if (p.is_context()) {
    counters_.context_packets.fetch_add(1, std::memory_order_relaxed);
    on_context(b, p, *s);
    if (!have_epoch_ && mode_.input.vrt.epoch == VrtEpoch::Context && p.tsf != vrt::Tsf::None)
      take_epoch(p, false, arrival_ns);
    return;
  }
  counters_.data_packets.fetch_add(1, std::memory_order_relaxed);
  on_data(b, p, *s, arrival_ns);
}

void VrtAssembler::on_context(const unsigned char* b, const vrt::Packet& p, Stream& s) {
  vrt::Context ctx;
  std::string why;
  if (vrt::parse_context(b, p, ctx, &why) != vrt::Error::None) {
    reject(VrtReject::Context, why);
    return;
  }
  const std::string who = "VRT context of stream " + std::to_string(p.stream_id) + " (channel " +
                          std::to_string(s.channel) + "): ";
  auto contradiction = [&](unsigned field, const std::string& what) {
    counters_.context_mismatches.fetch_add(1, std::memory_order_relaxed);
    if (!(s.reported & field) && log_) log_(who + what + " (reported once per field)");
    s.reported |= field;
  };
  if (ctx.sample_rate_hz) {
    const double r = *ctx.sample_rate_hz;
    s.context_rate_hz = r;
    s.rate_ok = std::fabs(r - fs_) <= 1e-9 * fs_;
    if (!s.rate_ok)
      contradiction(1, "sample rate " + num(r) + " Hz, the mode's radar.sample_rate_hz is " +
                           num(fs_) + " Hz: its data is not taken until they agree");
  }
  if (ctx.payload_format) {
    if (!ctx.payload_format->same_samples(s.format)) {
      const vrt::PayloadFormat mode_format = format_of(mode_.input.vrt.payload_format);
      if (!ctx.payload_format->same_samples(mode_format))
        contradiction(2, "payload format " + format_name(*ctx.payload_format) +
                             ", the mode's input.vrt.payload_format is " +
                             format_name(mode_format) + ": the context's is used");
      s.format = *ctx.payload_format;
    }
  }
  if (ctx.bandwidth_hz) {
    const double need = mode_.radar.waveform.resolution_bandwidth_hz();
    if (*ctx.bandwidth_hz < need * (1.0 - 1e-9))
      contradiction(4, "bandwidth " + num(*ctx.bandwidth_hz) +
                           " Hz is narrower than the waveform's " + num(need) +
                           " Hz: the receiver filters the pulse (processed as it comes)");
  }
  if (ctx.rf_reference_hz && *ctx.rf_reference_hz > 0.0) {
    if (s.frequency_hz != 0.0 && *ctx.rf_reference_hz != s.frequency_hz)
      counters_.retunes.fetch_add(1, std::memory_order_relaxed);
    s.frequency_hz = *ctx.rf_reference_hz;
  }
}

bool VrtAssembler::fraction_ok(const vrt::Packet& p) {
  // With integer seconds, the fraction counts within one second (VITA 49.2 5.1.4.2).
  if (p.tsi == vrt::Tsi::None) return true;
  if (p.tsf == vrt::Tsf::RealTime && p.fractional >= 1000000000000u) {
    reject(VrtReject::Timestamp, [&] {
      return "fractional timestamp " + std::to_string(p.fractional) +
             " ps is not below one second (10^12 ps)";
    });
    return false;
  }
  if (p.tsf == vrt::Tsf::SampleCount && static_cast<double>(p.fractional) >= std::ceil(fs_)) {
    reject(VrtReject::Timestamp, [&] {
      return "sample-count timestamp " + std::to_string(p.fractional) +
             " is not below one second's samples (" + num(fs_) + ")";
    });
    return false;
  }
  return true;
}

bool VrtAssembler::take_epoch(const vrt::Packet& p, bool data, std::int64_t arrival) {
  const VrtInputConfig& cfg = mode_.input.vrt;
  const bool seconds = p.tsi != vrt::Tsi::None;
  if (!fraction_ok(p)) return false;
  if (p.tsf == vrt::Tsf::RealTime && !seconds) {
    reject(VrtReject::Timestamp,
           "real-time (picosecond) fractional timestamps without integer seconds place no "
           "sample");
    return false;
  }
  clock_ = p.tsf == vrt::Tsf::RealTime                 ? Clock::RealTime
           : p.tsf == vrt::Tsf::SampleCount && seconds ? Clock::SampleCount
                                                       : Clock::Count;
  tsi_ = p.tsi;
  const bool utc = clock_ != Clock::Count && seconds;
  if (cfg.epoch == VrtEpoch::Time && !utc) {
    reject(VrtReject::Timestamp, [&] {
      return "input.vrt.epoch is a UTC time; it needs integer timestamps (UTC, GPS or POSIX) with "
             "real-time or sample-count fractions (this packet: TSI " +
             std::to_string(static_cast<unsigned>(p.tsi)) + ", TSF " +
             std::to_string(static_cast<unsigned>(p.tsf)) + ")";
    });
    return false;
  }
  ref_s_ = p.integer_seconds;
  ref_frac_ = p.fractional;
  have_epoch_ = true;
  const double lead = data && gated_ ? t0_s_ : 0.0;  // gated: the first sample is at t0
  if (cfg.epoch == VrtEpoch::Time) {
    epoch_ns_ = cfg.epoch_ns;
    epoch_offset_ =
        (static_cast<long double>(cfg.epoch_ns) - static_cast<long double>(utc_ns(p, arrival))) *
        1e-9L * fs_;
  } else {
    epoch_offset_ = -static_cast<long double>(lead) * fs_;
    if (clock_ == Clock::RealTime && utc) {
      // In picoseconds, so that a sender's t0 (llround(t0 x 1e12) ps) comes off exactly.
      const std::int64_t ps = static_cast<std::int64_t>(p.fractional) - std::llround(lead * 1e12);
      std::int64_t s = p.integer_seconds;
      if (p.tsi == vrt::Tsi::Gps) s += kGpsEpochUnix - cfg.gps_leap_seconds;
      epoch_ns_ = s * 1000000000 + floor_div(ps + 500, 1000);
    } else {
      epoch_ns_ = utc_ns(p, arrival) - std::llround(lead * 1e9);
    }
  }
  return true;
}

std::int64_t VrtAssembler::utc_ns(const vrt::Packet& p, std::int64_t arrival) const {
  // UTC, GPS, or "other" read as POSIX seconds (UTC without leap seconds), as DIFI defines it.
  if (p.tsi == vrt::Tsi::None) return arrival;
  std::int64_t s = p.integer_seconds;
  if (p.tsi == vrt::Tsi::Gps) s += kGpsEpochUnix - mode_.input.vrt.gps_leap_seconds;
  std::int64_t ns = s * 1000000000;
  // Fractions of a second (checked by fraction_ok); clamped all the same, so that no value can
  // overflow here.
  if (p.tsf == vrt::Tsf::RealTime)
    ns += static_cast<std::int64_t>((std::min<std::uint64_t>(p.fractional, 1000000000000) + 500) /
                                    1000);
  else if (p.tsf == vrt::Tsf::SampleCount)
    ns += std::llround(std::min(static_cast<double>(p.fractional) / fs_, 1.0) * 1e9);
  return ns;
}

long double VrtAssembler::position(const vrt::Packet& p) const {
  long double pos = 0;
  const auto ds = static_cast<long double>(static_cast<std::int64_t>(p.integer_seconds) -
                                           static_cast<std::int64_t>(ref_s_));
  const auto df = static_cast<long double>(static_cast<std::int64_t>(p.fractional - ref_frac_));
  switch (clock_) {
    case Clock::RealTime:
      pos = ds * fs_ + df * 1e-12L * fs_;
      break;
    case Clock::SampleCount:
      pos = ds * fs_ + df;
      break;
    case Clock::Count:
      pos = df;
      break;
  }
  return pos - epoch_offset_;
}

std::int64_t VrtAssembler::window_start(std::int64_t k) const {
  return std::llround(static_cast<long double>(k) * pri_fs_ + t0_fs_);
}

std::int64_t VrtAssembler::cpi_start(std::uint64_t m) const {
  const auto k = static_cast<std::int64_t>(m * P_);
  return gated_ ? (k - k0_) * static_cast<std::int64_t>(N_) : window_start(k);
}

void VrtAssembler::on_data(const unsigned char* b, const vrt::Packet& p, Stream& s,
                           std::int64_t arrival) {
  if (p.tsf == vrt::Tsf::None) {
    reject(VrtReject::Timestamp,
           "a data packet without a fractional timestamp: the source places samples by it "
           "(sample count, real-time or free-running)");
    return;
  }
  if (!s.rate_ok) {
    reject(VrtReject::SampleRate, [&] {
      return "stream " + std::to_string(s.id) + "'s context gives " + num(s.context_rate_hz) +
             " Hz, the mode " + num(fs_) + " Hz";
    });
    return;
  }
  std::string why;
  if (!s.format.supported(&why)) {
    reject(VrtReject::Format, why);
    return;
  }
  const unsigned pad = p.class_id_present ? p.class_id.pad_bits : 0u;
  const std::size_t n = vrt::payload_samples(s.format, p.payload_bytes, pad);
  if (n == 0) return;
  max_packet_samples_ = std::max(max_packet_samples_, n);
  lag_limit_ = std::max<std::int64_t>(lag_limit_, 4 * static_cast<std::int64_t>(n));

  if (!have_epoch_) {
    if (mode_.input.vrt.epoch == VrtEpoch::Context) {
      counters_.before_epoch.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (!take_epoch(p, true, arrival)) return;
  }
  if (!fraction_ok(p)) return;
  const bool seconds = p.tsi != vrt::Tsi::None;
  const Clock kind = p.tsf == vrt::Tsf::RealTime                 ? Clock::RealTime
                     : p.tsf == vrt::Tsf::SampleCount && seconds ? Clock::SampleCount
                                                                 : Clock::Count;
  if (kind != clock_ || p.tsi != tsi_) {
    reject(VrtReject::Timestamp, [&] {
      return "timestamps of TSI " + std::to_string(static_cast<unsigned>(p.tsi)) + ", TSF " +
             std::to_string(static_cast<unsigned>(p.tsf)) +
             ", not the kind the epoch was taken from (TSI " +
             std::to_string(static_cast<unsigned>(tsi_)) + ")";
    });
    return;
  }
  const long double q = position(p);
  // 126 years either side of the epoch: CPI times stay inside int64 nanoseconds.
  if (!(std::fabs(q) < 4.0e9L * fs_)) {
    reject(VrtReject::Window, "its timestamp lies more than 4e9 s from the epoch");
    return;
  }

  // Where the packet sits: gated, pulse k's window at gate g; continuous, sample v.
  std::int64_t k = 0, g = 0, v = 0;
  bool out_of_line = false;
  std::string window_why;
  if (gated_) {
    const long double x = q - t0_fs_;
    const long double kf = std::floor((x + 0.5L) / pri_fs_);
    {
      k = static_cast<std::int64_t>(kf);
      g = std::llround(x - kf * pri_fs_);
      if (k < 0) {
        out_of_line = true;
        window_why = "its first sample lies before pulse 0 (the epoch)";
      } else if (g < 0 || g + static_cast<std::int64_t>(n) > static_cast<std::int64_t>(N_)) {
        reject(VrtReject::Window, [&] {
          return "samples " + std::to_string(g) + " .. " +
                 std::to_string(g + static_cast<std::int64_t>(n) - 1) + " after pulse " +
                 std::to_string(k) + "'s window start lie outside its " + std::to_string(N_) +
                 " gates (gated timing: a packet holds samples of one window)";
        });
        return;
      }
    }
  } else {
    {
      v = std::llround(q);
      if (v < 0) {
        out_of_line = true;
        window_why = "its first sample lies before pulse 0 (the epoch)";
      }
    }
  }
  // Packets out of line: kResync in a row, in increasing time, say the stream moved (a sender
  // restarted); fewer are rejected and leave the stream's CPIs alone.
  auto out_of_line_packet = [&](VrtReject cause, auto&& text) {
    if (s.resync_n > 0 && q > s.resync_last)
      ++s.resync_n;
    else
      s.resync_n = 1;
    s.resync_last = q;
    if (s.resync_n >= kResync) {
      counters_.resyncs.fetch_add(1, std::memory_order_relaxed);
      if (log_)
        log_("VRT stream " + std::to_string(s.id) + " moved (" + std::to_string(kResync) +
             " packets in a row out of line): the stream restarts from here");
      reset(CpiDrop::StreamChange);
      on_data(b, p, s, arrival);  // once: the state is fresh, so it cannot come back here
      return;
    }
    reject(cause, text);
  };
  if (out_of_line) {
    out_of_line_packet(VrtReject::Window, window_why);
    return;
  }

  if (!have_base_) {
    // The first CPI is the first whose first sample this packet does not miss.
    if (gated_) {
      k0_ = k / static_cast<std::int64_t>(P_) * static_cast<std::int64_t>(P_);
      base_ = static_cast<std::uint64_t>(k0_) / P_ + ((k == k0_ && g == 0) ? 0 : 1);
    } else {
      std::int64_t kk = std::max<std::int64_t>(
          0, static_cast<std::int64_t>(std::floor((v - t0_fs_) / pri_fs_)) - 1);
      while (window_start(kk) < v) ++kk;
      base_ = (static_cast<std::uint64_t>(kk) + P_ - 1) / P_;
    }
    have_base_ = true;
  }
  if (gated_) v = (k - k0_) * static_cast<std::int64_t>(N_) + g;

  const std::int64_t jump_limit =
      kJumpCpis * (gated_
                       ? static_cast<std::int64_t>(P_ * N_)
                       : static_cast<std::int64_t>(std::ceil(static_cast<double>(P_) * pri_fs_)));
  if (!s.positioned) {
    s.positioned = true;
    s.next_v = v;
    s.next_count = p.count;
    // A channel that starts after the first CPI's start has missed those CPIs' samples.
    const std::int64_t start = cpi_start(base_);
    if (v > start) lose(start, std::min(v, start + jump_limit), CpiDrop::SequenceGap);
  } else if (v < s.next_v) {
    out_of_line_packet(VrtReject::Late, [&] {
      return "its timestamp puts it at sample " + std::to_string(v) + " of stream " +
             std::to_string(s.id) + ", behind the next expected (" + std::to_string(s.next_v) +
             "): a duplicate or a reordered packet";
    });
    return;
  } else if (v > s.next_v) {
    if (v - s.next_v > jump_limit) {
      out_of_line_packet(VrtReject::Jump, [&] {
        return "its timestamp jumps " + std::to_string(v - s.next_v) + " samples ahead of stream " +
               std::to_string(s.id) + ", more than " + std::to_string(kJumpCpis) + " CPIs";
      });
      return;
    }
    counters_.packets_lost.fetch_add((p.count - s.next_count) & 15u, std::memory_order_relaxed);
    counters_.samples_lost.fetch_add(static_cast<std::uint64_t>(v - s.next_v),
                                     std::memory_order_relaxed);
    frames_.sequence_gaps.fetch_add(1, std::memory_order_relaxed);
    lose(s.next_v, v, CpiDrop::SequenceGap);
  } else if (p.count != s.next_count) {
    counters_.count_errors.fetch_add(1, std::memory_order_relaxed);
  }
  s.resync_n = 0;
  s.next_v = v + static_cast<std::int64_t>(n);
  s.next_count = static_cast<std::uint8_t>((p.count + 1u) & 15u);

  if (p.trailer_present) {
    const vrt::Trailer& t = p.trailer;
    if (t.is(vrt::Trailer::OverRange))
      counters_.over_range_flags.fetch_add(1, std::memory_order_relaxed);
    const bool loss = t.is(vrt::Trailer::SampleLoss);
    const bool invalid = t.is_not(vrt::Trailer::ValidData);
    if (loss) counters_.sample_loss_flags.fetch_add(1, std::memory_order_relaxed);
    if (invalid) counters_.invalid_data_flags.fetch_add(1, std::memory_order_relaxed);
    if (loss || invalid) {
      lose(v, v + static_cast<std::int64_t>(n), CpiDrop::DigitizerFlag);
      retire_lagging(s.next_v);
      return;
    }
  }
  place(s, b + p.payload_offset, v, n);
  retire_lagging(s.next_v);
}

VrtAssembler::Slot* VrtAssembler::slot(std::uint64_t m, Stream& opener) {
  if (m < base_) return nullptr;
  const std::uint64_t at = m - base_;
  if (at > static_cast<std::uint64_t>(4 * kJumpCpis)) return nullptr;  // cannot happen: bounded
  while (slots_.size() <= at) slots_.emplace_back();
  Slot& sl = slots_[at];
  if (sl.state == Slot::Empty) {
    sl.buffer = acquire_();
    if (!sl.buffer) {
      sl.state = Slot::Dead;
      frames_.drop(CpiDrop::Overrun);
      return nullptr;
    }
    sl.state = Slot::Open;
    sl.filled = 0;
    sl.cpi.buffer = sl.buffer;
    sl.cpi.stream_id = stream_id();
    sl.cpi.cpi = m;
    sl.cpi.timestamp_ns =
        epoch_ns_ + std::llround(static_cast<long double>(m) * static_cast<long double>(P_) *
                                 static_cast<long double>(pri_s_) * 1e9L);
    sl.cpi.center_frequency_hz = opener.frequency_hz;
  }
  return sl.state == Slot::Open ? &sl : nullptr;
}

void VrtAssembler::write(Stream& s, std::uint64_t m, std::size_t row, std::size_t gate,
                         const unsigned char* payload, std::size_t first, std::size_t n) {
  Slot* sl = slot(m, s);
  if (!sl) return;
  auto* dst = static_cast<cf32*>(sl->buffer) + (s.channel * P_ + row) * N_ + gate;
  vrt::decode_payload(s.format, payload + first * s.format.sample_bits() / 8, n, dst,
                      static_cast<float>(mode_.input.vrt.scale));
  sl->filled += n;
  if (sl->filled == static_cast<std::uint64_t>(C_) * P_ * N_) {
    sl->state = Slot::Done;
    finish_front();
  }
}

void VrtAssembler::place(Stream& s, const unsigned char* payload, std::int64_t v, std::size_t n) {
  const auto P = static_cast<std::int64_t>(P_), N = static_cast<std::int64_t>(N_);
  if (gated_) {
    const std::int64_t k = floor_div(v, N) + k0_;
    const std::int64_t g = v - (k - k0_) * N;
    if (k < 0) return;
    const std::int64_t m = k / P;
    if (static_cast<std::uint64_t>(m) < base_) return;
    write(s, static_cast<std::uint64_t>(m), static_cast<std::size_t>(k - m * P),
          static_cast<std::size_t>(g), payload, 0, n);
    return;
  }
  const std::int64_t end = v + static_cast<std::int64_t>(n);
  std::int64_t k =
      std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor((v - t0_fs_) / pri_fs_)) - 1);
  while (window_start(k) + N <= v) ++k;
  for (;; ++k) {
    const std::int64_t w = window_start(k);
    if (w >= end) break;
    const std::int64_t a = std::max(v, w), z = std::min(end, w + N);
    const std::int64_t m = k / P;
    if (static_cast<std::uint64_t>(m) >= base_)
      write(s, static_cast<std::uint64_t>(m), static_cast<std::size_t>(k - m * P),
            static_cast<std::size_t>(a - w), payload, static_cast<std::size_t>(a - v),
            static_cast<std::size_t>(z - a));
  }
}

void VrtAssembler::lose(std::int64_t from, std::int64_t to, CpiDrop cause) {
  if (to <= from || !have_base_) return;
  const auto P = static_cast<std::int64_t>(P_), N = static_cast<std::int64_t>(N_);
  std::int64_t m_a = 0, m_b = 0;
  if (gated_) {
    m_a = floor_div(floor_div(from, N) + k0_, P);
    m_b = floor_div(floor_div(to - 1, N) + k0_, P);
  } else {
    // The windows the missing samples touch (samples between windows cost nothing).
    std::int64_t ka = std::max<std::int64_t>(
        0, static_cast<std::int64_t>(std::floor((from - t0_fs_) / pri_fs_)) - 1);
    while (window_start(ka) + N <= from) ++ka;
    std::int64_t kb = ka;
    if (window_start(kb) >= to) return;
    while (window_start(kb + 1) < to) ++kb;
    m_a = ka / P;
    m_b = kb / P;
  }
  m_a = std::max<std::int64_t>(m_a, static_cast<std::int64_t>(base_));
  for (std::int64_t m = m_a; m <= m_b; ++m) {
    const auto at = static_cast<std::uint64_t>(m) - base_;
    if (at > static_cast<std::uint64_t>(4 * kJumpCpis)) break;
    while (slots_.size() <= at) slots_.emplace_back();
    Slot& sl = slots_[at];
    if (sl.state == Slot::Empty || sl.state == Slot::Open) {
      if (sl.buffer) release_(sl.buffer);
      sl.buffer = nullptr;
      sl.state = Slot::Dead;
      frames_.drop(cause);
    }
  }
  finish_front();
}

void VrtAssembler::finish_front() {
  while (!slots_.empty()) {
    Slot& f = slots_.front();
    if (f.state == Slot::Done) {
      f.buffer = nullptr;
      frames_.cpis_assembled.fetch_add(1, std::memory_order_relaxed);
      const AssembledCpi cpi = f.cpi;
      slots_.pop_front();
      ++base_;
      emit_(cpi);
    } else if (f.state == Slot::Dead) {
      slots_.pop_front();
      ++base_;
    } else {
      break;
    }
  }
}

void VrtAssembler::retire_lagging(std::int64_t lead_v) {
  // A CPI the leading channel has left far behind will not be completed by the others: one of
  // them lost its samples, or stopped.
  bool any = false;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& sl = slots_[i];
    if (sl.state == Slot::Done || sl.state == Slot::Dead) continue;
    if (cpi_start(base_ + i + 1) + lag_limit_ > lead_v) break;
    if (sl.buffer) release_(sl.buffer);
    sl.buffer = nullptr;
    sl.state = Slot::Dead;
    frames_.drop(CpiDrop::SequenceGap);
    any = true;
  }
  if (any) finish_front();
}

void VrtAssembler::reset(CpiDrop cause) {
  abort(cause);
  have_base_ = false;
  if (mode_.input.vrt.epoch != VrtEpoch::Time) have_epoch_ = false;
  for (Stream& s : streams_) {
    s.positioned = false;
    s.resync_n = 0;
  }
}

void VrtAssembler::abort(CpiDrop cause) {
  for (Slot& sl : slots_) {
    if (sl.state == Slot::Open || sl.state == Slot::Done) {
      release_(sl.buffer);
      frames_.drop(cause);
    }
  }
  slots_.clear();
}

void VrtAssembler::end_of_stream() {
  reset(CpiDrop::StreamEnd);
}

}  // namespace radarpipe::stream
