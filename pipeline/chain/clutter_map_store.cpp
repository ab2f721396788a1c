#include "pipeline/chain/clutter_map_store.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "io/clutter_map_file.hpp"

namespace radarpipe {
namespace fs = std::filesystem;

std::string clutter_map_path(const Mode& mode, const std::string& override_path) {
  if (!mode.processing.clutter_map.present || override_path == "none") return {};
  return override_path.empty() ? mode.processing.clutter_map.file : override_path;
}

std::string clutter_map_key(const Mode& mode) {
  const RadarConfig& r = mode.radar;
  const ProcessingConfig& p = mode.processing;
  const WaveformConfig& w = r.waveform;
  const ClutterMapGeometry g = clutter_map_geometry(mode);
  std::ostringstream k;
  k.precision(17);
  k << "radarpipe clutter map 1;fc " << r.center_frequency_hz << ";fs " << r.sample_rate_hz
    << ";pri " << r.pri_s << ";gates " << r.range_gates << ";t0 " << r.window_start_s
    << ";channels " << r.channels << ";waveform " << to_string(w.type) << " " << w.pulse_width_s
    << " " << w.bandwidth_hz << " " << w.direction << " " << w.barker_length << " "
    << w.chip_width_s << ";pulses " << p.pulses << ";range window "
    << to_string(p.range_window.type) << " " << p.range_window.nbar << " " << p.range_window.sll_db
    << " " << p.range_window.attenuation_db << ";mti " << to_string(p.mti) << ";doppler window "
    << to_string(p.doppler_window.type) << " " << p.doppler_window.nbar << " "
    << p.doppler_window.sll_db << " " << p.doppler_window.attenuation_db << ";M "
    << p.doppler_fft_size << ";combine " << to_string(p.channel_combine) << ";rows " << g.first_row
    << " " << g.rows << ";azimuth cells " << g.azimuth_cells << ";tau " << g.time_constant_updates;
  if (mode.antenna.present && mode.antenna.scan == ScanType::Rotating)
    k << ";scan " << mode.antenna.azimuth_deg << " " << mode.antenna.direction;
  return k.str();
}

ClutterMapStore::ClutterMapStore(std::string path, const Mode& mode, std::ostream& log)
    : path_(std::move(path)), key_(clutter_map_key(mode)), log_(log) {}

bool ClutterMapStore::load(SignalChain& chain) {
  const ClutterMapState* now = chain.clutter_map();
  if (path_.empty() || !now) return false;
  std::error_code ec;
  if (!fs::exists(path_, ec)) return false;  // a first start: the map learns
  const std::uint64_t want = io::clutter_map_file_bytes(*now);
  const std::uint64_t size = fs::file_size(path_, ec);
  auto reject = [&](const std::string& cause, const std::string& why) {
    ++rejected_[cause];
    log_ << "radarpipe: warning: " << why << "; the clutter map learns afresh" << std::endl;
    return false;
  };
  if (ec) return reject("read", path_ + ": cannot read the clutter map (" + ec.message() + ")");
  // The size is checked before anything is read or allocated.
  if (size != want)
    return reject("size", path_ + ": is " + std::to_string(size) + " bytes; this mode's map is " +
                              std::to_string(want));
  std::string bytes(size, '\0');
  std::ifstream f(path_, std::ios::binary);
  if (!f.read(bytes.data(), static_cast<std::streamsize>(size)))
    return reject("read", path_ + ": cannot read the clutter map");
  try {
    const ClutterMapState s = io::parse_clutter_map_file(bytes, key_, *now, path_);
    chain.restore_clutter_map(s);
    loaded_cpis_ = s.cpis;
    return true;
  } catch (const io::ClutterMapFileError& e) {
    return reject(e.cause(), e.what());
  } catch (const std::invalid_argument& e) {
    return reject("values", path_ + ": " + e.what());
  }
}

ClutterMapStore::~ClutterMapStore() {
  wait();
}

void ClutterMapStore::wait() {
  if (writer_.joinable()) writer_.join();
}

bool ClutterMapStore::save(const SignalChain& chain) {
  wait();
  const ClutterMapState* s = chain.clutter_map();
  if (path_.empty() || !s) return false;
  return write(*s);
}

bool ClutterMapStore::save_in_background(const SignalChain& chain) {
  if (path_.empty() || writing_.load()) return false;
  wait();  // the last writer has finished: join it
  const ClutterMapState* s = chain.clutter_map();
  if (!s) return false;
  copy_ = *s;
  writing_ = true;
  writer_ = std::thread([this] {
    write(copy_);
    writing_ = false;
  });
  return true;
}

bool ClutterMapStore::write(const ClutterMapState& s) {
  static std::atomic<std::uint64_t> saves{0};
  const std::string tmp =
      path_ + ".tmp." + std::to_string(getpid()) + "." + std::to_string(saves.fetch_add(1));
  std::error_code ec;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    const std::string bytes = io::clutter_map_file(key_, s);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      log_ << "radarpipe: warning: " << tmp << ": cannot write the clutter map" << std::endl;
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, path_, ec);
  if (ec) {
    log_ << "radarpipe: warning: " << path_ << ": cannot replace the clutter map (" << ec.message()
         << ")" << std::endl;
    fs::remove(tmp, ec);
    return false;
  }
  ++saved_;
  return true;
}

}  // namespace radarpipe
