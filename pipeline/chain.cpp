#include "pipeline/chain.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/waveform.hpp"

namespace radarpipe {
namespace {
constexpr std::size_t kRowsPerTask = 4;  // pulse-compression rows handed out at a time
}

CpuChain::CpuChain(const Mode& mode, ChainOptions options)
    : mode_((mode.validate(), mode)), geometry_(derive_geometry(mode)), pool_(options.threads) {
  const RadarConfig& r = mode_.radar;
  const ProcessingConfig& p = mode_.processing;
  const std::size_t workers = pool_.size();

  cpu::PulseCompressionConfig pcc;
  pcc.gates = r.range_gates;
  pcc.waveform = cpu::sample_waveform(r.waveform, r.sample_rate_hz);
  pcc.window = p.range_window;
  pcc.planning = p.fft_planning;
  pcc.workers = workers;
  pc_ = std::make_unique<cpu::PulseCompressor>(pcc);

  cpu::DopplerConfig dc;
  dc.pulses = p.pulses;
  dc.gates = r.range_gates;
  dc.mti = p.mti;
  dc.window = p.doppler_window;
  dc.fft_size = p.doppler_fft_size;
  dc.planning = p.fft_planning;
  dc.workers = workers;
  dc.tile_gates = options.doppler_tile_gates;
  doppler_ = std::make_unique<cpu::DopplerProcessor>(dc);

  cpu::CfarStageConfig cc;
  cc.cfar = p.cfar;
  cc.doppler_bins = p.doppler_fft_size;
  cc.gates = r.range_gates;
  cc.workers = workers;
  cc.noise_gates = geometry_.first_eclipsed_bin;
  cc.looks = geometry_.cfar_looks;
  cfar_ = std::make_unique<cpu::Cfar>(cc);

  cpu::PlotConfig plc;
  plc.doppler_bins = p.doppler_fft_size;
  plc.gates = r.range_gates;
  plc.first_eclipsed_bin = geometry_.first_eclipsed_bin;
  plc.window_start_s = r.window_start_s;
  plc.sample_rate_hz = r.sample_rate_hz;
  plc.prf_hz = geometry_.prf_hz;
  plc.wavelength_m = geometry_.wavelength_m;
  plc.max_crossings = p.max_crossings;
  plc.range_offset_bins = r.waveform.type == WaveformType::Lfm ? 0.0 : -0.5;
  plc.interpolate_range = r.waveform.type == WaveformType::Lfm;
  plots_ = std::make_unique<cpu::PlotExtractor>(plc);

  compressed_ = Cpi(CpiShape{r.channels, p.pulses, r.range_gates});
  power_ = PowerMap(geometry_.maps, p.doppler_fft_size, r.range_gates);
  cfar_blocks_ = std::min(workers, p.doppler_fft_size);
  for (std::size_t b = 0; b < cfar_blocks_; ++b) block_crossings_.emplace_back(p.max_crossings);
  block_stats_.resize(cfar_blocks_);
  crossings_ = AlignedBuffer<cpu::CfarCrossing>(p.max_crossings);
  report_.detections.reserve(p.max_detections);
}

const DetectionReport& CpuChain::process(const Cpi& cpi) {
  if (!(cpi.shape == compressed_.shape))
    throw std::invalid_argument(
        "CPI " + std::to_string(cpi.id) + " has shape " + std::to_string(cpi.shape.channels) + "x" +
        std::to_string(cpi.shape.pulses) + "x" + std::to_string(cpi.shape.gates) +
        " (channels x pulses x gates), the mode expects " +
        std::to_string(compressed_.shape.channels) + "x" +
        std::to_string(compressed_.shape.pulses) + "x" + std::to_string(compressed_.shape.gates));

  // 1. Pulse compression, rows spread over the workers.
  const std::size_t rows = cpi.shape.channels * cpi.shape.pulses;
  const std::size_t n = cpi.shape.gates;
  auto pc_task = [&](std::size_t task, std::size_t worker) {
    const std::size_t r0 = task * kRowsPerTask;
    const std::size_t count = std::min(kRowsPerTask, rows - r0);
    pc_->process_rows(cpi.samples.data() + r0 * n, compressed_.samples.data() + r0 * n, count,
                      worker);
  };
  pool_.parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, pc_task);

  // 2. MTI + Doppler + power + channel combining, range tiles spread over the workers; a tile
  //    runs every channel, so noncoherent accumulation has one writer per cell.
  const bool combine = mode_.processing.channel_combine == ChannelCombine::Noncoherent;
  auto doppler_task = [&](std::size_t tile, std::size_t worker) {
    for (std::size_t c = 0; c < cpi.shape.channels; ++c) {
      float* map = power_.map(combine ? 0 : c);
      doppler_->power_tile(compressed_.channel(c), map, combine && c > 0, tile, worker);
    }
  };
  pool_.parallel_for(doppler_->tiles(), doppler_task);

  // 3-4. CFAR and plots per map.
  report_.cpi = cpi.id;
  report_.timestamp_ns = cpi.timestamp_ns;
  report_.cells = report_.crossings = report_.crossings_dropped = report_.detections_dropped = 0;
  report_.detections.clear();
  double noise_sum = 0.0;
  std::uint64_t noise_cells = 0;
  for (std::size_t map = 0; map < power_.maps; ++map) {
    detect_map(map, combine ? -1 : static_cast<int>(map));
    for (const cpu::CfarStats& s : block_stats_) {
      noise_sum += s.noise_sum;
      noise_cells += s.noise_cells;
    }
  }
  report_.noise_power_db =
      noise_cells ? 10.0 * std::log10(std::max(noise_sum / static_cast<double>(noise_cells), 1e-30))
                  : 0.0;
  return report_;
}

void CpuChain::detect_map(std::size_t map, int channel) {
  const float* p = power_.map(map);
  const std::size_t rows = power_.doppler_bins;
  const std::size_t capacity = mode_.processing.max_crossings;
  auto cfar_task = [&](std::size_t block, std::size_t worker) {
    const std::size_t d0 = rows * block / cfar_blocks_, d1 = rows * (block + 1) / cfar_blocks_;
    block_stats_[block] =
        cfar_->process_rows(p, d0, d1, block_crossings_[block].data(), capacity, worker);
  };
  pool_.parallel_for(cfar_blocks_, cfar_task);

  std::size_t count = 0;
  for (std::size_t b = 0; b < cfar_blocks_; ++b) {
    const cpu::CfarStats& s = block_stats_[b];
    report_.cells += s.cells;
    report_.crossings += s.crossings;
    const std::size_t take = std::min<std::size_t>(s.stored, capacity - count);
    std::memcpy(static_cast<void*>(crossings_.data() + count), block_crossings_[b].data(),
                take * sizeof(cpu::CfarCrossing));
    count += take;
    report_.crossings_dropped += s.crossings - take;
  }
  const cpu::PlotExtractor::Result r =
      plots_->extract(crossings_.data(), count, p, channel, report_.detections);
  report_.detections_dropped += r.dropped;
}

void CpuChain::transforms_only() {
  const std::size_t rows = compressed_.shape.channels * compressed_.shape.pulses;
  auto pc_task = [&](std::size_t task, std::size_t worker) {
    pc_->transforms_only(std::min(kRowsPerTask, rows - task * kRowsPerTask), worker);
  };
  pool_.parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, pc_task);
  const std::size_t channels = compressed_.shape.channels;
  auto doppler_task = [&](std::size_t, std::size_t worker) {
    for (std::size_t c = 0; c < channels; ++c) doppler_->transforms_only(worker);
  };
  pool_.parallel_for(doppler_->tiles(), doppler_task);
}

}  // namespace radarpipe
