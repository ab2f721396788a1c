// Fuzz target: VITA 49.2 packets (io/vrt.hpp), datagrams and TCP streams from a digitizer. The
// input is read as a stream of packets, each parsed from what remains (as the TCP reader does);
// an accepted data packet's payload is decoded in every supported format that fits it, and an
// accepted context packet's fields are read and, when it carries a payload format, that format
// is used, so a size field or class ID that lies about the payload is caught as an
// out-of-bounds read under AddressSanitizer. Encoding what was parsed must parse back the same.
#include <complex>
#include <cstdint>
#include <vector>

#include "io/vrt.hpp"

namespace vrt = radarpipe::io::vrt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::complex<float>> samples;
  std::size_t at = 0;
  for (int packets = 0; at < size && packets < 64; ++packets) {
    vrt::Packet p;
    const vrt::Error e = vrt::parse(data + at, size - at, p);
    if (e != vrt::Error::None) {
      if (vrt::describe(e, data + at, size - at).empty()) __builtin_trap();
      break;
    }
    if (p.bytes() == 0 || p.bytes() > size - at) __builtin_trap();
    const unsigned char* b = data + at;
    if (p.is_context()) {
      vrt::Context c;
      if (vrt::parse_context(b, p, c) == vrt::Error::None && c.payload_format &&
          c.payload_format->supported()) {
        const std::size_t n = vrt::payload_samples(*c.payload_format, p.payload_bytes - 4);
        samples.resize(n);
        vrt::decode_payload(*c.payload_format, b + p.payload_offset + 4, n, samples.data());
      }
    } else if (p.is_data()) {
      for (const vrt::PayloadFormat& f : {vrt::PayloadFormat::sc8(), vrt::PayloadFormat::sc12(),
                                          vrt::PayloadFormat::sc16(), vrt::PayloadFormat::cf32()}) {
        const std::size_t n = vrt::payload_samples(f, p.payload_bytes, p.class_id.pad_bits);
        samples.resize(n);
        vrt::decode_payload(f, b + p.payload_offset, n, samples.data());
      }
      // Written again, the packet parses to the same fields.
      vrt::Prologue pr;
      pr.type = p.type;
      pr.stream_id = p.stream_id;
      if (p.class_id_present) pr.class_id = p.class_id;
      pr.tsi = p.tsi;
      pr.tsf = p.tsf;
      pr.integer_seconds = p.integer_seconds;
      pr.fractional = p.fractional;
      pr.count = p.count;
      pr.not_v49_0 = p.not_v49_0;
      pr.bit24 = p.bit24;
      std::optional<vrt::Trailer> tr;
      if (p.trailer_present) tr = p.trailer;
      std::vector<unsigned char> out(p.bytes());
      const std::size_t n =
          vrt::encode_data(pr, b + p.payload_offset, p.payload_bytes, tr, out.data(), out.size());
      vrt::Packet q;
      if (n != p.bytes() || vrt::parse(out.data(), n, q) != vrt::Error::None ||
          q.stream_id != p.stream_id || q.fractional != p.fractional || q.count != p.count ||
          q.payload_bytes != p.payload_bytes || q.trailer.enables != p.trailer.enables ||
          q.trailer.indicators != p.trailer.indicators)
        __builtin_trap();
    }
    at += p.bytes();
  }
  return 0;
}
