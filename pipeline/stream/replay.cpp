#include "pipeline/stream/replay.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "io/le.hpp"
#include "io/recording_source.hpp"
#include "io/sigmf_file.hpp"
#include "pipeline/commands/process.hpp"
#include "pipeline/stream/endpoint.hpp"
#include "pipeline/stream/link_security.hpp"

namespace radarpipe::stream {

void Pacer::wait(double stream_s) {
  using clock = std::chrono::steady_clock;
  if (rate_ <= 0.0) return;
  const auto due = start_ + std::chrono::duration_cast<clock::duration>(
                                std::chrono::duration<double>(stream_s / rate_));
  const auto now = clock::now();
  if (now < due) {
    std::this_thread::sleep_until(due);
  } else {
    const double late = std::chrono::duration<double>(now - due).count();
    if (late > late_after_s_) ++sum_.late_frames;
    sum_.max_late_s = std::max(sum_.max_late_s, late);
  }
}

ReplayRecording open_replay_recording(const ReplayOptions& opt) {
  if (!(opt.rate >= 0.0) || !std::isfinite(opt.rate))
    throw std::invalid_argument("--rate: " + std::to_string(opt.rate) +
                                " is not realtime, max or a factor > 0");
  ReplayRecording r;
  io::SigmfReadOptions ro;
  ro.verify_checksum = opt.verify_checksum;
  r.reader = std::make_unique<io::SigmfReader>(opt.input, ro);
  r.mode = mode_for_recording(*r.reader, opt.mode_path);
  const Mode& mode = r.mode.mode;
  r.source = std::make_unique<io::RecordingCpiSource>(*r.reader, mode.processing.pulses,
                                                      mode.radar.range_gates, mode.radar.pri_s);
  if (r.source->slots().empty())
    throw std::invalid_argument(opt.input + ": holds no whole CPI of " +
                                std::to_string(mode.processing.pulses) + " pulses x " +
                                std::to_string(mode.radar.range_gates) + " gates to replay");
  return r;
}

struct Replayer::Impl {
  ReplayOptions opt;
  std::unique_ptr<io::SigmfReader> reader;
  ResolvedMode mode;
  std::unique_ptr<io::RecordingCpiSource> source;
  std::unique_ptr<LinkSecurity> security;  // outlives the socket
  zmq::socket_t sock;
  std::string endpoint;
  float ci16_scale = 1.0f;
};

Replayer::Replayer(zmq::context_t& ctx, ReplayOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.opt = std::move(options);
  if (m.opt.pulses_per_frame < 1 || m.opt.pulses_per_frame > io::kIqMaxPulses)
    throw std::invalid_argument("--pulses-per-frame: " + std::to_string(m.opt.pulses_per_frame) +
                                " is not in [1, " + std::to_string(io::kIqMaxPulses) + "]");
  ReplayRecording rec = open_replay_recording(m.opt);
  m.reader = std::move(rec.reader);
  m.mode = std::move(rec.mode);
  m.source = std::move(rec.source);
  const io::SampleFormat& f = m.reader->meta().format;
  m.ci16_scale = f.kind == 'i' && f.bits == 16 ? m.reader->meta().sample_scale() : 0.0f;

  const SecurityConfig base = m.opt.mode_path ? m.mode.mode.security : SecurityConfig{};
  m.security = std::make_unique<LinkSecurity>(ctx, base.overridden_by(m.opt.security),
                                              "radarpipe replay", std::cerr);
  m.sock = zmq::socket_t(ctx, zmq::socket_type::push);
  m.sock.set(zmq::sockopt::sndhwm, 64);
  m.sock.set(zmq::sockopt::linger, m.opt.linger_ms);
  const Endpoint e = parse_endpoint(m.opt.to, true, "--to");
  m.endpoint = attach(m.sock, e, "--to", *m.security);
}

Replayer::~Replayer() = default;

const std::string& Replayer::endpoint() const {
  return impl_->endpoint;
}

std::size_t Replayer::cpis_in_recording() const {
  return impl_->source->slots().size();
}

std::string Replayer::mode_origin() const {
  return impl_->mode.origin;
}

namespace {
// Components to little-endian int16 LSBs (value / scale), rounded to nearest (ties to even),
// saturated at -32768 and 32767, NaN to 0. Rounding by adding and taking away 1.5 x 2^23,
// exact for |x| <= 2^22 in float arithmetic, so the loop vectorises (lround was a library call
// per component, 10 ns, the replay's limit on a 2-core machine). The host is little-endian.
void quantize_ci16(const float* __restrict in, std::size_t n, float scale,
                   unsigned char* __restrict out) {
  constexpr float kRound = 12582912.0f;  // 1.5 x 2^23
  for (std::size_t i = 0; i < n; ++i) {
    float x = in[i] / scale;
    x = x == x ? x : 0.0f;
    x = x < -32768.0f ? -32768.0f : (x > 32767.0f ? 32767.0f : x);
    const auto v = static_cast<std::int16_t>((x + kRound) - kRound);
    std::memcpy(out + 2 * i, &v, 2);
  }
}
}  // namespace

ReplaySummary Replayer::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  using clock = std::chrono::steady_clock;
  const Mode& mode = m.mode.mode;
  const std::size_t C = mode.radar.channels, P = mode.processing.pulses, N = mode.radar.range_gates;
  const double pri = mode.radar.pri_s;
  const auto& slots = m.source->slots();
  const bool ci16 = m.opt.datatype == io::IqDatatype::Ci16Le;
  ReplaySummary sum;
  Cpi cpi;
  io::IqFrameHeader h;
  h.stream_id = m.opt.stream_id;
  h.gates = static_cast<std::uint32_t>(N);
  h.channels = static_cast<std::uint32_t>(C);
  h.datatype = m.opt.datatype;

  // Blocks until the frame is queued (a receiver is there and under its high-water mark) or
  // `stop`.
  auto send = [&](const io::IqFrameHeader& hdr, zmq::message_t& payload) {
    const auto head = io::encode_iq_header(hdr);
    for (;;) {
      zmq::message_t hm(head.data(), head.size());
      if (m.sock.send(hm, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        m.sock.send(payload, zmq::send_flags::none);
        ++sum.frames;
        sum.bytes += head.size() + hdr.payload_bytes();
        return true;
      }
      if (stop.load()) return false;
      zmq::pollitem_t item{static_cast<void*>(m.sock), 0, ZMQ_POLLOUT, 0};
      poll_some(&item, 1, 50);
    }
  };

  // The payload of frame `p0` of CPI k (pulses p0 .. p0 + n_p - 1), encoded from `cpi`.
  auto encode = [&](const Cpi& cube, std::size_t p0, std::size_t n_p, float scale,
                    unsigned char* out) {
    for (std::size_t i = 0; i < n_p; ++i)
      for (std::size_t c = 0; c < C; ++c) {
        const cf32* row = cube.row(c, p0 + i);
        unsigned char* dst = out + ((i * C + c) * N) * io::bytes_per_sample(h.datatype);
        if (!ci16) {
          std::memcpy(dst, row, N * sizeof(cf32));
          continue;
        }
        quantize_ci16(reinterpret_cast<const float*>(row), 2 * N, scale, dst);
      }
  };
  auto scale_of = [&](const Cpi& cube) {
    if (!ci16) return 1.0f;
    if (!(m.ci16_scale > 0.0f)) {
      // Not an integer recording: one LSB from the first CPI's peak component.
      float peak = 0.0f;
      for (const cf32& z : cube.samples)
        peak = std::max({peak, std::fabs(z.real()), std::fabs(z.imag())});
      m.ci16_scale = peak > 0.0f ? peak / 32767.0f : 1.0f;
    }
    return m.ci16_scale;
  };
  const std::size_t frames_per_cpi = (P + m.opt.pulses_per_frame - 1) / m.opt.pulses_per_frame;
  // With preload, every frame's payload is encoded before the first is sent (reading and
  // encoding then cost nothing while sending; memory: the CPIs sent, as frames).
  std::vector<std::vector<unsigned char>> preloaded;
  std::vector<float> preloaded_scale;
  if (m.opt.preload) {
    const std::size_t cpis =
        m.opt.max_cpis ? std::min<std::size_t>(m.opt.max_cpis, slots.size()) : slots.size();
    for (std::size_t k = 0; k < cpis && !stop.load(); ++k) {
      m.source->read(k, cpi);
      const float scale = scale_of(cpi);
      preloaded_scale.push_back(scale);
      for (std::size_t p0 = 0; p0 < P; p0 += m.opt.pulses_per_frame) {
        const std::size_t n_p = std::min(m.opt.pulses_per_frame, P - p0);
        preloaded.emplace_back(n_p * C * N * io::bytes_per_sample(h.datatype));
        encode(cpi, p0, n_p, scale, preloaded.back().data());
      }
    }
  }

  // Wait for a receiver, then start the clock.
  while (!stop.load()) {
    zmq::pollitem_t item{static_cast<void*>(m.sock), 0, ZMQ_POLLOUT, 0};
    if (poll_some(&item, 1, 50) > 0) break;
  }
  const auto t0 = clock::now();
  Pacer pacer(m.opt.rate, pri, sum);
  std::uint64_t sequence = 0, pulse = 0;
  const double recording_s = static_cast<double>(slots.size() * P) * pri;
  bool done = false;
  for (std::uint64_t pass = 0; !done && !stop.load(); ++pass) {
    for (std::size_t k = 0; k < slots.size() && !stop.load(); ++k) {
      if (m.opt.max_cpis && sum.cpis >= m.opt.max_cpis) {
        done = true;
        break;
      }
      const bool from_memory = k < preloaded_scale.size();
      float scale = 1.0f;
      if (from_memory) {
        scale = preloaded_scale[k];
      } else {
        m.source->read(k, cpi);
        scale = scale_of(cpi);
      }
      const io::CpiSlot& slot = slots[k];
      // Pulses are numbered by the CPI's own number (a live recording's keep their gaps), on
      // from the pass before.
      pulse = (pass * (slots.back().cpi + 1) + slot.cpi) * P;
      for (std::size_t p0 = 0; p0 < P && !stop.load(); p0 += m.opt.pulses_per_frame) {
        const std::size_t n_p = std::min(m.opt.pulses_per_frame, P - p0);
        h.sequence = sequence++;
        h.first_pulse = pulse + p0;
        h.pulses = static_cast<std::uint32_t>(n_p);
        h.scale = ci16 ? scale : 1.0f;
        h.center_frequency_hz = slot.frequency_hz ? *slot.frequency_hz : 0.0;
        h.timestamp_ns =
            slot.timestamp_ns +
            std::llround((static_cast<double>(pass) * recording_s + static_cast<double>(p0) * pri) *
                         1e9);
        zmq::message_t payload(h.payload_bytes());
        if (from_memory) {
          const auto& bytes = preloaded[k * frames_per_cpi + p0 / m.opt.pulses_per_frame];
          std::memcpy(payload.data(), bytes.data(), bytes.size());
        } else {
          encode(cpi, p0, n_p, scale, static_cast<unsigned char*>(payload.data()));
        }
        pacer.wait(static_cast<double>(h.first_pulse) * pri);
        if (!send(h, payload)) break;
      }
      pulse += P;  // the end-of-stream frame's, after the last CPI
      if (!stop.load()) ++sum.cpis;
    }
    if (!m.opt.loop) done = true;
  }
  if (!stop.load()) {
    io::IqFrameHeader end = h;
    end.sequence = sequence++;
    end.first_pulse = pulse;
    end.pulses = 0;
    end.flags = io::kIqEndOfStream;
    zmq::message_t empty;
    send(end, empty);
  }
  sum.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  return sum;
}

}  // namespace radarpipe::stream
