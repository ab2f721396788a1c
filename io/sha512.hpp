// SHA-512 (FIPS 180-4), for the `core:sha512` checksum of SigMF data files. Incremental, so a
// recording of any size is hashed in bounded memory while it is written or read.
//
// Computed by OpenSSL's libcrypto (EVP interface) rather than code of our own: it is the
// well-kept implementation, and on the benchmark VM it hashes at 750-860 MB/s where the
// project's own portable code did 340-370 MB/s (docs/performance.md), which matters because
// the checksum is on the path of every `radarpipe process` run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace radarpipe::io {

class Sha512 {
 public:
  /// Throws std::runtime_error if libcrypto cannot provide SHA-512 (a broken installation).
  Sha512();
  ~Sha512();
  Sha512(Sha512&&) noexcept;
  Sha512& operator=(Sha512&&) noexcept;
  Sha512(const Sha512&) = delete;
  Sha512& operator=(const Sha512&) = delete;

  void update(const void* data, std::size_t bytes);
  /// Finishes the hash and returns 128 lowercase hex digits; the object is spent afterwards
  /// (std::logic_error on further use).
  std::string hex_digest();
  /// Bytes hashed so far.
  std::uint64_t bytes() const { return total_bytes_; }

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  std::uint64_t total_bytes_ = 0;
  bool spent_ = false;
};

}  // namespace radarpipe::io
