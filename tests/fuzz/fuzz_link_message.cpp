// Fuzz target: segment link headers (io/link_message.hpp), bytes from another process or host.
// The first two bytes give the payload size the header is checked against.
#include <cstdint>
#include <string>

#include "io/link_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t payload = static_cast<std::size_t>(data[0]) << 8 | data[1];
  radarpipe::io::LinkHeader h;
  const std::string err = radarpipe::io::decode_link_header(data + 2, size - 2, payload, h);
  if (err.empty()) (void)h.payload_bytes();
  return 0;
}
