#include "pipeline/chain/cfar_factor_cache.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <ostream>
#include <system_error>
#include <utility>

#include "io/le.hpp"
#include "io/sha512.hpp"
#include "pipeline/chain/user_cache.hpp"

namespace radarpipe {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'R', 'P', 'C', 'F', 'A', 'R', '0', '1'};
constexpr std::size_t kDigestChars = 128;
// magic, key digest, five u64 and one f64.
constexpr std::uint64_t kHeaderBytes = sizeof kMagic + kDigestChars + 6 * 8;

// Appends a little-endian field (io/le.hpp, as the wire headers are written).
template <class T>
void put(std::string& out, T v) {
  unsigned char b[sizeof(T)];
  io::le::put<T>(b, v);
  out.append(reinterpret_cast<const char*>(b), sizeof(T));
}

// Reads fixed-size fields from a span whose length was checked beforehand.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <class T>
  T get() {
    const T v = io::le::get<T>(reinterpret_cast<const unsigned char*>(b_.data()) + at_);
    at_ += sizeof(T);
    return v;
  }
  std::string_view take(std::size_t n) {
    const std::string_view v = b_.substr(at_, n);
    at_ += n;
    return v;
  }

 private:
  std::string_view b_;
  std::size_t at_ = 0;
};

std::string digest_of(std::string_view bytes) {
  io::Sha512 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

// Payload bytes for `classes` row classes, or 0 past 2^62 (no table is that large).
std::uint64_t file_bytes(std::uint64_t doppler_bins, std::uint64_t gates, std::uint64_t classes) {
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 62;
  if (doppler_bins == 0 || gates == 0 || doppler_bins > kLimit / 16 || gates > kLimit / 16 ||
      classes > kLimit / 8 / doppler_bins)
    return 0;
  const std::uint64_t rows = classes * doppler_bins * 8;
  const std::uint64_t cols = gates * 12;
  if (rows > kLimit - cols - kHeaderBytes - kDigestChars) return 0;
  return kHeaderBytes + cols + rows + kDigestChars;
}

}  // namespace

std::string cfar_factor_cache_path(const std::string& override_path) {
  if (override_path == "none") return {};
  if (!override_path.empty()) return override_path;
  return user_cache_path("cfar-factors");
}

std::string cfar_key_digest(const std::string& key) {
  return digest_of(key);
}

std::uint64_t cfar_factor_file_max_bytes(std::size_t doppler_bins, std::size_t gates) {
  return file_bytes(doppler_bins, gates, static_cast<std::uint64_t>(gates) + 1);
}

std::string cfar_factor_file(const std::string& key_digest, const cpu::CfarFactorTable& t) {
  const std::size_t gates = t.range_alpha.size(), doppler_bins = t.doppler_bins;
  if (key_digest.size() != kDigestChars || doppler_bins == 0 || t.row_class.size() != gates ||
      t.row_factor.size() % doppler_bins != 0)
    throw std::invalid_argument("cfar factor file: the table does not describe its map");
  const std::size_t classes = t.row_factor.size() / doppler_bins;
  std::string out(kMagic, sizeof kMagic);
  out += key_digest;
  put<std::uint64_t>(out, doppler_bins);
  put<std::uint64_t>(out, gates);
  put<std::uint64_t>(out, classes);
  put<std::uint64_t>(out, t.solves);
  put<std::uint64_t>(out, t.exact ? 1 : 0);
  put<double>(out, t.effective_cells);
  for (double a : t.range_alpha) put<double>(out, a);
  for (std::uint32_t c : t.row_class) put<std::uint32_t>(out, c);
  for (double f : t.row_factor) put<double>(out, f);
  out += digest_of(out);
  return out;
}

cpu::CfarFactorTable parse_cfar_factor_file(std::string_view bytes, const std::string& key_digest,
                                            std::size_t doppler_bins, std::size_t gates,
                                            const std::string& name) {
  auto fail = [&](const char* cause, const std::string& what) {
    throw CfarFactorFileError(cause, name + ": " + what);
  };
  if (bytes.size() < kHeaderBytes + kDigestChars)
    fail("size", std::to_string(bytes.size()) + " bytes, fewer than a header (" +
                     std::to_string(kHeaderBytes + kDigestChars) + ")");
  Reader r(bytes);
  if (std::memcmp(r.take(sizeof kMagic).data(), kMagic, sizeof kMagic) != 0)
    fail("magic", "does not start with RPCFAR01");
  const std::string_view key = r.take(kDigestChars);
  const std::uint64_t m = r.get<std::uint64_t>(), n = r.get<std::uint64_t>(),
                      classes = r.get<std::uint64_t>(), solves = r.get<std::uint64_t>(),
                      exact = r.get<std::uint64_t>();
  const double effective = r.get<double>();
  if (m != doppler_bins || n != gates)
    fail("geometry", "a map of " + std::to_string(m) + " Doppler bins x " + std::to_string(n) +
                         " gates, expected " + std::to_string(doppler_bins) + " x " +
                         std::to_string(gates));
  if (classes == 0 || classes > static_cast<std::uint64_t>(gates) + 1)
    fail("classes",
         "classes is " + std::to_string(classes) + ", expected 1 to " + std::to_string(gates + 1));
  const std::uint64_t expect = file_bytes(m, n, classes);
  if (expect == 0 || bytes.size() != expect)
    fail("size", std::to_string(bytes.size()) + " bytes, expected " + std::to_string(expect) +
                     " for its " + std::to_string(classes) + " classes");
  // The trailer covers everything before it: a torn or altered file stops here.
  const std::string_view body = bytes.substr(0, bytes.size() - kDigestChars);
  if (digest_of(body) != bytes.substr(bytes.size() - kDigestChars))
    fail("checksum", "its SHA-512 does not match its content");
  if (key != key_digest)
    fail("key", "stored for another CFAR, map or solver (key " + std::string(key.substr(0, 16)) +
                    "..., expected " + key_digest.substr(0, 16) + "...)");
  if (exact > 1) fail("value", "exact is " + std::to_string(exact) + ", expected 0 or 1");
  if (!(std::isfinite(effective) && effective > 0))
    fail("value",
         "effective_cells is " + std::to_string(effective) + ", expected a finite number > 0");
  cpu::CfarFactorTable t;
  t.doppler_bins = doppler_bins;
  t.solves = static_cast<std::size_t>(solves);
  t.exact = exact == 1;
  t.effective_cells = effective;
  t.range_alpha.resize(gates);
  t.row_class.resize(gates);
  t.row_factor.resize(static_cast<std::size_t>(classes) * doppler_bins);
  auto factor = [&](double v, const char* field, std::size_t i) {
    if (!(std::isfinite(v) && v > 0))
      fail("value", std::string(field) + "[" + std::to_string(i) + "] is " + std::to_string(v) +
                        ", expected a finite factor > 0");
    return v;
  };
  for (std::size_t i = 0; i < gates; ++i)
    t.range_alpha[i] = factor(r.get<double>(), "range_alpha", i);
  for (std::size_t i = 0; i < gates; ++i) {
    t.row_class[i] = r.get<std::uint32_t>();
    if (t.row_class[i] >= classes)
      fail("classes", "row_class[" + std::to_string(i) + "] is " + std::to_string(t.row_class[i]) +
                          ", expected below " + std::to_string(classes));
  }
  for (std::size_t i = 0; i < t.row_factor.size(); ++i)
    t.row_factor[i] = factor(r.get<double>(), "row_factor", i);
  return t;
}

CfarFactorCache::CfarFactorCache(std::string dir, std::ostream& log)
    : dir_(std::move(dir)), log_(log) {}

std::string CfarFactorCache::file_for(const std::string& digest) const {
  return dir_ + "/" + digest.substr(0, 32) + ".cfar";
}

bool CfarFactorCache::load(const std::string& key, std::size_t doppler_bins, std::size_t gates,
                           cpu::CfarFactorTable& out) {
  if (dir_.empty()) return false;
  const std::string digest = cfar_key_digest(key);
  const std::string path = file_for(digest);
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;  // solved here for the first time
  auto reject = [&](const std::string& cause, const std::string& what) {
    ++rejected_[cause];
    log_ << "radarpipe: warning: " << what
         << "; the CFAR factors are solved again and the file rewritten" << std::endl;
    return false;
  };
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return reject("read", path + ": " + ec.message());
  const std::uint64_t most = cfar_factor_file_max_bytes(doppler_bins, gates);
  if (size > most)
    return reject("size", path + ": " + std::to_string(size) +
                              " bytes, more than a table for this map can be (" +
                              std::to_string(most) + ")");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    return reject("read", path + ": cannot read " + std::to_string(size) + " bytes");
  try {
    out = parse_cfar_factor_file(bytes, digest, doppler_bins, gates, path);
  } catch (const CfarFactorFileError& e) {
    return reject(e.cause(), e.what());
  }
  ++loaded_;
  return true;
}

void CfarFactorCache::save(const std::string& key, const cpu::CfarFactorTable& table) {
  if (dir_.empty() || table.range_alpha.empty()) return;
  const std::string digest = cfar_key_digest(key);
  const std::string path = file_for(digest);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  // Unique per process and per save: chains of one process may be built on several threads.
  static std::atomic<std::uint64_t> saves{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(saves.fetch_add(1));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    const std::string bytes = cfar_factor_file(digest, table);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      log_ << "radarpipe: warning: " << tmp << ": cannot write the CFAR factors"
           << (ec ? " (" + ec.message() + ")" : std::string())
           << "; the next start solves them again" << std::endl;
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    log_ << "radarpipe: warning: " << path << ": cannot replace the CFAR factors (" << ec.message()
         << "); the next start solves them again" << std::endl;
    fs::remove(tmp, ec);
    return;
  }
  ++saved_;
}

}  // namespace radarpipe
