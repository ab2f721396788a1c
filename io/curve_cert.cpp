#include "io/curve_cert.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "io/time.hpp"

namespace radarpipe::io {
namespace {

[[noreturn]] void bad(const std::string& source, std::size_t line, const std::string& msg) {
  throw std::invalid_argument(source + ":" + std::to_string(line) + ": " + msg);
}

// ZPL names (RFC 4): alphanumerics and $ - _ @ . & + /
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("$-_@.&+/", c) != nullptr;
}

// A key as ZeroMQ takes it: 40 Z85 characters that decode to 32 bytes and encode back to
// themselves (libzmq's decoder is the judge of the alphabet and of groups over 2^32).
bool decode_key(const std::string& z85, unsigned char out[32]) {
  if (z85.size() != 40) return false;
  if (zmq_z85_decode(out, z85.c_str()) == nullptr) return false;
  return z85_key(out) == z85;
}

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string z85_key(const unsigned char* bytes32) {
  char text[41];
  if (zmq_z85_encode(text, bytes32, 32) == nullptr)
    throw std::logic_error("zmq_z85_encode refused 32 bytes");
  return std::string(text, 40);
}

CurveCert parse_curve_cert(std::string_view text, const std::string& source) {
  CurveCert cert;
  std::string section;
  std::size_t line_no = 0, public_line = 0, secret_line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    if (indent < line.size() && line[indent] == '\t')
      bad(source, line_no, "a tab in the indentation; ZPL indents by four spaces a level");
    std::string_view rest = line.substr(indent);
    if (rest.empty() || rest[0] == '#') continue;
    if (indent % 4 != 0)
      bad(source, line_no,
          "indented by " + std::to_string(indent) + " spaces; ZPL indents by four a level");
    std::size_t i = 0;
    while (i < rest.size() && name_char(rest[i])) ++i;
    if (i == 0)
      bad(source, line_no,
          "expected a name (letters, digits, $-_@.&+/), got '" + std::string(rest.substr(0, 1)) +
              "'");
    const std::string name(rest.substr(0, i));
    while (i < rest.size() && rest[i] == ' ') ++i;
    std::string value;
    if (i < rest.size() && rest[i] == '=') {
      ++i;
      while (i < rest.size() && rest[i] == ' ') ++i;
      if (i < rest.size() && (rest[i] == '"' || rest[i] == '\'')) {
        const char q = rest[i];
        const std::size_t close = rest.find(q, i + 1);
        if (close == std::string_view::npos)
          bad(source, line_no, name + ": the value has no closing " + std::string(1, q));
        value = std::string(rest.substr(i + 1, close - i - 1));
        i = close + 1;
      } else {
        const std::size_t start = i;
        while (i < rest.size() && rest[i] != ' ' && rest[i] != '#') ++i;
        value = std::string(rest.substr(start, i - start));
      }
      while (i < rest.size() && rest[i] == ' ') ++i;
    }
    if (i < rest.size() && rest[i] != '#')
      bad(source, line_no,
          name + ": unexpected '" + std::string(rest.substr(i, 1)) + "' after the value");
    const std::size_t level = indent / 4;
    if (level == 0) {
      section = name;
      continue;
    }
    if (level != 1 || section != "curve") continue;  // metadata and deeper levels: not ours
    if (name == "public-key" || name == "secret-key") {
      const bool pub = name == "public-key";
      std::size_t& seen = pub ? public_line : secret_line;
      if (seen) bad(source, line_no, name + " again (first on line " + std::to_string(seen) + ")");
      seen = line_no;
      unsigned char raw[32];
      if (!decode_key(value, raw))
        bad(source, line_no,
            name + ": expected 40 Z85 characters (32 bytes of key), got " +
                std::to_string(value.size()) + " characters that are not one");
      (pub ? cert.public_key : cert.secret_key) = value;
    }
  }
  if (!public_line) throw std::invalid_argument(source + ": no curve public-key");
  if (secret_line) {
    // The secret key must be the public key's: a certificate pieced together from two pairs
    // would authenticate as someone the operator did not mean.
    char derived[41];
    if (zmq_curve_public(derived, cert.secret_key.c_str()) != 0 ||
        cert.public_key != std::string(derived, 40))
      bad(source, secret_line, "secret-key does not belong to the public-key");
  }
  return cert;
}

CurveCert read_curve_cert(const std::string& path, bool need_secret, const std::string& what) {
  const std::string where = what + " " + path;
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) throw std::invalid_argument(where + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw std::invalid_argument(where + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxCurveCertBytes)
    throw std::invalid_argument(where + ": " + std::to_string(st.st_size) +
                                " bytes; a certificate is at most " +
                                std::to_string(kMaxCurveCertBytes));
  if (need_secret && (st.st_mode & 077) != 0)
    throw std::invalid_argument(where + ": mode " + octal_mode(st.st_mode) +
                                " lets other users read or change this secret key; it must be "
                                "the owner's alone (chmod 600 " +
                                path + ")");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(f.fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::invalid_argument(where + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  CurveCert c = parse_curve_cert(text, where);
  if (need_secret && c.secret_key.empty())
    throw std::invalid_argument(where +
                                ": a public certificate; this needs the secret one "
                                "(NAME.key_secret from radarpipe keygen)");
  return c;
}

std::vector<AuthorizedKey> read_authorized_keys(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::invalid_argument(what + " " + path + ": " + std::strerror(errno));
  std::vector<AuthorizedKey> keys;
  if (!S_ISDIR(st.st_mode)) {
    keys.push_back({path, read_curve_cert(path, false, what).public_key});
    return keys;
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
  if (!dir) throw std::invalid_argument(what + " " + path + ": " + std::strerror(errno));
  std::vector<std::string> files;
  while (const dirent* e = ::readdir(dir.get())) {
    const std::string name = e->d_name;
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".key") != 0) continue;
    if (files.size() == kMaxAuthorizedKeys)
      throw std::invalid_argument(what + " " + path + ": more than " +
                                  std::to_string(kMaxAuthorizedKeys) + " certificates");
    files.push_back(path + "/" + name);
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files)
    keys.push_back({f, read_curve_cert(f, false, what).public_key});
  if (keys.empty())
    throw std::invalid_argument(what + " " + path +
                                ": no public certificates (*.key) in the folder; no client could "
                                "connect");
  return keys;
}

CurveCert make_curve_keypair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()) +
                             " (libzmq built without CURVE?)");
  return CurveCert{std::string(pub, 40), std::string(sec, 40)};
}

std::vector<std::string> write_curve_cert_pair(const std::string& stem, const CurveCert& cert) {
  const std::string pub_path = stem + ".key", sec_path = stem + ".key_secret";
  struct stat st {};
  for (const std::string& p : {pub_path, sec_path})
    if (::lstat(p.c_str(), &st) == 0)
      throw std::invalid_argument(p + ": exists; keygen never replaces a key (remove it first)");
  const std::string when =
      format_rfc3339_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
  const std::string head = "#   radarpipe keygen, " + when + "\n";
  const std::string pub_text =
      head +
      "#   ZeroMQ CURVE public certificate: give it to the peers that must know this process\n"
      "#   (their security.server_key, or a file in their security.authorized_keys folder).\n\n"
      "metadata\ncurve\n    public-key = \"" +
      cert.public_key + "\"\n";
  const std::string sec_text =
      head +
      "#   ZeroMQ CURVE secret certificate: this process's identity. Keep it the owner's alone\n"
      "#   (mode 0600); never copy it to another host.\n\n"
      "metadata\ncurve\n    public-key = \"" +
      cert.public_key + "\"\n    secret-key = \"" + cert.secret_key + "\"\n";
  {
    Fd f;
    f.fd = ::open(sec_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f.fd < 0) throw std::runtime_error(sec_path + ": cannot create: " + std::strerror(errno));
    if (::fchmod(f.fd, 0600) != 0)
      throw std::runtime_error(sec_path + ": cannot set mode 0600: " + std::strerror(errno));
    write_all(f.fd, sec_text, sec_path);
    if (::fsync(f.fd) != 0)
      throw std::runtime_error(sec_path + ": cannot sync: " + std::strerror(errno));
  }
  {
    Fd f;
    f.fd = ::open(pub_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f.fd < 0) throw std::runtime_error(pub_path + ": cannot create: " + std::strerror(errno));
    write_all(f.fd, pub_text, pub_path);
  }
  return {pub_path, sec_path};
}

}  // namespace radarpipe::io
