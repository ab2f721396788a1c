#include "pipeline/stream/vrt_replay.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"
#include "io/vrt.hpp"
#include "io/vrt_socket.hpp"
#include "pipeline/commands/process.hpp"

namespace radarpipe::stream {

namespace vrt = io::vrt;

namespace {

// DIFI (IEEE-ISTO 4900-2021) constants: its OUI in every class ID, the standard data and context
// packet class codes, the reference point and the default state and event indicators
// (calibrated time and reference lock, both enabled and set).
constexpr std::uint32_t kDifiOui = 0x6A621E;
constexpr std::uint16_t kDifiDataClass = 0x0000, kDifiContextClass = 0x0001;
constexpr std::uint32_t kDifiReferencePoint = 0x64;
constexpr std::uint32_t kDifiStateEvent = 0xA00A0000;

vrt::PayloadFormat format_named(const std::string& name) {
  if (name == "difi") return vrt::PayloadFormat::difi(16);
  if (name == "sc8") return vrt::PayloadFormat::sc8();
  if (name == "sc12") return vrt::PayloadFormat::sc12();
  if (name == "sc16") return vrt::PayloadFormat::sc16();
  if (name == "cf32") return vrt::PayloadFormat::cf32();
  throw std::invalid_argument("--vrt-format: '" + name + "' is not difi, sc8, sc12, sc16 or cf32");
}

// A UTC time as VRT integer seconds and picoseconds: `ns` plus `offset_s`.
void split_time(std::int64_t ns, double offset_s, std::uint32_t& seconds, std::uint64_t& ps) {
  std::int64_t s = ns / 1000000000, sub = ns % 1000000000;
  if (sub < 0) sub += 1000000000, --s;
  std::int64_t p = sub * 1000 + std::llround(offset_s * 1e12);
  s += p / 1000000000000;
  p %= 1000000000000;
  if (p < 0) p += 1000000000000, --s;
  seconds = static_cast<std::uint32_t>(std::max<std::int64_t>(0, s));
  ps = static_cast<std::uint64_t>(p);
}

}  // namespace

struct VrtReplayer::Impl {
  ReplayOptions opt;
  VrtReplayOptions vo;
  std::unique_ptr<io::SigmfReader> reader;
  ResolvedMode mode;
  std::unique_ptr<io::RecordingCpiSource> source;
  std::unique_ptr<io::VrtSender> sender;
  vrt::PayloadFormat format;
  float scale = 1.0f;
  std::vector<std::uint32_t> ids;
};

VrtReplayer::VrtReplayer(ReplayOptions options, VrtReplayOptions vrt_options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.opt = std::move(options);
  m.vo = vrt_options;
  m.format = format_named(m.vo.format);
  if (m.vo.max_packet_bytes < 64 || m.vo.max_packet_bytes > 65507)
    throw std::invalid_argument("--max-packet-bytes: " + std::to_string(m.vo.max_packet_bytes) +
                                " is not in [64, 65507]");
  ReplayRecording rec = open_replay_recording(m.opt);
  m.reader = std::move(rec.reader);
  m.mode = std::move(rec.mode);
  m.source = std::move(rec.source);
  const Mode& mode = m.mode.mode;
  if (!m.vo.timing_given) m.vo.timing = mode.input.vrt.timing;
  const std::size_t C = mode.radar.channels;
  if (!mode.input.vrt.stream_ids.empty()) {
    m.ids = mode.input.vrt.stream_ids;
  } else {
    for (std::size_t c = 0; c < C; ++c)
      m.ids.push_back(m.opt.stream_id + static_cast<std::uint32_t>(c));
  }
  // One LSB: the recording's own for integer recordings, else the first CPI's peak at full
  // scale.
  if (m.format.item_format != 0x0E) {
    const io::SampleFormat& f = m.reader->meta().format;
    const unsigned bits = m.format.item_bits;
    if (f.kind == 'i' && static_cast<unsigned>(f.bits) <= bits) {
      m.scale = m.reader->meta().sample_scale();
    } else {
      Cpi cpi;
      m.source->read(0, cpi);
      float peak = 0.0f;
      for (const cf32& z : cpi.samples)
        peak = std::max({peak, std::fabs(z.real()), std::fabs(z.imag())});
      const float full = static_cast<float>((1u << (bits - 1)) - 1u);
      m.scale = peak > 0.0f ? peak / full : 1.0f;
    }
  }
  m.sender = std::make_unique<io::VrtSender>(io::parse_vrt_endpoint(m.opt.to, true, "--to"));
}

VrtReplayer::~VrtReplayer() = default;

const std::string& VrtReplayer::endpoint() const {
  return impl_->sender->endpoint();
}

std::size_t VrtReplayer::cpis_in_recording() const {
  return impl_->source->slots().size();
}

float VrtReplayer::scale() const {
  return impl_->scale;
}

ReplaySummary VrtReplayer::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  using clock = std::chrono::steady_clock;
  const Mode& mode = m.mode.mode;
  const std::size_t C = mode.radar.channels, P = mode.processing.pulses, N = mode.radar.range_gates;
  const double pri = mode.radar.pri_s, fs = mode.radar.sample_rate_hz,
               t0 = mode.radar.window_start_s;
  const auto& slots = m.source->slots();
  const bool gated = m.vo.timing == PulseTiming::Gated;
  ReplaySummary sum;

  // Samples per packet: what fits after the prologue (7 words, 5 without a class ID) and an
  // optional trailer.
  const std::size_t room =
      m.vo.max_packet_bytes - (m.vo.class_id ? 28 : 20) - (m.vo.trailer ? 4 : 0);
  std::size_t S = room * 8 / m.format.sample_bits();
  while (S > 1 && vrt::payload_bytes(m.format, S) > room) --S;

  std::vector<unsigned char> packet(m.vo.max_packet_bytes + 64), payload(m.vo.max_packet_bytes);
  std::vector<cf32> scaled(S);
  std::vector<std::uint8_t> data_count(C, 0), context_count(C, 0);
  vrt::Prologue pro;
  pro.type = vrt::PacketType::SignalWithStream;
  pro.class_id = vrt::ClassId{0, kDifiOui, 0, kDifiDataClass};
  pro.tsi = vrt::Tsi::Other;  // DIFI: POSIX seconds
  pro.tsf = vrt::Tsf::RealTime;
  pro.not_v49_0 = false;
  std::optional<vrt::Trailer> trailer;
  if (m.vo.trailer) {
    vrt::Trailer t;
    t.set(vrt::Trailer::ValidData, true);
    t.set(vrt::Trailer::CalibratedTime, true);
    trailer = t;
  }
  const float inv = m.format.item_format == 0x0E ? 1.0f : 1.0f / m.scale;

  auto send = [&](std::size_t bytes) {
    if (bytes == 0) throw std::logic_error("a VRT packet did not fit its buffer");
    if (!m.sender->send(packet.data(), bytes)) return false;
    ++sum.frames;
    sum.bytes += bytes;
    return true;
  };
  auto send_context = [&](std::size_t c, std::int64_t ns, double frequency_hz) {
    vrt::Prologue cp = pro;
    cp.type = vrt::PacketType::Context;
    if (m.vo.class_id)
      cp.class_id = vrt::ClassId{0, kDifiOui, 0, kDifiContextClass};
    else
      cp.class_id.reset();
    cp.bit24 = true;  // TSM: the timestamp is that of the context's event (DIFI)
    cp.stream_id = m.ids[c];
    cp.count = context_count[c]++;
    split_time(ns, 0.0, cp.integer_seconds, cp.fractional);
    vrt::Context ctx;
    ctx.changed = true;
    ctx.reference_point = kDifiReferencePoint;
    ctx.bandwidth_hz = fs;
    ctx.if_reference_hz = 0.0;
    ctx.rf_reference_hz = frequency_hz > 0 ? frequency_hz : mode.radar.center_frequency_hz;
    ctx.if_band_offset_hz = 0.0;
    ctx.reference_level_dbm = 0.0;
    ctx.gain1_db = 0.0;
    ctx.gain2_db = 0.0;
    ctx.sample_rate_hz = fs;
    ctx.timestamp_adjustment_fs = 0;
    ctx.timestamp_calibration_s = 0;
    ctx.state_event = kDifiStateEvent;
    ctx.payload_format = m.format;
    return send(vrt::encode_context(cp, ctx, packet.data(), packet.size()));
  };
  // One data packet of stream c: n samples from `from` (nullptr: zeros), its first at `ns` +
  // offset_s.
  auto send_data = [&](std::size_t c, const cf32* from, std::size_t n, std::int64_t ns,
                       double offset_s) {
    for (std::size_t i = 0; i < n; ++i) scaled[i] = from ? from[i] * inv : cf32{};
    const std::size_t pb = vrt::payload_bytes(m.format, n);
    vrt::encode_payload(m.format, scaled.data(), n, payload.data());
    vrt::Prologue dp = pro;
    dp.stream_id = m.ids[c];
    dp.count = data_count[c]++;
    if (m.vo.class_id)
      dp.class_id->pad_bits = static_cast<std::uint8_t>(pb * 8 - n * m.format.sample_bits());
    else
      dp.class_id.reset();
    split_time(ns, offset_s, dp.integer_seconds, dp.fractional);
    return send(vrt::encode_data(dp, payload.data(), pb, trailer, packet.data(), packet.size()));
  };

  while (!stop.load() && !m.sender->wait_receiver(100)) {
  }
  const auto start = clock::now();
  Pacer pacer(m.opt.rate, pri, sum);
  auto pace = [&](double stream_s) { pacer.wait(stream_s); };

  const double recording_s = static_cast<double>(slots.size() * P) * pri;
  const std::int64_t epoch_ns = slots.front().timestamp_ns;
  std::int64_t cursor = 0;  // continuous: the next sample of the stream, from pulse 0 of CPI 0
  Cpi cpi;
  bool ok = true, done = false;
  for (std::uint64_t pass = 0; ok && !done && !stop.load(); ++pass) {
    for (std::size_t k = 0; ok && k < slots.size() && !stop.load(); ++k) {
      if (m.opt.max_cpis && sum.cpis >= m.opt.max_cpis) {
        done = true;
        break;
      }
      m.source->read(k, cpi);
      const io::CpiSlot& slot = slots[k];
      const double pass_s = static_cast<double>(pass) * recording_s;
      const std::int64_t cpi_ns = slot.timestamp_ns + std::llround(pass_s * 1e9);
      const double cpi_rel_s = pass_s + static_cast<double>(slot.timestamp_ns - epoch_ns) * 1e-9;
      pace(cpi_rel_s);
      for (std::size_t c = 0; ok && c < C; ++c)
        ok = send_context(c, cpi_ns, slot.frequency_hz ? *slot.frequency_hz : 0.0);
      if (gated) {
        for (std::size_t p = 0; ok && p < P && !stop.load(); ++p) {
          pace(cpi_rel_s + static_cast<double>(p) * pri);
          for (std::size_t c = 0; ok && c < C; ++c)
            for (std::size_t g = 0; ok && g < N; g += S)
              ok = send_data(c, cpi.row(c, p) + g, std::min(S, N - g), cpi_ns,
                             static_cast<double>(p) * pri + t0 + static_cast<double>(g) / fs);
        }
      } else {
        // The CPIs back to back from the first one's time: window q (of the whole stream) at
        // llround(q PRI fs + t0 fs), zeros between windows.
        // CPIs keep their numbers (a live recording's gaps stay gaps: the stream jumps).
        const std::uint64_t cpi_index =
            pass * (slots.back().cpi - slots.front().cpi + 1) + slot.cpi - slots.front().cpi;
        auto window = [&](std::uint64_t q) {
          return std::llround(static_cast<long double>(q) * pri * fs +
                              static_cast<long double>(t0) * fs);
        };
        const std::uint64_t q0 = cpi_index * P;
        const std::int64_t end = window(q0 + P - 1) + static_cast<std::int64_t>(N);
        if (k > 0 && slot.cpi != slots[k - 1].cpi + 1)
          cursor = std::max<std::int64_t>(cursor, window(q0));
        std::vector<cf32> buf(S);
        while (ok && cursor < end && !stop.load()) {
          const std::size_t n = static_cast<std::size_t>(
              std::min<std::int64_t>(static_cast<std::int64_t>(S), end - cursor));
          pace(static_cast<double>(cursor) / fs);
          for (std::size_t c = 0; ok && c < C; ++c) {
            std::fill(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n), cf32{});
            for (std::uint64_t p = 0; p < P; ++p) {
              const std::int64_t w = window(q0 + p);
              const std::int64_t a = std::max(cursor, w);
              const std::int64_t z =
                  std::min(cursor + static_cast<std::int64_t>(n), w + static_cast<std::int64_t>(N));
              if (a >= z) continue;
              std::copy(cpi.row(c, p) + (a - w), cpi.row(c, p) + (z - w),
                        buf.begin() + (a - cursor));
            }
            ok = send_data(c, buf.data(), n, epoch_ns, static_cast<double>(cursor) / fs);
          }
          cursor += static_cast<std::int64_t>(n);
        }
      }
      if (ok && !stop.load()) ++sum.cpis;
    }
    if (!m.opt.loop) done = true;
  }
  sum.seconds = std::chrono::duration<double>(clock::now() - start).count();
  return sum;
}

}  // namespace radarpipe::stream
