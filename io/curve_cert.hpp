// ZeroMQ CURVE certificates: the key files `radarpipe keygen` writes and the mode's security:
// section names (docs/security.md). The format is ZPL (ZeroMQ RFC 4), as CZMQ's zcert and
// pyzmq's zmq.auth write it, so keys made by either are read here and ours by them:
//
//   metadata
//   curve
//       public-key = "<40 Z85 characters>"
//       secret-key = "<40 Z85 characters>"      (NAME.key_secret only)
//
// A key file is outside bytes like any other: size bounded, every line checked, Z85 decoded
// by libzmq, and a secret certificate whose secret key does not give its public key refused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace radarpipe::io {

/// Keys as Z85 text (ZeroMQ RFC 32), 40 characters for 32 bytes.
struct CurveCert {
  std::string public_key;
  std::string secret_key;  ///< empty in a public certificate
};

/// A certificate larger than this is not one (ours are about 300 bytes).
constexpr std::size_t kMaxCurveCertBytes = 64 * 1024;
/// A folder of authorized keys holding more certificates than this is refused.
constexpr std::size_t kMaxAuthorizedKeys = 100000;

/// Parses certificate text. Throws std::invalid_argument naming `source`, the line and what was
/// expected: a line indented with tabs or by other than four spaces a level, a value without
/// its closing quote, a repeated key, a key that is not 40 Z85 characters of 32 bytes, no
/// public-key, or a secret-key that does not belong to the public-key.
CurveCert parse_curve_cert(std::string_view text, const std::string& source);

/// Reads a certificate file. With `need_secret`: the file must hold a secret-key and be the
/// owner's alone (no group or other permission bits; the message says chmod 600).
CurveCert read_curve_cert(const std::string& path, bool need_secret, const std::string& what);

struct AuthorizedKey {
  std::string file;  ///< the certificate it came from
  std::string public_key;
};
/// The public keys of a folder's *.key certificates (its *.key_secret files are skipped), or of
/// one certificate. Throws naming the file that does not parse, or a folder without any.
std::vector<AuthorizedKey> read_authorized_keys(const std::string& path, const std::string& what);

/// A fresh key pair (libzmq's zmq_curve_keypair, libsodium's random source).
CurveCert make_curve_keypair();

/// Writes STEM.key (the public certificate, 0644) and STEM.key_secret (both keys, created 0600).
/// Refuses to replace either file. Returns the two paths.
std::vector<std::string> write_curve_cert_pair(const std::string& stem, const CurveCert& cert);

/// 32 bytes of key as Z85 (libzmq's zmq_z85_encode).
std::string z85_key(const unsigned char* bytes32);

}  // namespace radarpipe::io
