// The radarpipe command line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "pipeline/backend.hpp"
#include "pipeline/config/mode_file.hpp"
#include "pipeline/mode_summary.hpp"

#if defined(RADARPIPE_HAVE_CUDA)
#include "kernels/cuda/device.cuh"
#endif

namespace {

int config_check(const std::string& path, bool json) {
  using namespace radarpipe;
  Mode mode;
  try {
    mode = load_mode_file(path);
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe: invalid mode: " << e.what() << "\n";
    return 2;
  }
  nlohmann::json summary = mode_summary(mode);
  BackendChoice b;
  try {
    b = resolve_backend(mode.backend);
  } catch (const ConfigError& e) {
    std::cerr << "radarpipe: " << path << ": " << e.what() << "\n";
    return 2;
  }
  summary["backend_resolved"] = {
      {"requested", to_string(b.requested)}, {"chosen", to_string(b.chosen)}, {"reason", b.reason}};
  if (json) {
    std::cout << summary.dump(2) << "\n";
  } else {
    std::cout << "mode " << path << ": valid\n" << format_mode_summary(summary);
    std::cout << "backend\n  " << to_string(b.requested) << " -> " << to_string(b.chosen) << " ("
              << b.reason << ")\n";
  }
  return 0;
}

int devices() {
#if defined(RADARPIPE_HAVE_CUDA)
  const radarpipe::cuda::DeviceScan scan = radarpipe::cuda::scan_devices();
  std::printf("CUDA runtime %d, driver %d\n", scan.runtime_version, scan.driver_version);
  if (scan.devices.empty()) {
    std::printf("no device: %s\n", scan.reason.c_str());
    return 0;
  }
  for (const auto& d : scan.devices)
    std::printf("%d: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %.1f MiB, %.0f GB/s (theoretical)\n",
                d.index, d.name.c_str(), d.compute_major, d.compute_minor, d.multiprocessors,
                static_cast<double>(d.global_memory_bytes) / 1073741824.0,
                static_cast<double>(d.l2_cache_bytes) / 1048576.0, d.memory_bandwidth_gbps);
#else
  std::printf("this build has no CUDA backend (nvcc was not found at configure time)\n");
#endif
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"radarpipe: real-time pulse-Doppler radar signal processor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "radarpipe 0.1.0");

  CLI::App* config = app.add_subcommand("config", "Radar mode files");
  config->require_subcommand(1);
  CLI::App* check =
      config->add_subcommand("check", "Validate a mode file and print what it implies");
  std::string mode_path;
  bool json = false;
  check->add_option("FILE", mode_path, "mode file (YAML)")->required();
  check->add_flag("--json", json, "print the summary as JSON");

  app.add_subcommand("devices", "List CUDA devices");

  CLI11_PARSE(app, argc, argv);
  if (check->parsed()) return config_check(mode_path, json);
  if (app.got_subcommand("devices")) return devices();
  return 1;
}
