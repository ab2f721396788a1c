#include "io/iq_frame.hpp"

#include <cmath>
#include <cstring>

#include "io/le.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the IQ wire format is little-endian and cf32 payloads are copied as is");

namespace radarpipe::io {

std::size_t bytes_per_sample(IqDatatype t) {
  return t == IqDatatype::Ci16Le ? 4 : 8;
}

const char* to_string(IqDatatype t) {
  return t == IqDatatype::Ci16Le ? "ci16_le" : "cf32_le";
}

const char* to_string(FrameReject r) {
  switch (r) {
    case FrameReject::None:
      return "none";
    case FrameReject::Parts:
      return "parts";
    case FrameReject::HeaderSize:
      return "header_size";
    case FrameReject::Magic:
      return "magic";
    case FrameReject::Version:
      return "version";
    case FrameReject::Datatype:
      return "datatype";
    case FrameReject::Dimensions:
      return "dimensions";
    case FrameReject::PayloadSize:
      return "payload_size";
    case FrameReject::Shape:
      return "shape";
    case FrameReject::Sequence:
      return "sequence";
    case FrameReject::Timestamp:
      return "timestamp";
    case FrameReject::Stream:
      return "stream";
  }
  return "?";
}

std::array<unsigned char, kIqHeaderBytes> encode_iq_header(const IqFrameHeader& h) {
  std::array<unsigned char, kIqHeaderBytes> b{};
  unsigned char* p = b.data();
  le::put<std::uint32_t>(p + 0, kIqMagic);
  le::put<std::uint16_t>(p + 4, kIqVersion);
  le::put<std::uint16_t>(p + 6, static_cast<std::uint16_t>(kIqHeaderBytes));
  le::put<std::uint32_t>(p + 8, h.stream_id);
  le::put<std::uint32_t>(p + 12, h.flags);
  le::put<std::uint64_t>(p + 16, h.sequence);
  le::put<std::int64_t>(p + 24, h.timestamp_ns);
  le::put<std::uint64_t>(p + 32, h.first_pulse);
  le::put<std::uint32_t>(p + 40, h.pulses);
  le::put<std::uint32_t>(p + 44, h.gates);
  le::put<std::uint32_t>(p + 48, h.channels);
  le::put<std::uint16_t>(p + 52, static_cast<std::uint16_t>(h.datatype));
  le::put<float>(p + 56, h.scale);
  le::put<double>(p + 64, h.center_frequency_hz);
  return b;
}

namespace {
FrameCheck reject(FrameReject r, std::string msg) {
  return FrameCheck{r, std::move(msg)};
}
}  // namespace

FrameCheck decode_iq_frame(const void* header, std::size_t header_size, std::size_t payload_size,
                           IqFrameHeader& h) {
  const auto* p = static_cast<const unsigned char*>(header);
  if (header_size < 8)
    return reject(FrameReject::HeaderSize, "header part of " + std::to_string(header_size) +
                                               " bytes, expected " +
                                               std::to_string(kIqHeaderBytes));
  const std::uint32_t magic = le::get<std::uint32_t>(p);
  if (magic != kIqMagic) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "magic 0x%08x, expected 0x%08x (\"RPIQ\")", magic, kIqMagic);
    return reject(FrameReject::Magic, buf);
  }
  const std::uint16_t version = le::get<std::uint16_t>(p + 4);
  if (version != kIqVersion)
    return reject(FrameReject::Version, "version " + std::to_string(version) +
                                            ", this build reads version " +
                                            std::to_string(kIqVersion));
  const std::uint16_t declared = le::get<std::uint16_t>(p + 6);
  if (declared != kIqHeaderBytes || header_size != kIqHeaderBytes)
    return reject(FrameReject::HeaderSize, "header part of " + std::to_string(header_size) +
                                               " bytes declaring " + std::to_string(declared) +
                                               ", expected " + std::to_string(kIqHeaderBytes));
  h.stream_id = le::get<std::uint32_t>(p + 8);
  h.flags = le::get<std::uint32_t>(p + 12);
  h.sequence = le::get<std::uint64_t>(p + 16);
  h.timestamp_ns = le::get<std::int64_t>(p + 24);
  h.first_pulse = le::get<std::uint64_t>(p + 32);
  h.pulses = le::get<std::uint32_t>(p + 40);
  h.gates = le::get<std::uint32_t>(p + 44);
  h.channels = le::get<std::uint32_t>(p + 48);
  const std::uint16_t dt = le::get<std::uint16_t>(p + 52);
  h.scale = le::get<float>(p + 56);
  h.center_frequency_hz = le::get<double>(p + 64);
  if (dt != static_cast<std::uint16_t>(IqDatatype::Cf32Le) &&
      dt != static_cast<std::uint16_t>(IqDatatype::Ci16Le))
    return reject(FrameReject::Datatype,
                  "datatype " + std::to_string(dt) + ", expected 1 (cf32_le) or 2 (ci16_le)");
  h.datatype = static_cast<IqDatatype>(dt);
  auto bad_dim = [&](const char* field, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
    return reject(FrameReject::Dimensions, std::string(field) + " " + std::to_string(v) +
                                               " is not in [" + std::to_string(lo) + ", " +
                                               std::to_string(hi) + "]");
  };
  if (h.gates < 1 || h.gates > kIqMaxGates) return bad_dim("gates", h.gates, 1, kIqMaxGates);
  if (h.channels < 1 || h.channels > kIqMaxChannels)
    return bad_dim("channels", h.channels, 1, kIqMaxChannels);
  if (h.pulses > kIqMaxPulses || (h.pulses == 0 && !h.end_of_stream()))
    return bad_dim("pulses", h.pulses, h.end_of_stream() ? 0 : 1, kIqMaxPulses);
  if (!std::isfinite(h.scale) || !(h.scale > 0.0f))
    return reject(FrameReject::Dimensions,
                  "scale " + std::to_string(h.scale) + " is not a positive finite number");
  if (!std::isfinite(h.center_frequency_hz) || h.center_frequency_hz < 0.0)
    return reject(FrameReject::Dimensions, "center frequency " +
                                               std::to_string(h.center_frequency_hz) +
                                               " Hz is not 0 or a positive frequency");
  const std::uint64_t bytes = h.payload_bytes();
  if (bytes > kIqMaxPayloadBytes)
    return reject(FrameReject::Dimensions,
                  std::to_string(h.pulses) + " pulses x " + std::to_string(h.channels) +
                      " channels x " + std::to_string(h.gates) + " gates make " +
                      std::to_string(bytes) + " payload bytes, more than the 1 GiB limit");
  if (payload_size != bytes)
    return reject(FrameReject::PayloadSize,
                  "payload of " + std::to_string(payload_size) + " bytes, the header's " +
                      std::to_string(h.pulses) + " pulses x " + std::to_string(h.channels) +
                      " channels x " + std::to_string(h.gates) + " gates of " +
                      to_string(h.datatype) + " need " + std::to_string(bytes));
  return {};
}

namespace {
// Little-endian int16 components to float times scale, loaded as they are (the host is
// little-endian: the static_assert above) in a loop the compiler vectorises (widen, convert,
// multiply), where assembling each component from its two bytes did not vectorise.
void convert_ci16_le(const unsigned char* __restrict in, std::size_t n, float scale,
                     float* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) {
    std::int16_t v;
    std::memcpy(&v, in + 2 * i, 2);
    out[i] = static_cast<float>(v) * scale;
  }
}
}  // namespace

void unpack_pulse(const IqFrameHeader& h, const void* payload, std::size_t pulse,
                  std::size_t channel, cf32* out) {
  const std::size_t offset = (pulse * h.channels + channel) * h.gates;
  if (h.datatype == IqDatatype::Cf32Le) {
    std::memcpy(static_cast<void*>(out), static_cast<const unsigned char*>(payload) + offset * 8,
                h.gates * 8);
    return;
  }
  const auto* s = static_cast<const unsigned char*>(payload) + offset * 4;
  convert_ci16_le(s, 2 * h.gates, h.scale, reinterpret_cast<float*>(out));
}

}  // namespace radarpipe::io
