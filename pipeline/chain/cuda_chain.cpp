#include "pipeline/chain/cuda_chain.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

#include "kernels/cpu/plots.hpp"
#include "kernels/cpu/waveform.hpp"
#include "kernels/cuda/cfar.cuh"
#include "kernels/cuda/clutter_map.cuh"
#include "kernels/cuda/doppler.cuh"
#include "kernels/cuda/memory.cuh"
#include "kernels/cuda/plots.cuh"
#include "kernels/cuda/pulse_compression.cuh"
#include "pipeline/chain/cfar_factor_cache.hpp"
#include "pipeline/chain/stage_config.hpp"

namespace radarpipe {

struct CudaChain::Slot {
  cuda::Stream stream;
  cuda::PinnedBuffer<float2> pinned_in;  ///< one cube of cf32 (ci16 uses the first half)
  cuda::DeviceBuffer<float2> d_in;       ///< the first stage's input on the device
  cuda::DeviceBuffer<float2> d_cube;     ///< compressed cube, contiguous (chains ending there)
  cuda::DeviceBuffer<float> d_maps;
  std::unique_ptr<cuda::PulseCompressor> pc;
  std::unique_ptr<cuda::DopplerProcessor> doppler;
  std::unique_ptr<cuda::Cfar> cfar;
  std::unique_ptr<cuda::CrossingCollector> collector;
  std::vector<cuda::Event> events;  ///< around each stage: telemetry and benchmarks
  /// The clutter map's counts for this slot's CPI (2 per map: tested, crossings).
  cuda::DeviceBuffer<unsigned long long> d_map_counts;
  cuda::PinnedBuffer<unsigned long long> map_counts;
  std::size_t azimuth_cell = 0;  ///< the map's azimuth cell for this slot's CPI
  ChainJob job;                  ///< the CPI in this slot
  StageSeconds seconds;          ///< a segment's stage times (run_segment)
};

struct CudaChain::Impl {
  std::vector<std::unique_ptr<Slot>> slots;
  std::unique_ptr<cpu::PlotExtractor> plots;
  /// processing.clutter_map: one state on the device, which the slots update in CPI order.
  std::unique_ptr<cuda::ClutterMap> clutter;
  ClutterMapGeometry clutter_geometry;
  ClutterMapState clutter_host;  ///< clutter_map()'s copy
  DetectionReport report;
  int device = 0;
  /// copy_compressed()'s crop target, allocated on its first use and kept: a buffer freed per
  /// call would make cudaFree wait for every stream, the other slot's work included.
  cuda::DeviceBuffer<float2> crop;
  void use_device() const { RP_CUDA_CHECK(cudaSetDevice(device)); }
};

CudaChain::CudaChain(const Mode& mode, CudaChainOptions options)
    : mode_((mode.validate(), mode)),
      first_(options.first),
      last_(options.last),
      geometry_(derive_geometry(mode)),
      impl_(std::make_unique<Impl>()) {
  if (last_ < first_)
    throw std::invalid_argument("CudaChain: the last stage comes before the first");
  if (options.slots < 1) throw std::invalid_argument("CudaChain: slots must be >= 1");
  int count = 0;
  RP_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (options.device < 0 || options.device >= count)
    throw std::invalid_argument("CudaChain: device " + std::to_string(options.device) +
                                " does not exist (" + std::to_string(count) + " found)");
  impl_->device = options.device;
  impl_->use_device();
  cudaDeviceProp prop{};
  RP_CUDA_CHECK(cudaGetDeviceProperties(&prop, options.device));
  device_name_ = prop.name;

  const RadarConfig& r = mode_.radar;
  const ProcessingConfig& p = mode_.processing;
  const std::size_t cube = cube_samples();
  cube_samples_ = cube;
  map_cells_ = map_cells();
  // A segment (some stages only) runs one CPI at a time on slot 0.
  const std::size_t slot_count = whole() ? options.slots : 1;
  // The CFAR's threshold factors (every range edge, every variant) are solved once, by the CPU
  // stage, and shared by every slot's device CFAR.
  std::shared_ptr<const cpu::Cfar> cfar_reference;
  if (has(Stage::Detection)) {
    cpu::CfarStageConfig cc = cfar_stage_config(mode_, geometry_);
    cc.workers = 1;
    CfarFactorCache store(options.cfar_factors, options.log ? *options.log : std::cerr);
    cc.factor_store = &store;
    cfar_reference = std::make_shared<const cpu::Cfar>(cc);
    impl_->clutter_geometry = clutter_map_geometry(mode_);
    if (impl_->clutter_geometry.present)
      impl_->clutter = std::make_unique<cuda::ClutterMap>(
          std::make_shared<const cpu::ClutterMap>(clutter_map_stage_config(mode_)));
  }
  for (std::size_t i = 0; i < slot_count; ++i) {
    auto s = std::make_unique<Slot>();
    const cudaStream_t st = s->stream.get();
    // The whole chain reads from pinned memory (next_input). A segment is handed its input
    // (a link message's buffer) and pins a buffer only if next_input() is asked for. A chain
    // starting at detection takes its maps straight into d_maps.
    if (whole()) s->pinned_in = cuda::PinnedBuffer<float2>(cube);
    if (first_ != Stage::Detection) s->d_in = cuda::DeviceBuffer<float2>(cube, st);
    if (has(Stage::PulseCompression)) {
      cuda::PulseCompressionConfig pcc;
      pcc.gates = r.range_gates;
      pcc.rows = r.channels * p.pulses;
      pcc.waveform = cpu::sample_waveform(r.waveform, r.sample_rate_hz);
      pcc.window = p.range_window;
      s->pc = std::make_unique<cuda::PulseCompressor>(pcc);
      if (last_ == Stage::PulseCompression) s->d_cube = cuda::DeviceBuffer<float2>(cube, st);
    }
    if (has(Stage::Doppler)) {
      cuda::DopplerConfig dc;
      dc.channels = r.channels;
      dc.pulses = p.pulses;
      dc.gates = r.range_gates;
      dc.mti = p.mti;
      dc.window = p.doppler_window;
      dc.fft_size = p.doppler_fft_size;
      dc.combine = p.channel_combine;
      s->doppler = std::make_unique<cuda::DopplerProcessor>(dc);
    }
    if (has(Stage::Doppler) || has(Stage::Detection))
      s->d_maps = cuda::DeviceBuffer<float>(map_cells(), st);
    if (has(Stage::Detection)) {
      s->cfar = std::make_unique<cuda::Cfar>(cfar_reference, geometry_.maps);
      s->collector = std::make_unique<cuda::CrossingCollector>(
          *s->cfar, p.max_crossings,
          cuda::CrossingCollector::pool_size(geometry_.maps, p.max_crossings));
      if (impl_->clutter) {
        s->d_map_counts = cuda::DeviceBuffer<unsigned long long>(2 * geometry_.maps, st);
        s->map_counts = cuda::PinnedBuffer<unsigned long long>(2 * geometry_.maps);
      }
    }
    for (int e = 0; e < 5; ++e) s->events.emplace_back(true);
    impl_->slots.push_back(std::move(s));
  }
  if (has(Stage::Detection)) {
    impl_->plots = std::make_unique<cpu::PlotExtractor>(plot_config(mode_, geometry_));
    impl_->report.detections.reserve(p.max_detections);
  }
  RP_CUDA_CHECK(cudaDeviceSynchronize());
}

CudaChain::~CudaChain() {
  // Let queued work finish before the buffers it uses are freed; errors are moot here.
  if (impl_) {
    cudaSetDevice(impl_->device);
    for (auto& s : impl_->slots) cudaStreamSynchronize(s->stream.get());
  }
}

std::size_t CudaChain::slots() const {
  return impl_->slots.size();
}

std::size_t CudaChain::depth() const {
  return impl_->slots.size();
}

bool CudaChain::accepts(SampleFormat format) const {
  return format == SampleFormat::Cf32 || has(Stage::PulseCompression);
}

std::size_t CudaChain::crossing_capacity() const {
  const Slot& s = *impl_->slots[0];
  return s.collector ? s.collector->pool() : 0;
}

std::size_t CudaChain::cube_samples() const {
  return mode_.radar.channels * mode_.processing.pulses * mode_.radar.range_gates;
}

std::size_t CudaChain::map_cells() const {
  return geometry_.maps * mode_.processing.doppler_fft_size * mode_.radar.range_gates;
}

// Every stage is bracketed by events (recording one costs about a microsecond of launch time),
// so that the stage split of every CPI is known (telemetry) and benchmarks time the same code.
void CudaChain::enqueue_stages(Slot& s, SampleFormat format, float scale) {
  const cudaStream_t st = s.stream.get();
  s.events[0].record(st);
  s.pc->process(s.d_in.data(), format, scale, st);
  s.events[1].record(st);
  s.doppler->process(s.pc->output(), s.pc->output_stride(), s.d_maps.data(), st);
  s.events[2].record(st);
  s.cfar->process(s.d_maps.data(), st);
  run_clutter_map(s);
  s.events[3].record(st);
  s.collector->collect(*s.cfar, s.d_maps.data(), st);
  s.events[4].record(st);
}

CudaStageTimes CudaChain::device_times(const Slot& s) {
  CudaStageTimes t;
  t.pulse_compression_ms = cuda::elapsed_ms(s.events[0], s.events[1]);
  t.doppler_ms = cuda::elapsed_ms(s.events[1], s.events[2]);
  t.cfar_ms = cuda::elapsed_ms(s.events[2], s.events[3]);
  t.compaction_ms = cuda::elapsed_ms(s.events[3], s.events[4]);
  return t;
}

void CudaChain::enqueue(Slot& s, SampleFormat format, float scale) {
  const std::size_t bytes = input_bytes(format);
  RP_CUDA_CHECK(cudaMemcpyAsync(s.d_in.data(), s.pinned_in.data(), bytes, cudaMemcpyHostToDevice,
                                s.stream.get()));
  enqueue_stages(s, format, scale);
}

// The map's rows after the CFAR (cfar_ms includes the map's kernel).
void CudaChain::run_clutter_map(Slot& s) {
  if (!impl_->clutter) return;
  impl_->clutter->process(s.d_maps.data(), s.azimuth_cell, *s.cfar, s.d_map_counts.data(),
                          s.map_counts.data(), s.stream.get());
}

void CudaChain::finish(Slot& s) {
  s.collector->download(s.stream.get());
  DetectionReport& rep = impl_->report;
  rep.cpi = s.job.cpi;
  rep.timestamp_ns = s.job.timestamp_ns;
  rep.cells = map_cells();
  rep.crossings = rep.crossings_dropped = rep.detections_dropped = 0;
  rep.map_cells = rep.map_tested = rep.map_crossings = 0;
  rep.detections.clear();
  const bool combine = mode_.processing.channel_combine == ChannelCombine::Noncoherent;
  double noise_sum = 0.0;
  for (std::size_t map = 0; map < geometry_.maps; ++map) {
    const std::size_t stored = s.collector->stored(map);
    rep.crossings += s.collector->crossings(map);
    rep.crossings_dropped += s.collector->crossings(map) - stored;
    noise_sum += s.collector->noise_sum(map);
    const cpu::PlotExtractor::Result r = impl_->plots->extract(
        s.collector->host_crossings(map), stored, s.collector->host_neighbours(map),
        combine ? -1 : static_cast<int>(map), rep.detections);
    rep.detections_dropped += r.dropped;
  }
  if (impl_->clutter) {
    // The collector counted the map's crossings with the CFAR's (the map wrote its rows' masks):
    // the report keeps them apart, as the CPU chain's does.
    const ClutterMapGeometry& g = impl_->clutter_geometry;
    rep.map_cells = static_cast<std::uint64_t>(g.maps) * g.rows * g.gates;
    rep.cells -= rep.map_cells;
    for (std::size_t map = 0; map < geometry_.maps; ++map) {
      rep.map_tested += s.map_counts[2 * map];
      rep.map_crossings += s.map_counts[2 * map + 1];
    }
    rep.crossings -= rep.map_crossings;
    mark_clutter_map_detections(g, rep, 0);
  }
  const double noise_cells =
      static_cast<double>(s.cfar->noise_cells_per_map()) * static_cast<double>(geometry_.maps);
  rep.noise_power_db =
      noise_cells > 0 ? 10.0 * std::log10(std::max(noise_sum / noise_cells, 1e-30)) : 0.0;
}

void* CudaChain::next_input() {
  check_room("CudaChain::next_input");
  Slot& s = *impl_->slots[submitted_ % slots()];
  if (s.pinned_in.size() == 0)  // a segment, asked for the first time
    s.pinned_in = cuda::PinnedBuffer<float2>((input_bytes(SampleFormat::Cf32) + 7) / 8);
  return s.pinned_in.data();
}

void CudaChain::submit(const ChainJob& job) {
  check_job(job, "CudaChain::submit");
  impl_->use_device();
  Slot& s = *impl_->slots[submitted_ % slots()];
  s.job = job;
  if (impl_->clutter)
    s.azimuth_cell = clutter_map_azimuth_cell(mode_, impl_->clutter_geometry, job.timestamp_ns);
  if (!whole()) {
    run_segment(s, job);
    ++submitted_;
    return;
  }
  // The slot is free (check_job: fewer than slots() in flight, and its last CPI was collected,
  // so its stream is idle and the pinned buffer may be overwritten).
  if (job.in && job.in != s.pinned_in.data())
    std::memcpy(s.pinned_in.data(), job.in, input_bytes(job.format));
  enqueue(s, job.format, job.scale);
  ++submitted_;
}

ChainResult CudaChain::collect() {
  if (in_flight() == 0) throw std::logic_error("CudaChain::collect: nothing was submitted");
  impl_->use_device();
  const std::size_t i = collected_ % slots();
  Slot& s = *impl_->slots[i];
  ChainResult r;
  r.cpi = s.job.cpi;
  r.timestamp_ns = s.job.timestamp_ns;
  r.out = s.job.out;
  if (!whole()) {
    r.seconds = s.seconds;
    r.report = last_ == Stage::Detection ? &impl_->report : nullptr;
  } else {
    // Wait for the whole CPI first: the host's share of detection is timed from here on.
    s.stream.synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    finish(s);
    last_times_ = device_times(s);
    last_times_.host_plots_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    r.seconds[Stage::PulseCompression] = last_times_.pulse_compression_ms * 1e-3;
    r.seconds[Stage::Doppler] = last_times_.doppler_ms * 1e-3;
    r.seconds[Stage::Detection] =
        (last_times_.cfar_ms + last_times_.compaction_ms + last_times_.host_plots_ms) * 1e-3;
    r.report = &impl_->report;
  }
  last_slot_ = i;
  ++collected_;
  return r;
}

// A segment: the stages first..last on one CPI, synchronously, with the copies from and to the
// caller's host buffers; each stage's wall time includes its share of the copies.
void CudaChain::run_segment(Slot& s, const ChainJob& job) {
  using clock = std::chrono::steady_clock;
  const cudaStream_t st = s.stream.get();
  if (!job.in && s.pinned_in.size() == 0)
    throw std::logic_error("CudaChain::submit: no input given and next_input() never called");
  const void* in = job.in ? job.in : s.pinned_in.data();
  void* out = job.out;
  s.seconds = StageSeconds{};
  auto t0 = clock::now();
  auto lap = [&](Stage stage) {
    s.stream.synchronize();
    const auto t = clock::now();
    s.seconds[stage] = std::chrono::duration<double>(t - t0).count();
    t0 = t;
  };
  const std::size_t n = mode_.radar.range_gates;
  if (has(Stage::PulseCompression)) {
    RP_CUDA_CHECK(
        cudaMemcpyAsync(s.d_in.data(), in, input_bytes(job.format), cudaMemcpyHostToDevice, st));
    s.pc->process(s.d_in.data(), job.format, job.scale, st);
    if (last_ == Stage::PulseCompression) {
      s.pc->crop(reinterpret_cast<cf32*>(s.d_cube.data()), st);
      RP_CUDA_CHECK(cudaMemcpyAsync(out, s.d_cube.data(), cube_samples() * sizeof(cf32),
                                    cudaMemcpyDeviceToHost, st));
    }
    lap(Stage::PulseCompression);
  }
  if (has(Stage::Doppler)) {
    const cf32* src;
    std::size_t stride;
    if (has(Stage::PulseCompression)) {
      src = s.pc->output();
      stride = s.pc->output_stride();
    } else {
      RP_CUDA_CHECK(cudaMemcpyAsync(s.d_in.data(), in, cube_samples() * sizeof(cf32),
                                    cudaMemcpyHostToDevice, st));
      src = reinterpret_cast<const cf32*>(s.d_in.data());
      stride = n;
    }
    s.doppler->process(src, stride, s.d_maps.data(), st);
    if (last_ == Stage::Doppler)
      RP_CUDA_CHECK(cudaMemcpyAsync(out, s.d_maps.data(), map_cells() * sizeof(float),
                                    cudaMemcpyDeviceToHost, st));
    lap(Stage::Doppler);
  }
  if (has(Stage::Detection)) {
    if (!has(Stage::Doppler))
      RP_CUDA_CHECK(cudaMemcpyAsync(s.d_maps.data(), in, map_cells() * sizeof(float),
                                    cudaMemcpyHostToDevice, st));
    s.cfar->process(s.d_maps.data(), st);
    run_clutter_map(s);
    s.collector->collect(*s.cfar, s.d_maps.data(), st);
    finish(s);
    lap(Stage::Detection);
  }
}

const ClutterMapState* CudaChain::clutter_map() const {
  if (!impl_->clutter) return nullptr;
  if (in_flight() > 0) throw std::logic_error("CudaChain::clutter_map: CPIs are in flight");
  impl_->use_device();
  impl_->clutter->download(impl_->clutter_host);
  return &impl_->clutter_host;
}

void CudaChain::restore_clutter_map(const ClutterMapState& state) {
  if (!impl_->clutter)
    throw std::logic_error("CudaChain::restore_clutter_map: the chain has no clutter map");
  if (in_flight() > 0) throw std::logic_error("CudaChain::restore_clutter_map: CPIs are in flight");
  impl_->use_device();
  impl_->clutter->upload(state);
}

void CudaChain::copy_power(PowerMap& out) const {
  impl_->use_device();
  const Slot& s = *impl_->slots[last_slot_];
  out = PowerMap(geometry_.maps, mode_.processing.doppler_fft_size, mode_.radar.range_gates);
  if (s.d_maps.size() == 0) return;
  s.stream.synchronize();
  RP_CUDA_CHECK(cudaMemcpy(out.data.data(), s.d_maps.data(), map_cells() * sizeof(float),
                           cudaMemcpyDeviceToHost));
}

void CudaChain::copy_compressed(Cpi& out) const {
  impl_->use_device();
  const Slot& s = *impl_->slots[last_slot_];
  if (!s.pc) throw std::logic_error("CudaChain::copy_compressed: no pulse compression stage");
  const cudaStream_t st = s.stream.get();
  if (impl_->crop.size() == 0) impl_->crop = cuda::DeviceBuffer<float2>(cube_samples(), st);
  s.pc->crop(reinterpret_cast<cf32*>(impl_->crop.data()), st);
  out = Cpi(CpiShape{mode_.radar.channels, mode_.processing.pulses, mode_.radar.range_gates});
  RP_CUDA_CHECK(cudaMemcpyAsync(out.samples.data(), impl_->crop.data(),
                                cube_samples() * sizeof(cf32), cudaMemcpyDeviceToHost, st));
  s.stream.synchronize();
}

void CudaChain::copy_spectrum(std::vector<cf32>& out) const {
  impl_->use_device();
  const Slot& s = *impl_->slots[last_slot_];
  if (!s.doppler) throw std::logic_error("CudaChain::copy_spectrum: no Doppler stage");
  s.stream.synchronize();
  out.resize(mode_.radar.channels * mode_.processing.doppler_fft_size * mode_.radar.range_gates);
  RP_CUDA_CHECK(cudaMemcpy(out.data(), s.doppler->spectrum_output(), out.size() * sizeof(cf32),
                           cudaMemcpyDeviceToHost));
}

double CudaChain::run_on_device(std::size_t slot, SampleFormat format, CudaStageTimes* times) {
  if (!whole())
    throw std::logic_error("CudaChain::run_on_device needs a chain built for every stage");
  impl_->use_device();
  Slot& s = *impl_->slots.at(slot);
  enqueue_stages(s, format, 1.0f);
  s.events[4].synchronize();
  if (times) *times = device_times(s);
  return cuda::elapsed_ms(s.events[0], s.events[4]);
}

double CudaChain::transforms_on_device(std::size_t slot) {
  impl_->use_device();
  Slot& s = *impl_->slots.at(slot);
  const cudaStream_t st = s.stream.get();
  s.events[0].record(st);
  if (s.pc) s.pc->transforms_only(st);
  if (s.doppler) s.doppler->transforms_only(st);
  s.events[1].record(st);
  s.events[1].synchronize();
  return cuda::elapsed_ms(s.events[0], s.events[1]);
}

double CudaChain::copy_input_on_device(std::size_t slot, std::size_t bytes) {
  impl_->use_device();
  Slot& s = *impl_->slots.at(slot);
  const cudaStream_t st = s.stream.get();
  bytes = std::min(bytes, s.d_in.bytes());
  s.events[0].record(st);
  RP_CUDA_CHECK(
      cudaMemcpyAsync(s.d_in.data(), s.pinned_in.data(), bytes, cudaMemcpyHostToDevice, st));
  s.events[1].record(st);
  s.events[1].synchronize();
  return cuda::elapsed_ms(s.events[0], s.events[1]);
}

std::size_t CudaChain::pulse_compression_bytes(SampleFormat format) const {
  const Slot& s = *impl_->slots[0];
  return s.pc ? s.pc->bytes_moved(format) : 0;
}

std::size_t CudaChain::doppler_bytes() const {
  const Slot& s = *impl_->slots[0];
  return s.doppler ? s.doppler->bytes_moved() : 0;
}

std::size_t CudaChain::cfar_bytes() const {
  const Slot& s = *impl_->slots[0];
  return s.cfar ? s.cfar->bytes_moved() : 0;
}

}  // namespace radarpipe
