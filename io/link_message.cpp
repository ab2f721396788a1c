#include "io/link_message.hpp"

#include <cstdio>

#include "io/le.hpp"

namespace radarpipe::io {

std::uint64_t LinkHeader::payload_bytes() const {
  const std::uint64_t cells = std::uint64_t{dims[0]} * dims[1] * dims[2];
  switch (kind) {
    case LinkKind::Cube:
      return cells * 8;
    case LinkKind::Maps:
      return cells * 4;
    default:
      return 0;
  }
}

std::array<unsigned char, kLinkHeaderBytes> encode_link_header(const LinkHeader& h) {
  std::array<unsigned char, kLinkHeaderBytes> b{};
  unsigned char* p = b.data();
  le::put<std::uint32_t>(p + 0, kLinkMagic);
  le::put<std::uint16_t>(p + 4, kLinkVersion);
  le::put<std::uint16_t>(p + 6, static_cast<std::uint16_t>(kLinkHeaderBytes));
  le::put<std::uint16_t>(p + 8, static_cast<std::uint16_t>(h.kind));
  le::put<std::uint32_t>(p + 12, h.stream_id);
  le::put<std::uint64_t>(p + 16, h.cpi);
  le::put<std::int64_t>(p + 24, h.timestamp_ns);
  le::put<std::int64_t>(p + 32, h.ingest_ns);
  le::put<std::uint32_t>(p + 40, h.dims[0]);
  le::put<std::uint32_t>(p + 44, h.dims[1]);
  le::put<std::uint32_t>(p + 48, h.dims[2]);
  le::put<double>(p + 56, h.center_frequency_hz);
  le::put<std::uint64_t>(p + 64, h.cpis_dropped);
  le::put<std::uint64_t>(p + 72, h.frames_rejected);
  return b;
}

std::string decode_link_header(const void* header, std::size_t header_size,
                               std::size_t payload_size, LinkHeader& h) {
  const auto* p = static_cast<const unsigned char*>(header);
  if (header_size != kLinkHeaderBytes)
    return "header part of " + std::to_string(header_size) + " bytes, expected " +
           std::to_string(kLinkHeaderBytes);
  const std::uint32_t magic = le::get<std::uint32_t>(p);
  if (magic != kLinkMagic) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "magic 0x%08x, expected 0x%08x (\"RPLK\")", magic, kLinkMagic);
    return buf;
  }
  const std::uint16_t version = le::get<std::uint16_t>(p + 4);
  if (version != kLinkVersion)
    return "version " + std::to_string(version) + ", this build reads version " +
           std::to_string(kLinkVersion);
  const std::uint16_t kind = le::get<std::uint16_t>(p + 8);
  if (kind < 1 || kind > 4)
    return "kind " + std::to_string(kind) +
           ", expected 1 (cube), 2 (maps), 3 (end of stream) "
           "or 4 (shutdown)";
  h.kind = static_cast<LinkKind>(kind);
  h.stream_id = le::get<std::uint32_t>(p + 12);
  h.cpi = le::get<std::uint64_t>(p + 16);
  h.timestamp_ns = le::get<std::int64_t>(p + 24);
  h.ingest_ns = le::get<std::int64_t>(p + 32);
  h.dims[0] = le::get<std::uint32_t>(p + 40);
  h.dims[1] = le::get<std::uint32_t>(p + 44);
  h.dims[2] = le::get<std::uint32_t>(p + 48);
  h.center_frequency_hz = le::get<double>(p + 56);
  h.cpis_dropped = le::get<std::uint64_t>(p + 64);
  h.frames_rejected = le::get<std::uint64_t>(p + 72);
  if (payload_size != h.payload_bytes())
    return "payload of " + std::to_string(payload_size) + " bytes, the header's " +
           std::to_string(h.dims[0]) + " x " + std::to_string(h.dims[1]) + " x " +
           std::to_string(h.dims[2]) + " need " + std::to_string(h.payload_bytes());
  return {};
}

}  // namespace radarpipe::io
