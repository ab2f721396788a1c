// CPI assembly from IQ frames, without sockets: frames of any size that straddle CPIs rebuild
// the source cubes exactly; every way a CPI can break drops exactly that CPI, counted by cause,
// and the next CPI is right again.
#include "pipeline/stream/assembler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "pipeline/stream/buffer_pool.hpp"

namespace radarpipe::stream {
namespace {

Mode small_mode(std::size_t channels) {
  Mode m;
  m.radar.range_gates = 48;
  m.radar.channels = channels;
  m.radar.waveform.pulse_width_s = 1e-6;
  m.radar.waveform.bandwidth_hz = 5e6;
  m.radar.pri_s = 100.000001e-6;  // not a whole number of ns: timestamps must round, not drift
  m.processing.pulses = 8;
  m.processing.doppler_fft_size = 8;
  m.processing.cfar.train_doppler = 2;
  m.processing.cfar.guard_doppler = 1;
  return m;
}

// The stream: pulse k, channel c, gate n has a value no other sample has.
cf32 sample(std::uint64_t k, std::size_t c, std::size_t n) {
  return cf32(static_cast<float>(k) + 0.001f * static_cast<float>(n),
              static_cast<float>(c) - 0.5f * static_cast<float>(n));
}

constexpr std::int64_t kT0 = 1767225600000000000LL;

struct Frame {
  std::array<unsigned char, io::kIqHeaderBytes> header;
  std::vector<unsigned char> payload;
};

// A frame of pulses [first, first + count) with sequence `seq`.
Frame make_frame(const Mode& m, std::uint64_t seq, std::uint64_t first, std::uint32_t count,
                 io::IqDatatype dt = io::IqDatatype::Cf32Le, std::uint32_t stream = 1) {
  io::IqFrameHeader h;
  h.stream_id = stream;
  h.sequence = seq;
  h.first_pulse = first;
  h.pulses = count;
  h.gates = static_cast<std::uint32_t>(m.radar.range_gates);
  h.channels = static_cast<std::uint32_t>(m.radar.channels);
  h.datatype = dt;
  h.scale = dt == io::IqDatatype::Ci16Le ? 0.5f : 1.0f;
  h.timestamp_ns = kT0 + std::llround(static_cast<double>(first) * m.radar.pri_s * 1e9);
  Frame f{io::encode_iq_header(h), std::vector<unsigned char>(h.payload_bytes())};
  for (std::uint32_t i = 0; i < count; ++i)
    for (std::size_t c = 0; c < m.radar.channels; ++c)
      for (std::size_t n = 0; n < m.radar.range_gates; ++n) {
        const std::size_t idx = (i * m.radar.channels + c) * m.radar.range_gates + n;
        const cf32 z = sample(first + i, c, n);
        if (dt == io::IqDatatype::Cf32Le) {
          std::memcpy(f.payload.data() + 8 * idx, &z, 8);
        } else {  // integers that survive the 0.5 LSB exactly
          const auto re = static_cast<std::int16_t>(2 * ((first + i) % 1000) + n);
          const auto im = static_cast<std::int16_t>(-static_cast<int>(c) - static_cast<int>(n));
          std::memcpy(f.payload.data() + 4 * idx, &re, 2);
          std::memcpy(f.payload.data() + 4 * idx + 2, &im, 2);
        }
      }
  return f;
}

struct Harness {
  Mode mode;
  BufferPool pool;
  AssemblerCounters counters;
  std::vector<AssembledCpi> out;
  CpiAssembler assembler;
  bool starve = false;

  explicit Harness(const Mode& m, std::size_t buffers = 64)
      : mode(m),
        pool(buffers, m.radar.channels * m.processing.pulses * m.radar.range_gates * 8),
        assembler(
            m, counters, [this] { return starve ? nullptr : pool.try_acquire(); },
            [this](void* b) { pool.release(b); },
            [this](const AssembledCpi& a) { out.push_back(a); }) {}

  CpiAssembler::Result push(const Frame& f) {
    return assembler.push(f.header.data(), f.header.size(), f.payload.data(), f.payload.size());
  }
  // CPI k as the stream defines it.
  void expect_cpi(const AssembledCpi& a, std::uint64_t k) const {
    EXPECT_EQ(a.cpi, k);
    const std::size_t P = mode.processing.pulses, N = mode.radar.range_gates;
    EXPECT_EQ(a.timestamp_ns,
              kT0 + std::llround(static_cast<double>(k * P) * mode.radar.pri_s * 1e9));
    const cf32* cube = static_cast<const cf32*>(a.buffer);
    for (std::size_t c = 0; c < mode.radar.channels; ++c)
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t n = 0; n < N; ++n)
          ASSERT_EQ(cube[(c * P + p) * N + n], sample(k * P + p, c, n))
              << "CPI " << k << " c " << c << " p " << p << " n " << n;
  }
  std::uint64_t dropped(CpiDrop d) const { return counters.dropped[static_cast<int>(d)].load(); }
};

TEST(CpiAssembler, FramesOfAnySizeRebuildTheCubes) {
  for (std::size_t channels : {1u, 3u}) {
    Harness h(small_mode(channels));
    std::mt19937_64 rng(channels);
    std::uniform_int_distribution<std::uint32_t> size(1, 11);  // straddles the 8-pulse CPIs
    std::uint64_t pulse = 0, seq = 0;
    while (pulse < 8 * 20) {
      const std::uint32_t n = size(rng);
      ASSERT_TRUE(h.push(make_frame(h.mode, seq++, pulse, n)).check.ok());
      pulse += n;
    }
    ASSERT_EQ(h.out.size(), 20u);
    for (std::size_t k = 0; k < 20; ++k) h.expect_cpi(h.out[k], k);
    EXPECT_EQ(h.counters.cpis_dropped.load(), 0u);
    EXPECT_EQ(h.counters.cpis_assembled.load(), 20u);
  }
}

TEST(CpiAssembler, Ci16FramesAreScaled) {
  Harness h(small_mode(2));
  ASSERT_TRUE(h.push(make_frame(h.mode, 0, 0, 8, io::IqDatatype::Ci16Le)).check.ok());
  ASSERT_EQ(h.out.size(), 1u);
  const cf32* cube = static_cast<const cf32*>(h.out[0].buffer);
  const std::size_t P = 8, N = 48;
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t n = 0; n < N; ++n)
        ASSERT_EQ(cube[(c * P + p) * N + n],
                  cf32(0.5f * static_cast<float>(2 * p + n), -0.5f * static_cast<float>(c + n)));
}

TEST(CpiAssembler, ASkippedFrameDropsItsCpiOnly) {
  Harness h(small_mode(1));
  std::uint64_t seq = 0;
  for (std::uint64_t p = 0; p < 8 * 6; p += 4) {
    const std::uint64_t s = seq++;
    if (p == 8 * 2 + 4) continue;  // the second half of CPI 2 never comes
    h.push(make_frame(h.mode, s, p, 4));
  }
  ASSERT_EQ(h.out.size(), 5u);
  const std::uint64_t want[] = {0, 1, 3, 4, 5};
  for (std::size_t i = 0; i < 5; ++i) h.expect_cpi(h.out[i], want[i]);
  EXPECT_EQ(h.dropped(CpiDrop::SequenceGap), 1u);
  EXPECT_EQ(h.counters.cpis_dropped.load(), 1u);
  EXPECT_EQ(h.counters.sequence_gaps.load(), 1u);
  EXPECT_EQ(h.counters.frames_missing.load(), 1u);

  // A gap that swallows the start of a CPI: the rest of that CPI is discarded, not counted as a
  // second drop, and the CPI after it is whole.
  Harness g(small_mode(1));
  g.push(make_frame(g.mode, 0, 0, 6));
  g.push(make_frame(g.mode, 3, 10, 6));  // pulses 6..9 (frames 1, 2) lost
  g.push(make_frame(g.mode, 4, 16, 8));
  ASSERT_EQ(g.out.size(), 1u);
  g.expect_cpi(g.out[0], 2);
  EXPECT_EQ(g.dropped(CpiDrop::SequenceGap), 1u);
  EXPECT_EQ(g.counters.frames_missing.load(), 2u);
  EXPECT_EQ(g.counters.pulses_discarded.load(), 6u);  // 10..15 of CPI 1
}

// A pulse-index jump drops its CPI. A frame of the stream that is rejected (truncated) drops
// its CPI when the next frame shows its sequence number missing (cause rejected_frame, not
// counted as lost on the way); a rejected frame of no known stream (wrong shape) leaves the CPI
// in assembly alone.
TEST(CpiAssembler, PulseJumpsAndRejectedFrames) {
  Harness h(small_mode(1));
  h.push(make_frame(h.mode, 0, 0, 4));
  h.push(make_frame(h.mode, 1, 5, 3));  // in sequence, but pulse 4 is missing
  EXPECT_EQ(h.dropped(CpiDrop::PulseGap), 1u);
  h.push(make_frame(h.mode, 2, 8, 4));
  Frame bad = make_frame(h.mode, 3, 12, 4);
  bad.payload.pop_back();  // truncated
  EXPECT_EQ(h.push(bad).check.reject, io::FrameReject::PayloadSize);
  EXPECT_EQ(h.counters.cpis_dropped.load(), 1u);     // CPI 1 waits: whose frame was it?
  h.push(make_frame(h.mode, 4, 16, 8));              // frame 3 missing: it was ours
  EXPECT_EQ(h.dropped(CpiDrop::RejectedFrame), 1u);  // CPI 1
  EXPECT_EQ(h.counters.frames_missing.load(), 0u);
  ASSERT_EQ(h.out.size(), 1u);
  h.expect_cpi(h.out[0], 2);
  h.push(make_frame(h.mode, 5, 24, 4));
  Frame wrong = make_frame(small_mode(2), 1, 8, 8);
  EXPECT_EQ(h.push(wrong).check.reject, io::FrameReject::Shape);
  EXPECT_NE(h.push(wrong).check.message.find("frame of 2 channels x 48 gates, the mode has 1"),
            std::string::npos);
  h.push(make_frame(h.mode, 6, 28, 4));  // CPI 3 completes: the stranger's frames broke nothing
  ASSERT_EQ(h.out.size(), 2u);
  h.expect_cpi(h.out[1], 3);
  EXPECT_EQ(h.counters.cpis_dropped.load(), 2u);
  EXPECT_EQ(h.counters.frames_rejected.load(), 3u);  // payload, shape x2
}

// One stream at a time (docs/streaming.md "Assembly"): a stranger's frames (another stream id)
// and an absurd sequence number are rejected, counted, and change nothing for the stream being
// received; after its end-of-stream another stream may start; a restarted sender (sequence back
// to 0) is followed once eight of its frames in a row confirm it; repeats are rejected.
TEST(CpiAssembler, OneStreamAtATime) {
  Harness h(small_mode(1));
  h.push(make_frame(h.mode, 0, 0, 4));
  EXPECT_EQ(h.push(make_frame(h.mode, 0, 0, 8, io::IqDatatype::Cf32Le, 2)).check.reject,
            io::FrameReject::Stream);
  EXPECT_EQ(h.push(make_frame(h.mode, std::uint64_t{1} << 62, 4, 4)).check.reject,
            io::FrameReject::Sequence);
  h.push(make_frame(h.mode, 1, 4, 4));  // the real stream goes on: CPI 0 whole
  h.push(make_frame(h.mode, 2, 8, 8));  // CPI 1 whole: the absurd sequence moved nothing
  ASSERT_EQ(h.out.size(), 2u);
  h.expect_cpi(h.out[0], 0);
  h.expect_cpi(h.out[1], 1);
  EXPECT_EQ(h.counters.cpis_dropped.load(), 0u);
  EXPECT_EQ(h.counters.rejected[static_cast<int>(io::FrameReject::Stream)].load(), 1u);
  EXPECT_EQ(h.counters.rejected[static_cast<int>(io::FrameReject::Sequence)].load(), 1u);

  // Stream 1 ends; stream 2 may begin.
  io::IqFrameHeader end;
  end.stream_id = 1;
  end.sequence = 3;
  end.first_pulse = 16;
  end.gates = 48;
  end.channels = 1;
  end.flags = io::kIqEndOfStream;
  const auto eh = io::encode_iq_header(end);
  const auto er = h.assembler.push(eh.data(), eh.size(), nullptr, 0);
  EXPECT_TRUE(er.check.ok());
  EXPECT_TRUE(er.end_of_stream);
  EXPECT_TRUE(h.push(make_frame(h.mode, 100, 0, 8, io::IqDatatype::Cf32Le, 2)).check.ok());
  ASSERT_EQ(h.out.size(), 3u);
  EXPECT_EQ(h.out[2].stream_id, 2u);
  h.expect_cpi(h.out[2], 0);

  // Stream 2's sender restarts from sequence 0: its first seven frames are rejected as old, the
  // eighth in a row is followed, and from the next CPI boundary on its CPIs are whole.
  h.push(make_frame(h.mode, 101, 8, 4, io::IqDatatype::Cf32Le, 2));  // CPI 1 half done
  for (std::uint64_t k = 0; k < 7; ++k)
    EXPECT_EQ(h.push(make_frame(h.mode, k, 2 * k, 2, io::IqDatatype::Cf32Le, 2)).check.reject,
              io::FrameReject::Sequence)
        << k;
  EXPECT_TRUE(h.push(make_frame(h.mode, 7, 14, 2, io::IqDatatype::Cf32Le, 2)).check.ok());
  EXPECT_EQ(h.dropped(CpiDrop::SequenceGap), 1u);  // the half-done CPI 1 of before the restart
  h.push(make_frame(h.mode, 8, 16, 8, io::IqDatatype::Cf32Le, 2));
  ASSERT_EQ(h.out.size(), 4u);
  h.expect_cpi(h.out[3], 2);
  // A repeated sequence number is still rejected, the CPI in assembly untouched.
  h.push(make_frame(h.mode, 9, 24, 4, io::IqDatatype::Cf32Le, 2));
  EXPECT_EQ(h.push(make_frame(h.mode, 9, 24, 4, io::IqDatatype::Cf32Le, 2)).check.reject,
            io::FrameReject::Sequence);
  h.push(make_frame(h.mode, 10, 28, 4, io::IqDatatype::Cf32Le, 2));
  ASSERT_EQ(h.out.size(), 5u);
  h.expect_cpi(h.out[4], 3);
}

// A frame stamped at the end of int64 nanoseconds would overflow its pulses' times (undefined
// behaviour): it is rejected as `timestamp`, and the stream's next frames assemble as before.
TEST(CpiAssembler, TimestampsAtTheEndOfInt64AreRejected) {
  Harness h(small_mode(1));
  for (std::int64_t t :
       {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max() - 1000,
        std::numeric_limits<std::int64_t>::min()}) {
    Frame f = make_frame(h.mode, 0, 0, 4);
    io::IqFrameHeader hdr;
    ASSERT_TRUE(io::decode_iq_frame(f.header.data(), f.header.size(), f.payload.size(), hdr).ok());
    hdr.timestamp_ns = t;
    f.header = io::encode_iq_header(hdr);
    const CpiAssembler::Result r = h.push(f);
    EXPECT_EQ(r.check.reject, io::FrameReject::Timestamp) << t;
    EXPECT_NE(r.check.message.find("runs past the times radarpipe represents"), std::string::npos)
        << r.check.message;
  }
  EXPECT_EQ(h.counters.rejected[static_cast<int>(io::FrameReject::Timestamp)].load(), 3u);
  h.push(make_frame(h.mode, 0, 0, 8));
  ASSERT_EQ(h.out.size(), 1u);
  h.expect_cpi(h.out[0], 0);
}

TEST(CpiAssembler, NoFreeBufferDropsTheCpiAsOverrun) {
  Harness h(small_mode(1), 2);
  for (std::uint64_t k = 0; k < 5; ++k) h.push(make_frame(h.mode, k, 8 * k, 8));
  // Two buffers, none returned: CPIs 0 and 1 assemble, 2..4 find no buffer.
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.dropped(CpiDrop::Overrun), 3u);
  h.pool.release(h.out[0].buffer);
  h.push(make_frame(h.mode, 5, 40, 3));
  h.push(make_frame(h.mode, 6, 43, 5));
  ASSERT_EQ(h.out.size(), 3u);
  h.expect_cpi(h.out[2], 5);
  h.pool.release(h.out[1].buffer);
  h.pool.release(h.out[2].buffer);
  EXPECT_EQ(h.pool.available(), 2u);
}

TEST(BufferPool, AcquireReleaseOwnsAndWaits) {
  BufferPool pool(2, 100);
  void* a = pool.try_acquire();
  void* b = pool.try_acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 64, 0u);
  EXPECT_EQ(pool.try_acquire(), nullptr);
  EXPECT_EQ(pool.acquire(std::chrono::milliseconds(10)), nullptr);
  EXPECT_TRUE(pool.owns(a));
  int x;
  EXPECT_FALSE(pool.owns(&x));
  EXPECT_THROW(pool.release(&x), std::logic_error);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BufferPool::release_fn(a, &pool);
  });
  EXPECT_EQ(pool.acquire(std::chrono::seconds(10)), a);
  t.join();
}

// A link message holds its pool (BufferPool::shared_hint): a message still queued in a socket
// when the runtime that owned the pool is gone (a dead or stopped downstream, a socket's
// linger) frees its buffer into a live pool, which goes with its last message. Before, the
// free landed in a destroyed pool and the process aborted ("not a buffer of this pool").
TEST(BufferPool, AQueuedMessageKeepsItsPoolAlive) {
  auto pool = std::make_shared<BufferPool>(2, 4096);
  std::weak_ptr<BufferPool> watch = pool;
  void* buf = pool->try_acquire();
  ASSERT_NE(buf, nullptr);
  auto message = std::make_unique<zmq::message_t>(buf, 4096, &BufferPool::release_shared_fn,
                                                  BufferPool::shared_hint(pool));
  EXPECT_EQ(pool->available(), 1u);
  pool.reset();  // the runtime is gone
  ASSERT_FALSE(watch.expired()) << "the queued message must keep the pool";
  EXPECT_EQ(watch.lock()->available(), 1u);
  message.reset();  // ZeroMQ frees the message later
  EXPECT_TRUE(watch.expired()) << "the pool goes with its last message";

  // While the pool lives, the free returns the buffer.
  auto live = std::make_shared<BufferPool>(1, 64);
  void* b = live->try_acquire();
  { zmq::message_t m(b, 64, &BufferPool::release_shared_fn, BufferPool::shared_hint(live)); }
  EXPECT_EQ(live->available(), 1u);
}

}  // namespace
}  // namespace radarpipe::stream
