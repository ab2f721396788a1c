// SHA-512 against the FIPS 180-4 example vectors and against one-shot vs incremental hashing.
#include "io/sha512.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using radarpipe::io::Sha512;

static std::string hash(const std::string& s) {
  Sha512 h;
  h.update(s.data(), s.size());
  return h.hex_digest();
}

TEST(Sha512, FipsExampleVectors) {
  EXPECT_EQ(hash("abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(hash(""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
  EXPECT_EQ(
      hash("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmn"
           "opqrlmnopqrsmnopqrstnopqrstu"),
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
      "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
}

TEST(Sha512, MillionAs) {
  const std::string a(1000000, 'a');
  EXPECT_EQ(hash(a),
            "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
            "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
}

TEST(Sha512, IncrementalEqualsOneShotForEveryPaddingBoundary) {
  std::mt19937 rng(5);
  for (std::size_t n :
       {0u, 1u, 111u, 112u, 113u, 127u, 128u, 129u, 239u, 240u, 255u, 256u, 1000u}) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    Sha512 h;
    std::size_t pos = 0, step = 1;
    while (pos < n) {
      const std::size_t take = std::min(step, n - pos);
      h.update(s.data() + pos, take);
      pos += take;
      step = step * 3 % 97 + 1;
    }
    EXPECT_EQ(h.hex_digest(), hash(s)) << n;
  }
}

TEST(Sha512, CountsBytesAndRefusesUseAfterTheDigest) {
  Sha512 h;
  h.update("abc", 3);
  h.update("", 0);
  EXPECT_EQ(h.bytes(), 3u);
  Sha512 moved = std::move(h);
  EXPECT_EQ(moved.hex_digest().substr(0, 16), "ddaf35a193617aba");
  EXPECT_THROW(moved.update("x", 1), std::logic_error);
  EXPECT_THROW(moved.hex_digest(), std::logic_error);
}
