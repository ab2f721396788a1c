#include "pipeline/chain/fft_wisdom.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <system_error>

#include "kernels/cpu/fft.hpp"
#include "kernels/cpu/simd.hpp"
#include "pipeline/chain/user_cache.hpp"

namespace radarpipe {
namespace fs = std::filesystem;

namespace {

// Wisdom files are small (a few KB); anything far larger is not one of ours.
constexpr std::uintmax_t kMaxWisdomBytes = 16u << 20;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string m = line.substr(colon + 1);
        const std::size_t b = m.find_first_not_of(" \t");
        return b == std::string::npos ? std::string("unknown") : m.substr(b);
      }
    }
  return "unknown";
}

}  // namespace

std::string fft_wisdom_path(const Mode& mode, const std::string& override_path) {
  const std::string& chosen = !override_path.empty() ? override_path : mode.processing.fft_wisdom;
  if (chosen == "none") return {};
  if (!chosen.empty()) return chosen;
  return user_cache_path("fftw-wisdom");
}

std::string fft_wisdom_machine() {
  return std::string("radarpipe fftw wisdom; cpu ") + cpu_model() + "; simd " +
         (cpu::cpu_has_avx2() ? "avx2" : "sse2") + "; fftw " + fftwf_version;
}

FftWisdom::FftWisdom(std::string path, std::ostream& log)
    : path_(std::move(path)), log_(log), measured_at_start_(cpu::measured_plans()) {
  cpu::import_system_wisdom();
  cpu::set_planning_notice([this, said = false]() mutable {
    if (said) return;
    said = true;
    log_ << "radarpipe: planning FFTs for this machine, once (FFTW measures them; "
         << (path_.empty() ? std::string("no wisdom file: every start will measure")
                           : "the result is kept in " + path_)
         << ")" << std::endl;
  });
  if (path_.empty()) return;
  std::error_code ec;
  if (!fs::exists(path_, ec)) return;  // the first start on this machine
  const std::uintmax_t size = fs::file_size(path_, ec);
  if (ec || size > kMaxWisdomBytes) {
    log_ << "radarpipe: warning: " << path_ << ": ignored (" << (ec ? ec.message() : "")
         << (ec ? "" : std::to_string(size) + " bytes, more than any wisdom file")
         << "); FFTs will be planned again" << std::endl;
    return;
  }
  std::ifstream in(path_, std::ios::binary);
  std::string first;
  std::getline(in, first);
  std::ostringstream rest;
  rest << in.rdbuf();
  const std::string machine = fft_wisdom_machine();
  if (first != machine) {
    log_ << "radarpipe: warning: " << path_ << ": ignored: its wisdom is for \""
         << (first.size() > 200 ? first.substr(0, 200) + "..." : first) << "\", this machine is \""
         << machine << "\"; FFTs will be planned again and the file "
         << "rewritten" << std::endl;
    return;
  }
  if (!cpu::import_wisdom(rest.str())) {
    log_ << "radarpipe: warning: " << path_
         << ": ignored: FFTW rejects its wisdom text as corrupt; FFTs will be planned again and "
            "the file rewritten"
         << std::endl;
    return;
  }
  loaded_ = true;
}

FftWisdom::~FftWisdom() {
  try {
    save();
  } catch (...) {
  }
  cpu::set_planning_notice({});
}

bool FftWisdom::save(bool force) {
  if (path_.empty()) return false;
  if (!force && cpu::measured_plans() == measured_at_start_) return false;
  const std::string text = cpu::export_wisdom();
  std::error_code ec;
  const fs::path target(path_);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  const std::string tmp = path_ + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << fft_wisdom_machine() << "\n" << text;
    if (!out) {
      log_ << "radarpipe: warning: " << tmp << ": cannot write the FFT wisdom"
           << (ec ? " (" + ec.message() + ")" : std::string()) << "; the next start plans again"
           << std::endl;
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    log_ << "radarpipe: warning: " << path_ << ": cannot replace the FFT wisdom (" << ec.message()
         << "); the next start plans again" << std::endl;
    fs::remove(tmp, ec);
    return false;
  }
  measured_at_start_ = cpu::measured_plans();
  return true;
}

}  // namespace radarpipe
