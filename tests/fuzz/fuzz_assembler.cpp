// Fuzz target: CPI assembly from a sequence of IQ frames (pipeline/stream/assembler.hpp), as the
// ingest meets them from the network: any frames, in any order, with any sequence numbers,
// pulse indices, stream ids, timestamps and sizes, must give whole CPIs or counted drops, never
// a crash, undefined behaviour or a buffer lost from the pool. Input: records of
// [1 byte header length][header][2 bytes payload length, big-endian][payload].
#include <cstdint>
#include <cstring>
#include <vector>

#include "pipeline/stream/assembler.hpp"
#include "pipeline/stream/buffer_pool.hpp"

namespace {
radarpipe::Mode fuzz_mode() {
  radarpipe::Mode m;
  m.radar.range_gates = 16;
  m.radar.channels = 2;
  m.radar.waveform.pulse_width_s = 1e-7;
  m.radar.waveform.bandwidth_hz = 5e6;
  m.radar.sample_rate_hz = 20e6;
  m.radar.pri_s = 1e-4;
  m.processing.pulses = 4;
  m.processing.doppler_fft_size = 4;
  m.processing.cfar.guard_range = 1;
  m.processing.cfar.train_range = 2;
  m.processing.cfar.guard_doppler = 0;
  m.processing.cfar.train_doppler = 1;
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace radarpipe;
  static const Mode mode = fuzz_mode();
  stream::BufferPool pool(
      3, mode.radar.channels * mode.processing.pulses * mode.radar.range_gates * sizeof(cf32));
  stream::AssemblerCounters counters;
  std::vector<void*> emitted;
  {
    stream::CpiAssembler assembler(
        mode, counters, [&] { return pool.try_acquire(); }, [&](void* b) { pool.release(b); },
        [&](const stream::AssembledCpi& a) {
          emitted.push_back(a.buffer);
          if (emitted.size() == 3) {  // the consumer hands buffers back
            for (void* b : emitted) pool.release(b);
            emitted.clear();
          }
        });
    std::size_t pos = 0;
    while (pos < size) {
      const std::size_t declared = data[pos];
      ++pos;
      const std::size_t hl = std::min(declared, size - pos);
      const std::uint8_t* header = data + pos;
      pos += hl;
      std::size_t pl = 0;
      if (pos + 2 <= size) {
        pl = static_cast<std::size_t>(data[pos]) << 8 | data[pos + 1];
        pos += 2;
      }
      pl = std::min(pl, size - pos);
      const std::vector<std::uint8_t> payload(data + pos, data + pos + pl);
      pos += pl;
      assembler.push(header, hl, payload.data(), payload.size());
    }
    assembler.abort(stream::CpiDrop::Shutdown);
  }
  for (void* b : emitted) pool.release(b);
  // Every buffer is back: none was lost or released twice (release throws on a stranger).
  for (int i = 0; i < 3; ++i)
    if (!pool.try_acquire()) __builtin_trap();
  return 0;
}
