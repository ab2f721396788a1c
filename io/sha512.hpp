// SHA-512 (FIPS 180-4), for the `core:sha512` checksum of SigMF data files. Incremental, so a
// recording of any size is hashed in bounded memory while it is written or read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace radarpipe::io {

class Sha512 {
 public:
  Sha512();
  void update(const void* data, std::size_t bytes);
  /// Finishes the hash and returns 128 lowercase hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint64_t, 8> h_;
  std::array<std::uint8_t, 128> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace radarpipe::io
