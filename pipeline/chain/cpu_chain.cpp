#include "pipeline/chain/cpu_chain.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

#include "kernels/cpu/waveform.hpp"
#include "pipeline/chain/cfar_factor_cache.hpp"

namespace radarpipe {
namespace {
constexpr std::size_t kRowsPerTask = 4;   // pulse-compression rows handed out at a time
constexpr std::size_t kTilesPerTask = 4;  // Doppler tiles handed out at a time (compress_doppler)
}  // namespace

CpuChain::CpuChain(const Mode& mode, ChainOptions options)
    : mode_((mode.validate(), mode)),
      first_(options.first),
      last_(options.last),
      geometry_(derive_geometry(mode)),
      pool_(options.threads) {
  if (last_ < first_)
    throw std::invalid_argument("CpuChain: the last stage comes before the first");
  const RadarConfig& r = mode_.radar;
  const ProcessingConfig& p = mode_.processing;
  const std::size_t workers = pool_.size();

  if (has(Stage::PulseCompression)) {
    cpu::PulseCompressionConfig pcc;
    pcc.gates = r.range_gates;
    pcc.waveform = cpu::sample_waveform(r.waveform, r.sample_rate_hz);
    pcc.window = p.range_window;
    pcc.planning = p.fft_planning;
    pcc.workers = workers;
    pc_ = std::make_unique<cpu::PulseCompressor>(pcc);
  }

  if (has(Stage::Doppler)) {
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
  }

  if (has(Stage::Detection)) {
    cpu::CfarStageConfig cc = cfar_stage_config(mode_, geometry_);
    cc.workers = workers;
    CfarFactorCache store(options.cfar_factors, options.log ? *options.log : std::cerr);
    cc.factor_store = &store;
    cfar_ = std::make_unique<cpu::Cfar>(cc);
    plots_ = std::make_unique<cpu::PlotExtractor>(plot_config(mode_, geometry_));

    clutter_geometry_ = clutter_map_geometry(mode_);
    if (clutter_geometry_.present) {
      clutter_ = std::make_unique<cpu::ClutterMap>(clutter_map_stage_config(mode_));
      map_crossings_ = AlignedBuffer<cpu::CfarCrossing>(p.max_crossings);
    }

    cfar_blocks_ = std::min(workers, p.doppler_fft_size);
    for (std::size_t b = 0; b < cfar_blocks_; ++b) block_crossings_.emplace_back(p.max_crossings);
    block_stats_.resize(cfar_blocks_);
    crossings_ = AlignedBuffer<cpu::CfarCrossing>(p.max_crossings);
    report_.detections.reserve(p.max_detections);
  } else {
    cfar_blocks_ = 0;
  }

  // Buffers between stages that run here back to back.
  if (has(Stage::PulseCompression) && has(Stage::Doppler)) {
    // Range tiles as wide as the Doppler tile: a Doppler tile reads one contiguous P x T block
    // per channel, and pulse compression writes each group of four pulses as T x 4 samples
    // (1 KB for T = 32) per tile. Tiles of 8 gates made the gather's reads simpler but the
    // stores' bursts four times shorter: 3-4 ms slower per CPI on bench-matx.
    tiles_ = cpu::RangeTiles{p.pulses, r.range_gates, doppler_->tile_gates()};
    if (!doppler_->accepts(tiles_))
      throw std::logic_error("CpuChain: the Doppler stage does not read the range-tile layout");
    // Written with streaming stores, which skip the read-for-ownership of every line: faster
    // than through the cache on both bench modes, even bench-small's 8 MB cube that the cache
    // could hold (docs/performance.md).
    tiled_ = AlignedBuffer<cf32>(r.channels * tiles_.channel_size());
  }
  if (has(Stage::Doppler) && has(Stage::Detection))
    power_ = PowerMap(geometry_.maps, p.doppler_fft_size, r.range_gates);
  if (has(Stage::PulseCompression))
    for (std::size_t w = 0; w < workers; ++w) convert_.emplace_back(kRowsPerTask * r.range_gates);
  cube_samples_ = cube_samples();
  map_cells_ = map_cells();
}

std::size_t CpuChain::cube_samples() const {
  return mode_.radar.channels * mode_.processing.pulses * mode_.radar.range_gates;
}

std::size_t CpuChain::map_cells() const {
  return geometry_.maps * mode_.processing.doppler_fft_size * mode_.radar.range_gates;
}

void CpuChain::require(Stage s, const char* what) const {
  if (!has(s))
    throw std::logic_error(std::string("CpuChain::") + what + ": this chain was built for " +
                           to_string(first_) + " .. " + to_string(last_) + " only");
}

bool CpuChain::accepts(SampleFormat format) const {
  return format == SampleFormat::Cf32 || has(Stage::PulseCompression);
}

void* CpuChain::next_input() {
  check_room("CpuChain::next_input");
  if (input_.size() == 0) input_ = AlignedBuffer<unsigned char>(input_bytes(SampleFormat::Cf32));
  return input_.data();
}

void CpuChain::submit(const ChainJob& job) {
  check_job(job, "CpuChain::submit");
  if (!job.in && input_.size() == 0)
    throw std::logic_error("CpuChain::submit: no input given and next_input() never called");
  result_ = ChainResult{};
  result_.cpi = job.cpi;
  result_.timestamp_ns = job.timestamp_ns;
  result_.out = job.out;
  run(job, result_.seconds);
  result_.report = last_ == Stage::Detection ? &report_ : nullptr;
  pending_ = true;
}

ChainResult CpuChain::collect() {
  if (!pending_) throw std::logic_error("CpuChain::collect: nothing was submitted");
  pending_ = false;
  return result_;
}

void CpuChain::run(const ChainJob& job, StageSeconds& seconds) {
  using clock = std::chrono::steady_clock;
  const void* cur = job.in ? job.in : input_.data();
  void* out = job.out;
  const Input input{cur, job.format, job.scale};
  for (int s = static_cast<int>(first_); s <= static_cast<int>(last_); ++s) {
    const auto t0 = clock::now();
    const bool last = s == static_cast<int>(last_);
    switch (static_cast<Stage>(s)) {
      case Stage::PulseCompression: {
        if (last) {
          compress_input(input, static_cast<cf32*>(out));
          break;
        }
        // Pulse compression and Doppler run as a pair through range tiles, each timed.
        float* dst = last_ == Stage::Doppler ? static_cast<float*>(out) : power_.data.data();
        compress_doppler_input(input, dst, seconds.s + s);
        cur = dst;
        ++s;
        if (s == static_cast<int>(last_)) return;
        continue;
      }
      case Stage::Doppler: {
        float* dst = last ? static_cast<float*>(out) : power_.data.data();
        doppler(static_cast<const cf32*>(cur), dst);
        cur = dst;
        break;
      }
      case Stage::Detection:
        detect(static_cast<const float*>(cur), job.cpi, job.timestamp_ns);
        break;
    }
    seconds.s[s] = std::chrono::duration<double>(clock::now() - t0).count();
  }
}

const cf32* CpuChain::rows_cf32(const Input& in, std::size_t r0, std::size_t count,
                                std::size_t worker) {
  const std::size_t n = mode_.radar.range_gates;
  if (in.format == SampleFormat::Cf32) return static_cast<const cf32*>(in.data) + r0 * n;
  const std::int16_t* src = static_cast<const std::int16_t*>(in.data) + 2 * r0 * n;
  float* dst = reinterpret_cast<float*>(convert_[worker].data());
  for (std::size_t i = 0; i < 2 * count * n; ++i) dst[i] = in.scale * static_cast<float>(src[i]);
  return convert_[worker].data();
}

void CpuChain::compress(const cf32* iq, cf32* compressed) {
  compress_input(Input{iq, SampleFormat::Cf32, 1.0f}, compressed);
}

void CpuChain::compress_doppler(const cf32* iq, float* maps, double* seconds) {
  compress_doppler_input(Input{iq, SampleFormat::Cf32, 1.0f}, maps, seconds);
}

// 1. Pulse compression, rows spread over the workers.
void CpuChain::compress_input(const Input& iq, cf32* out) {
  require(Stage::PulseCompression, "compress");
  const std::size_t rows = mode_.radar.channels * mode_.processing.pulses;
  const std::size_t n = mode_.radar.range_gates;
  auto pc_task = [&](std::size_t task, std::size_t worker) {
    const std::size_t r0 = task * kRowsPerTask;
    const std::size_t count = std::min(kRowsPerTask, rows - r0);
    pc_->process_rows(rows_cf32(iq, r0, count, worker), out + r0 * n, count, worker);
  };
  pool_.parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, pc_task);
}

// 2. MTI + Doppler + power + channel combining, range tiles spread over the workers; a tile
//    runs every channel, so noncoherent accumulation has one writer per cell.
void CpuChain::doppler(const cf32* compressed, float* maps) {
  require(Stage::Doppler, "doppler");
  const bool combine = mode_.processing.channel_combine == ChannelCombine::Noncoherent;
  const std::size_t channels = mode_.radar.channels;
  const std::size_t channel_samples = mode_.processing.pulses * mode_.radar.range_gates;
  const std::size_t map_size = mode_.processing.doppler_fft_size * mode_.radar.range_gates;
  auto doppler_task = [&](std::size_t tile, std::size_t worker) {
    for (std::size_t c = 0; c < channels; ++c) {
      float* map = maps + (combine ? 0 : c) * map_size;
      doppler_->power_tile(compressed + c * channel_samples, map, combine && c > 0, tile, worker);
    }
  };
  pool_.parallel_for(doppler_->tiles(), doppler_task);
}

// 1+2 through range tiles (kernels/cpu/range_tiles.hpp): pulse compression writes each pulse
//    into its slots of every tile; the Doppler tiles then read their P x T blocks front to back
//    (every channel of a tile in turn, so the combined map's tile stays in cache).
void CpuChain::compress_doppler_input(const Input& iq, float* maps, double* seconds) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  require(Stage::PulseCompression, "compress_doppler");
  require(Stage::Doppler, "compress_doppler");
  const std::size_t rows = mode_.radar.channels * mode_.processing.pulses;
  const std::size_t n = mode_.radar.range_gates;
  cf32* tiled = tiled_.data();
  auto pc_task = [&](std::size_t task, std::size_t worker) {
    const std::size_t r0 = task * kRowsPerTask;
    const std::size_t count = std::min(kRowsPerTask, rows - r0);
    pc_->process_rows_tiled(rows_cf32(iq, r0, count, worker), r0, count, tiles_, tiled, worker);
  };
  pool_.parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, pc_task);
  const auto t1 = clock::now();

  const bool combine = mode_.processing.channel_combine == ChannelCombine::Noncoherent;
  const std::size_t channels = mode_.radar.channels;
  const std::size_t map_size = mode_.processing.doppler_fft_size * n;
  // Runs of kTilesPerTask tiles per task, so that a worker knows its next tile and can fetch
  // its first channel while finishing the one before.
  const std::size_t tiles = doppler_->tiles();
  auto doppler_task = [&](std::size_t task, std::size_t worker) {
    const std::size_t first = task * kTilesPerTask, end = std::min(tiles, first + kTilesPerTask);
    for (std::size_t tile = first; tile < end; ++tile) {
      if (combine) {
        doppler_->combined_power_tile_tiled(tiled, tiles_, channels, maps, tile, worker,
                                            tile + 1 < end);
        continue;
      }
      for (std::size_t c = 0; c < channels; ++c)
        doppler_->power_tile_tiled(tiled, tiles_, c, maps + c * map_size, false, tile, worker,
                                   channels, tile + 1 < end);
    }
  };
  pool_.parallel_for((tiles + kTilesPerTask - 1) / kTilesPerTask, doppler_task);
  if (seconds) {
    seconds[0] = std::chrono::duration<double>(t1 - t0).count();
    seconds[1] = std::chrono::duration<double>(clock::now() - t1).count();
  }
}

// 3-4. CFAR and plots per map.
const DetectionReport& CpuChain::detect(const float* maps, std::uint64_t cpi,
                                        std::int64_t timestamp_ns) {
  require(Stage::Detection, "detect");
  const bool combine = mode_.processing.channel_combine == ChannelCombine::Noncoherent;
  const std::size_t map_size = mode_.processing.doppler_fft_size * mode_.radar.range_gates;
  report_.cpi = cpi;
  report_.timestamp_ns = timestamp_ns;
  report_.cells = report_.crossings = report_.crossings_dropped = report_.detections_dropped = 0;
  report_.map_cells = report_.map_tested = report_.map_crossings = 0;
  report_.detections.clear();
  if (clutter_) azimuth_cell_ = clutter_map_azimuth_cell(mode_, clutter_geometry_, timestamp_ns);
  double noise_sum = 0.0;
  std::uint64_t noise_cells = 0;
  for (std::size_t map = 0; map < geometry_.maps; ++map) {
    detect_map(maps + map * map_size, combine ? -1 : static_cast<int>(map));
    for (const cpu::CfarStats& s : block_stats_) {
      noise_sum += s.noise_sum;
      noise_cells += s.noise_cells;
    }
  }
  if (clutter_) clutter_->finish_cpi();
  report_.noise_power_db =
      noise_cells ? 10.0 * std::log10(std::max(noise_sum / static_cast<double>(noise_cells), 1e-30))
                  : 0.0;
  return report_;
}

void CpuChain::detect_map(const float* p, int channel) {
  const std::size_t rows = mode_.processing.doppler_fft_size;
  const std::size_t capacity = mode_.processing.max_crossings;
  // With a clutter map its rows [lo, hi) are the map's, the rest the CFAR's (each row block
  // tests its rows outside the map's; the map's rows run as one more task).
  const std::size_t lo = clutter_ ? clutter_->first_row() : rows;
  const std::size_t hi = clutter_ ? clutter_->end_row() : rows;
  auto task = [&](std::size_t block, std::size_t worker) {
    if (block == cfar_blocks_) {
      map_stats_ = clutter_->process_rows(p, channel < 0 ? 0 : static_cast<std::size_t>(channel),
                                          azimuth_cell_, lo, hi, map_crossings_.data(), capacity);
      return;
    }
    const std::size_t d0 = rows * block / cfar_blocks_, d1 = rows * (block + 1) / cfar_blocks_;
    cpu::CfarStats st;
    cpu::CfarCrossing* out = block_crossings_[block].data();
    for (const auto& [a, b] : {std::pair{d0, std::min(d1, lo)}, std::pair{std::max(d0, hi), d1}}) {
      if (a >= b) continue;
      st.add(cfar_->process_rows(p, a, b, out + st.stored, capacity - st.stored, worker));
    }
    // The map's rows feed the CFAR's noise statistic all the same (report.noise_power_db is
    // the mean Z over every row, as the GPU's CFAR sums it); their decisions are the map's.
    const std::size_t a = std::max(d0, lo), b = std::min(d1, hi);
    if (a < b) {
      const cpu::CfarStats band = cfar_->process_rows(p, a, b, nullptr, 0, worker);
      st.noise_sum += band.noise_sum;
      st.noise_cells += band.noise_cells;
    }
    block_stats_[block] = st;
  };
  pool_.parallel_for(cfar_blocks_ + (clutter_ ? 1 : 0), task);

  // Crossings in (d, m) order: the CFAR's rows below the map's, the map's, the CFAR's above.
  std::size_t count = 0;
  auto take = [&](const cpu::CfarCrossing* c, std::size_t n) {
    const std::size_t k = std::min(n, capacity - count);
    std::memcpy(static_cast<void*>(crossings_.data() + count), c, k * sizeof(cpu::CfarCrossing));
    count += k;
    return k;
  };
  auto below = [&](const cpu::CfarCrossing& c) { return c.doppler_bin < lo; };
  std::size_t kept = 0;
  for (std::size_t b = 0; b < cfar_blocks_; ++b) {
    const cpu::CfarCrossing* c = block_crossings_[b].data();
    const std::size_t n = block_stats_[b].stored;
    kept += take(c, static_cast<std::size_t>(std::partition_point(c, c + n, below) - c));
  }
  if (clutter_) {
    report_.map_cells += map_stats_.cells;
    report_.map_tested += map_stats_.tested;
    report_.map_crossings += map_stats_.crossings;
    kept += take(map_crossings_.data(), map_stats_.stored);
  }
  std::uint64_t crossings = 0;
  for (std::size_t b = 0; b < cfar_blocks_; ++b) {
    const cpu::CfarStats& s = block_stats_[b];
    report_.cells += s.cells;
    report_.crossings += s.crossings;
    crossings += s.crossings;
    const cpu::CfarCrossing* c = block_crossings_[b].data();
    const cpu::CfarCrossing* split = std::partition_point(c, c + s.stored, below);
    kept += take(split, static_cast<std::size_t>(c + s.stored - split));
  }
  if (clutter_) crossings += map_stats_.crossings;
  report_.crossings_dropped += crossings - kept;
  const std::size_t first = report_.detections.size();
  const cpu::PlotExtractor::Result r =
      plots_->extract(crossings_.data(), count, p, channel, report_.detections);
  report_.detections_dropped += r.dropped;
  mark_clutter_map_detections(clutter_geometry_, report_, first);
}

const ClutterMapState* CpuChain::clutter_map() const {
  return clutter_ ? &clutter_->state() : nullptr;
}

void CpuChain::restore_clutter_map(const ClutterMapState& state) {
  if (!clutter_)
    throw std::logic_error("CpuChain::restore_clutter_map: the chain has no clutter map");
  if (pending_) throw std::logic_error("CpuChain::restore_clutter_map: a CPI is in flight");
  clutter_->restore(state);
}

void CpuChain::copy_power(PowerMap& out) const {
  out = PowerMap(power_.maps, power_.doppler_bins, power_.gates);
  std::copy(power_.data.begin(), power_.data.end(), out.data.begin());
}

void CpuChain::transforms_only() {
  require(Stage::PulseCompression, "transforms_only");
  require(Stage::Doppler, "transforms_only");
  const std::size_t channels = mode_.radar.channels;
  const std::size_t rows = channels * mode_.processing.pulses;
  auto pc_task = [&](std::size_t task, std::size_t worker) {
    pc_->transforms_only(std::min(kRowsPerTask, rows - task * kRowsPerTask), worker);
  };
  pool_.parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, pc_task);
  auto doppler_task = [&](std::size_t tile, std::size_t worker) {
    for (std::size_t c = 0; c < channels; ++c) doppler_->transforms_only(tile, worker);
  };
  pool_.parallel_for(doppler_->tiles(), doppler_task);
}

}  // namespace radarpipe
