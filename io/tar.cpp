#include "io/tar.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace radarpipe::io {
namespace {

std::uint64_t parse_octal_or_base256(const unsigned char* p, std::size_t n, bool* ok) {
  *ok = true;
  if (p[0] & 0x80u) {  // GNU base-256 for sizes >= 8 GiB
    std::uint64_t v = p[0] & 0x7fu;
    for (std::size_t i = 1; i < n; ++i) v = (v << 8) | p[i];
    return v;
  }
  std::uint64_t v = 0;
  std::size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == 0)) ++i;
  bool digits = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    v = v * 8 + (p[i] - '0');
    digits = true;
  }
  for (; i < n; ++i)
    if (p[i] != ' ' && p[i] != 0) *ok = false;
  if (!digits && p[0] != 0 && p[0] != ' ') *ok = false;
  return v;
}

std::string field(const unsigned char* p, std::size_t n) {
  std::size_t len = 0;
  while (len < n && p[len]) ++len;
  return std::string(reinterpret_cast<const char*>(p), len);
}

/// A decimal number of digits only, at most `limit`; false for anything else (a sign, a space,
/// no digits, overflow).
bool parse_decimal(const std::string& text, std::uint64_t limit, std::uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (limit - d) / 10) return false;  // v * 10 + d > limit
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

/// pax records "LEN key=value\n" (LEN counts the whole record, its own digits included):
/// returns the value of `key`, or empty. A record whose length is not a plain decimal number
/// that fits what is left stops the scan (it used to be read as a huge unsigned number and
/// send the scan backwards forever).
std::string pax_value(const std::string& records, const std::string& key) {
  std::size_t pos = 0;
  while (pos < records.size()) {
    const std::size_t sp = records.find(' ', pos);
    if (sp == std::string::npos) break;
    std::uint64_t len = 0;
    if (!parse_decimal(records.substr(pos, sp - pos), records.size() - pos, &len) ||
        len < sp - pos + 2)  // the digits, the space and the newline at least
      break;
    const std::string rec = records.substr(sp + 1, pos + len - sp - 2);
    const std::size_t eq = rec.find('=');
    if (eq != std::string::npos && rec.substr(0, eq) == key) return rec.substr(eq + 1);
    pos += len;
  }
  return {};
}

}  // namespace

std::vector<TarMember> list_tar(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open archive");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  std::vector<TarMember> members;
  std::uint64_t pos = 0;
  std::string next_name, next_size;
  unsigned char h[512];
  while (pos + 512 <= file_size) {
    in.seekg(static_cast<std::streamoff>(pos));
    in.read(reinterpret_cast<char*>(h), 512);
    if (!in) throw std::runtime_error(path + ": read error at byte " + std::to_string(pos));
    bool zero = true;
    for (unsigned char c : h)
      if (c) zero = false;
    if (zero) break;  // end-of-archive marker
    // Checksum: sum of the header bytes with the checksum field taken as spaces.
    bool ok = true;
    const std::uint64_t stored = parse_octal_or_base256(h + 148, 8, &ok);
    std::uint64_t sum = 0;
    for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? 32u : h[i];
    if (!ok || stored != sum)
      throw std::runtime_error(path + ": not a tar archive (bad header checksum at byte " +
                               std::to_string(pos) + ")");
    std::uint64_t size = parse_octal_or_base256(h + 124, 12, &ok);
    if (!ok)
      throw std::runtime_error(path + ": bad member size field at byte " + std::to_string(pos));
    const char type = static_cast<char>(h[156] ? h[156] : '0');
    std::string name = field(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0) {
      const std::string prefix = field(h + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    const std::uint64_t content = pos + 512;
    if (size > file_size - content)  // written so that no size can overflow the sum
      throw std::runtime_error(path + ": member '" + name + "' at byte " + std::to_string(pos) +
                               " runs past the end of the archive (truncated?)");
    if (type == 'x' || type == 'L') {
      std::string body(static_cast<std::size_t>(size), '\0');
      in.seekg(static_cast<std::streamoff>(content));
      in.read(body.data(), static_cast<std::streamsize>(size));
      if (type == 'L') {
        next_name = body.c_str();
      } else {
        const std::string p = pax_value(body, "path");
        if (!p.empty()) next_name = p;
        next_size = pax_value(body, "size");
      }
    } else {
      if (!next_name.empty()) name = next_name;
      if (!next_size.empty() && !parse_decimal(next_size, file_size - content, &size))
        throw std::runtime_error(path + ": member '" + name + "' at byte " + std::to_string(pos) +
                                 ": pax size '" + next_size.substr(0, 32) +
                                 "' is not a size within the archive (" +
                                 std::to_string(file_size - content) + " bytes left)");
      next_name.clear();
      next_size.clear();
      if (type == '0' || type == '7') members.push_back({name, content, size, type});
    }
    pos = content + (size + 511) / 512 * 512;
  }
  return members;
}

void make_tar_header(const std::string& name, std::uint64_t size, char type, std::int64_t mtime,
                     unsigned char h[512]) {
  std::memset(h, 0, 512);
  if (name.size() > 99) throw std::invalid_argument("tar member name too long: " + name);
  std::memcpy(h, name.data(), name.size());
  std::snprintf(reinterpret_cast<char*>(h + 100), 8, "%07o", type == '5' ? 0755u : 0644u);
  std::snprintf(reinterpret_cast<char*>(h + 108), 8, "%07o", 0u);
  std::snprintf(reinterpret_cast<char*>(h + 116), 8, "%07o", 0u);
  if (size < 077777777777ull) {
    std::snprintf(reinterpret_cast<char*>(h + 124), 12, "%011llo",
                  static_cast<unsigned long long>(size));
  } else {  // base-256 (GNU) for members of 8 GiB and more
    h[124] = 0x80;
    for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<unsigned char>(size >> (8 * i));
  }
  std::snprintf(reinterpret_cast<char*>(h + 136), 12, "%011llo",
                static_cast<unsigned long long>(mtime < 0 ? 0 : mtime) & 077777777777ull);
  h[156] = static_cast<unsigned char>(type);
  std::memcpy(h + 257, "ustar", 6);  // "ustar\0" then version "00"
  h[263] = '0';
  h[264] = '0';
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += h[i];
  std::snprintf(reinterpret_cast<char*>(h + 148), 8, "%06o", sum);
  h[155] = ' ';
}

}  // namespace radarpipe::io
