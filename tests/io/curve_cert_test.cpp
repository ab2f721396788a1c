// CURVE certificates (io/curve_cert.hpp): the ZPL layout CZMQ's zcert and pyzmq's zmq.auth
// write, every refusal, and the key files keygen writes. The key pairs are the published
// examples of libzmq's zmq_curve(7) manual page, an independent reference: the parser checks
// each secret key against its public key with libzmq's own derivation.
#include "io/curve_cert.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace radarpipe::io;

namespace {

// zmq_curve(7): the server's and the client's key pairs.
const std::string kServerPublic = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const std::string kServerSecret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
const std::string kClientPublic = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const std::string kClientSecret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

std::string secret_cert(const std::string& pub, const std::string& sec) {
  return "#   ****  Generated on 2026-12-02 by pyzmq  ****\n"
         "#   ZeroMQ CURVE **Secret** Certificate\n"
         "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
         "metadata\n"
         "    name = \"radar-1\"\n"
         "curve\n"
         "    public-key = \"" +
         pub + "\"\n    secret-key = \"" + sec + "\"\n";
}

std::string refusal(const std::string& text) {
  try {
    parse_curve_cert(text, "cert");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("radarpipe-curve-" + std::to_string(getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text, mode_t mode) {
  std::ofstream(p) << text;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

}  // namespace

TEST(CurveCert, ReadsTheZplLayoutOfCzmqAndPyzmq) {
  const CurveCert c = parse_curve_cert(secret_cert(kServerPublic, kServerSecret), "cert");
  EXPECT_EQ(c.public_key, kServerPublic);
  EXPECT_EQ(c.secret_key, kServerSecret);
  // CRLF line ends, single quotes, a bare value and a comment after it are ZPL too.
  const CurveCert p = parse_curve_cert(
      "metadata\r\ncurve\r\n    public-key = '" + kClientPublic + "'  # the client\r\n", "cert");
  EXPECT_EQ(p.public_key, kClientPublic);
  EXPECT_TRUE(p.secret_key.empty());
  // Public keys elsewhere than curve/ are not this certificate's key.
  EXPECT_NE(refusal("metadata\n    public-key = \"" + kClientPublic + "\"\n"), "accepted");
}

TEST(CurveCert, RefusesWhatIsNotACertificate) {
  const std::string head = "curve\n";
  const std::string key = "    public-key = \"" + kClientPublic + "\"\n";
  EXPECT_NE(refusal(head + "\tpublic-key = \"" + kClientPublic + "\"\n").find("cert:2: a tab"),
            std::string::npos);
  EXPECT_NE(refusal(head + "  public-key = \"" + kClientPublic + "\"\n").find("indented by 2"),
            std::string::npos);
  EXPECT_NE(refusal(head + "    public-key = \"" + kClientPublic + "\n").find("no closing"),
            std::string::npos);
  EXPECT_NE(refusal(head + key + key).find("cert:3: public-key again (first on line 2)"),
            std::string::npos);
  EXPECT_NE(refusal(head + "    public-key = \"" + kClientPublic.substr(1) + "\"\n")
                .find("expected 40 Z85 characters"),
            std::string::npos);
  std::string bad_char = kClientPublic;
  bad_char[7] = '~';  // not in Z85's alphabet
  EXPECT_NE(refusal(head + "    public-key = '" + bad_char + "'\n").find("Z85"), std::string::npos);
  // "%%%%%" is 85^5 - 1 > 2^32 - 1: not a group of four bytes.
  EXPECT_NE(
      refusal(head + "    public-key = \"%%%%%" + kClientPublic.substr(5) + "\"\n").find("Z85"),
      std::string::npos);
  EXPECT_NE(
      refusal(head + "    public-key = \"" + kClientPublic + "\" extra\n").find("unexpected 'e'"),
      std::string::npos);
  EXPECT_NE(refusal("metadata\n").find("no curve public-key"), std::string::npos);
  EXPECT_NE(refusal("").find("no curve public-key"), std::string::npos);
  // A secret key from another pair: the certificate would not be who it says.
  EXPECT_NE(refusal(secret_cert(kServerPublic, kClientSecret))
                .find("secret-key does not belong to the public-key"),
            std::string::npos);
}

TEST(CurveCert, KeygenWritesAPairOnlyItsOwnerReads) {
  TempDir dir;
  const std::string stem = (dir.path / "radar-1").string();
  const CurveCert made = make_curve_keypair();
  const auto files = write_curve_cert_pair(stem, made);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], stem + ".key");
  EXPECT_EQ(files[1], stem + ".key_secret");
  struct stat st {};
  ASSERT_EQ(::stat(files[1].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
  const mode_t umask_now = ::umask(0);
  ::umask(umask_now);
  EXPECT_EQ(st.st_mode & 0077, 0044u & ~static_cast<unsigned>(umask_now));
  const CurveCert sec = read_curve_cert(files[1], true, "security.key");
  EXPECT_EQ(sec.public_key, made.public_key);
  EXPECT_EQ(sec.secret_key, made.secret_key);
  EXPECT_EQ(read_curve_cert(files[0], false, "security.server_key").public_key, made.public_key);
  EXPECT_TRUE(read_curve_cert(files[0], false, "x").secret_key.empty());
  // Never replaced.
  EXPECT_THROW(write_curve_cert_pair(stem, make_curve_keypair()), std::invalid_argument);
  EXPECT_EQ(read_curve_cert(files[1], true, "security.key").secret_key, made.secret_key);
  // Two pairs are not the same pair.
  EXPECT_NE(make_curve_keypair().secret_key, made.secret_key);
}

TEST(CurveCert, SecretKeysMustBeTheOwnersAlone) {
  TempDir dir;
  const fs::path f = dir.path / "site.key_secret";
  write(f, secret_cert(kServerPublic, kServerSecret), 0640);
  try {
    read_curve_cert(f.string(), true, "security.key");
    FAIL() << "a group-readable secret key was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("security.key " + f.string() + ": mode 0640"), std::string::npos) << w;
    EXPECT_NE(w.find("chmod 600"), std::string::npos) << w;
  }
  ASSERT_EQ(::chmod(f.c_str(), 0600), 0);
  EXPECT_EQ(read_curve_cert(f.string(), true, "security.key").secret_key, kServerSecret);
  // As a public certificate (someone's server key) the mode does not matter.
  ASSERT_EQ(::chmod(f.c_str(), 0644), 0);
  EXPECT_EQ(read_curve_cert(f.string(), false, "security.server_key").public_key, kServerPublic);
  // A public certificate where a secret one is needed.
  const fs::path pub = dir.path / "client.key";
  write(pub, "curve\n    public-key = \"" + kClientPublic + "\"\n", 0600);
  EXPECT_THROW(read_curve_cert(pub.string(), true, "security.key"), std::invalid_argument);
  // Not a file, missing, or too large to be a certificate.
  EXPECT_THROW(read_curve_cert(dir.path.string(), false, "x"), std::invalid_argument);
  EXPECT_THROW(read_curve_cert((dir.path / "none").string(), false, "x"), std::invalid_argument);
  const fs::path big = dir.path / "big.key";
  write(big, std::string(kMaxCurveCertBytes + 1, '#'), 0644);
  try {
    read_curve_cert(big.string(), false, "x");
    FAIL() << "an oversized certificate was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("65537 bytes"), std::string::npos) << e.what();
  }
}

TEST(CurveCert, AuthorizedKeysAreAFoldersPublicCertificates) {
  TempDir dir;
  write(dir.path / "server.key", "curve\n    public-key = \"" + kServerPublic + "\"\n", 0644);
  write(dir.path / "client.key", "curve\n    public-key = \"" + kClientPublic + "\"\n", 0644);
  write(dir.path / "client.key_secret", secret_cert(kClientPublic, kClientSecret), 0600);
  write(dir.path / "README", "not a certificate", 0644);
  const auto keys = read_authorized_keys(dir.path.string(), "security.authorized_keys");
  ASSERT_EQ(keys.size(), 2u);  // sorted by file: client, server
  EXPECT_EQ(keys[0].public_key, kClientPublic);
  EXPECT_EQ(keys[0].file, (dir.path / "client.key").string());
  EXPECT_EQ(keys[1].public_key, kServerPublic);
  // One file names one key.
  const auto one = read_authorized_keys((dir.path / "server.key").string(), "x");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].public_key, kServerPublic);
  // A certificate that does not parse stops the start, naming it.
  write(dir.path / "broken.key", "curve\n    public-key = \"short\"\n", 0644);
  try {
    read_authorized_keys(dir.path.string(), "security.authorized_keys");
    FAIL() << "a broken certificate was skipped";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("broken.key:2"), std::string::npos) << e.what();
  }
  // A folder without certificates lets nobody in: refused.
  TempDir empty;
  EXPECT_THROW(read_authorized_keys(empty.path.string(), "x"), std::invalid_argument);
}
