#include "io/sha512.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace radarpipe::io {

struct Sha512::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha512::Sha512() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha512(), nullptr) != 1)
    throw std::runtime_error("SHA-512: libcrypto could not start a digest");
}

Sha512::~Sha512() = default;
Sha512::Sha512(Sha512&&) noexcept = default;
Sha512& Sha512::operator=(Sha512&&) noexcept = default;

void Sha512::update(const void* data, std::size_t bytes) {
  if (spent_ || !ctx_) throw std::logic_error("SHA-512: update after hex_digest()");
  if (bytes == 0) return;
  if (EVP_DigestUpdate(ctx_->md, data, bytes) != 1)
    throw std::runtime_error("SHA-512: libcrypto digest update failed");
  total_bytes_ += bytes;
}

std::string Sha512::hex_digest() {
  if (spent_ || !ctx_) throw std::logic_error("SHA-512: hex_digest() called twice");
  spent_ = true;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_->md, digest, &n) != 1 || n != 64)
    throw std::runtime_error("SHA-512: libcrypto digest final failed");
  static const char* kHex = "0123456789abcdef";
  std::string hex(128, '0');
  for (unsigned i = 0; i < 64; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace radarpipe::io
