// Fuzz target: CPI assembly from a sequence of VITA 49 packets (pipeline/stream/vrt_assembler.hpp),
// as the VRT source meets them from the network: any packets, streams, counts, timestamps,
// trailers and context fields, in any order, must give whole CPIs or counted drops, never a
// crash, undefined behaviour or a buffer lost from the pool. Input: one byte choosing the mode
// (bit 0 continuous timing, bits 1-2 the epoch, bit 3 two channels), then records of
// [2 bytes length, big-endian][packet].
#include <cstdint>
#include <cstring>
#include <vector>

#include "pipeline/stream/buffer_pool.hpp"
#include "pipeline/stream/vrt_assembler.hpp"

namespace {
radarpipe::Mode fuzz_mode(std::uint8_t choice) {
  radarpipe::Mode m;
  m.radar.range_gates = 16;
  m.radar.channels = (choice & 8) ? 2 : 1;
  m.radar.waveform.pulse_width_s = 1e-7;
  m.radar.waveform.bandwidth_hz = 5e6;
  m.radar.sample_rate_hz = 20e6;
  m.radar.pri_s = 2e-6;  // 40 samples
  m.radar.window_start_s = 0.5e-6;
  m.processing.pulses = 4;
  m.processing.doppler_fft_size = 4;
  m.processing.cfar.guard_range = 1;
  m.processing.cfar.train_range = 2;
  m.processing.cfar.guard_doppler = 0;
  m.processing.cfar.train_doppler = 1;
  m.input.vrt.timing =
      (choice & 1) ? radarpipe::PulseTiming::Continuous : radarpipe::PulseTiming::Gated;
  const int epoch = (choice >> 1) & 3;
  m.input.vrt.epoch = epoch == 1   ? radarpipe::VrtEpoch::Context
                      : epoch == 2 ? radarpipe::VrtEpoch::Time
                                   : radarpipe::VrtEpoch::FirstPacket;
  m.input.vrt.epoch_ns = 1800000000LL * 1000000000LL;
  if (m.radar.channels == 2) m.input.vrt.stream_ids = {1, 2};
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace radarpipe;
  if (size < 1) return 0;
  const Mode mode = fuzz_mode(data[0]);
  stream::BufferPool pool(
      3, mode.radar.channels * mode.processing.pulses * mode.radar.range_gates * sizeof(cf32));
  stream::VrtCounters counters;
  stream::AssemblerCounters frames;
  std::vector<void*> emitted;
  {
    stream::VrtAssembler assembler(
        mode, counters, frames, [&] { return pool.try_acquire(); },
        [&](void* b) { pool.release(b); },
        [&](const stream::AssembledCpi& a) {
          emitted.push_back(a.buffer);
          if (emitted.size() == 2) {  // the consumer hands buffers back
            for (void* b : emitted) pool.release(b);
            emitted.clear();
          }
        },
        nullptr);
    std::size_t pos = 1;
    while (pos + 2 <= size) {
      std::size_t len = static_cast<std::size_t>(data[pos]) << 8 | data[pos + 1];
      pos += 2;
      len = std::min(len, size - pos);
      // A copy of exactly the packet's bytes, so that reading past it is caught.
      const std::vector<std::uint8_t> packet(data + pos, data + pos + len);
      pos += len;
      assembler.push(packet.data(), packet.size(), 1700000000LL * 1000000000LL);
      if (len > 0 && packet[0] == 0xEE) assembler.end_of_stream();
    }
    assembler.abort(stream::CpiDrop::Shutdown);
  }
  for (void* b : emitted) pool.release(b);
  for (int i = 0; i < 3; ++i)
    if (!pool.try_acquire()) __builtin_trap();
  return 0;
}
