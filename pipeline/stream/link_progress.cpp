#include "pipeline/stream/link_progress.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <stdexcept>

namespace radarpipe::stream {
namespace {
// "radarpipe-link-progress 1 " + 10 + " " + 20 + " " + 20 + "\n"
constexpr const char* kMagic = "radarpipe-link-progress 1 ";
constexpr std::size_t kLineBytes = 26 + 10 + 1 + 20 + 1 + 20 + 1;

bool digits(const std::string& s, std::size_t at, std::size_t n, std::uint64_t max,
            std::uint64_t& out) {
  std::uint64_t v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}
}  // namespace

std::string format_link_progress(const LinkProgress& p) {
  char line[kLineBytes + 1];
  std::snprintf(line, sizeof line, "%s%010" PRIu32 " %020" PRIu64 " %020" PRIu64 "\n", kMagic,
                p.stream_id, p.next_cpi, p.upstream_dropped);
  return std::string(line, kLineBytes);
}

std::optional<LinkProgress> parse_link_progress(const std::string& text) {
  if (text.size() != kLineBytes || text.compare(0, 26, kMagic) != 0 || text[36] != ' ' ||
      text[57] != ' ' || text[78] != '\n')
    return std::nullopt;
  std::uint64_t id = 0;
  LinkProgress p;
  if (!digits(text, 26, 10, 0xffffffffu, id) || !digits(text, 37, 20, UINT64_MAX, p.next_cpi) ||
      !digits(text, 58, 20, UINT64_MAX, p.upstream_dropped))
    return std::nullopt;
  p.stream_id = static_cast<std::uint32_t>(id);
  return p;
}

LinkProgressFile::LinkProgressFile(const std::string& dir, const std::string& segment,
                                   std::ostream& log)
    : path_(dir + "/" + segment + ".progress"), log_(&log) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error("--progress-dir: cannot open " + path_ + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw std::runtime_error("--progress-dir: " + path_ + " is not a regular file");
  }
  if (st.st_size == 0) return;  // a first start
  std::string text(kLineBytes + 1, '\0');
  const ssize_t n = ::pread(fd_, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  loaded_ = parse_link_progress(text);
  if (!loaded_ && ::ftruncate(fd_, 0) == 0)
    *log_ << "radarpipe run: " << path_ << ": not a link progress line (" << st.st_size
          << " bytes, expected " << kLineBytes
          << "); CPIs lost before this start are not counted, and it is rewritten\n";
}

LinkProgressFile::~LinkProgressFile() {
  if (fd_ >= 0) ::close(fd_);
}

void LinkProgressFile::record(const LinkProgress& p) {
  const std::string line = format_link_progress(p);
  const ssize_t n = ::pwrite(fd_, line.data(), line.size(), 0);
  if (n != static_cast<ssize_t>(line.size()) && !said_error_) {
    said_error_ = true;
    *log_ << "radarpipe run: " << path_ << ": cannot write the link progress ("
          << (n < 0 ? std::strerror(errno) : "short write") << "); a restart will not count "
          << "what this process loses\n";
  }
}

}  // namespace radarpipe::stream
