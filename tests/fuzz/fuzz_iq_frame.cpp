// Fuzz target: IQ frames (io/iq_frame.hpp), bytes from the network. The input is split into a
// header part and a payload part (the first byte says where); a frame the decoder accepts is
// unpacked pulse by pulse, channel by channel, so a header that lies about its payload is
// caught as an out-of-bounds read under AddressSanitizer.
#include <cstdint>
#include <vector>

#include "io/iq_frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t header_size = std::min<std::size_t>(data[0], size - 1);
  const std::vector<std::uint8_t> header(data + 1, data + 1 + header_size);
  const std::vector<std::uint8_t> payload(data + 1 + header_size, data + size);
  radarpipe::io::IqFrameHeader h;
  const radarpipe::io::FrameCheck check =
      radarpipe::io::decode_iq_frame(header.data(), header.size(), payload.size(), h);
  if (!check.ok() || h.gates > (1u << 16)) return 0;
  std::vector<radarpipe::cf32> row(h.gates);
  for (std::uint32_t p = 0; p < h.pulses; ++p)
    for (std::uint32_t c = 0; c < h.channels; ++c)
      radarpipe::io::unpack_pulse(h, payload.data(), p, c, row.data());
  return 0;
}
