#include "pipeline/cuda_chain.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cpu/plots.hpp"
#include "kernels/cpu/waveform.hpp"
#include "kernels/cuda/cfar.cuh"
#include "kernels/cuda/doppler.cuh"
#include "kernels/cuda/memory.cuh"
#include "kernels/cuda/plots.cuh"
#include "kernels/cuda/pulse_compression.cuh"

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
  std::vector<cuda::Event> events;  ///< timing events for run_on_device / transforms_on_device
  std::uint64_t cpi = 0;
  std::int64_t timestamp_ns = 0;
};

struct CudaChain::Impl {
  std::vector<std::unique_ptr<Slot>> slots;
  std::unique_ptr<cpu::PlotExtractor> plots;
  DetectionReport report;
  int device = 0;
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
  for (std::size_t i = 0; i < options.slots; ++i) {
    auto s = std::make_unique<Slot>();
    // The pipelined whole chain reads from pinned memory; run_stages copies from the caller's
    // buffers. A chain starting at detection takes its maps straight into d_maps.
    if (first_ == Stage::PulseCompression && last_ == Stage::Detection)
      s->pinned_in = cuda::PinnedBuffer<float2>(cube);
    if (first_ != Stage::Detection) s->d_in = cuda::DeviceBuffer<float2>(cube);
    if (has(Stage::PulseCompression)) {
      cuda::PulseCompressionConfig pcc;
      pcc.gates = r.range_gates;
      pcc.rows = r.channels * p.pulses;
      pcc.waveform = cpu::sample_waveform(r.waveform, r.sample_rate_hz);
      pcc.window = p.range_window;
      s->pc = std::make_unique<cuda::PulseCompressor>(pcc);
      if (last_ == Stage::PulseCompression) s->d_cube = cuda::DeviceBuffer<float2>(cube);
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
      s->d_maps = cuda::DeviceBuffer<float>(map_cells());
    if (has(Stage::Detection)) {
      s->cfar = std::make_unique<cuda::Cfar>(cfar_stage_config(mode_, geometry_), geometry_.maps);
      s->collector = std::make_unique<cuda::CrossingCollector>(*s->cfar, p.max_crossings);
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

std::size_t CudaChain::cube_samples() const {
  return mode_.radar.channels * mode_.processing.pulses * mode_.radar.range_gates;
}

std::size_t CudaChain::map_cells() const {
  return geometry_.maps * mode_.processing.doppler_fft_size * mode_.radar.range_gates;
}

// Every stage is bracketed by events (recording one costs about a microsecond of launch time),
// so that the stage split of every CPI is known (telemetry) and benchmarks time the same code.
void CudaChain::enqueue_stages(Slot& s, IqFormat format, float scale) {
  const cudaStream_t st = s.stream.get();
  s.events[0].record(st);
  s.pc->process(s.d_in.data(),
                format == IqFormat::Ci16 ? cuda::SampleFormat::Ci16 : cuda::SampleFormat::Cf32,
                scale, st);
  s.events[1].record(st);
  s.doppler->process(s.pc->output(), s.pc->output_stride(), s.d_maps.data(), st);
  s.events[2].record(st);
  s.cfar->process(s.d_maps.data(), st);
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

void CudaChain::enqueue(Slot& s, IqFormat format, float scale) {
  const std::size_t bytes = cube_samples() * (format == IqFormat::Ci16 ? 4 : 8);
  RP_CUDA_CHECK(cudaMemcpyAsync(s.d_in.data(), s.pinned_in.data(), bytes, cudaMemcpyHostToDevice,
                                s.stream.get()));
  enqueue_stages(s, format, scale);
}

void CudaChain::finish(Slot& s) {
  s.collector->download(s.stream.get());
  DetectionReport& rep = impl_->report;
  rep.cpi = s.cpi;
  rep.timestamp_ns = s.timestamp_ns;
  rep.cells = map_cells();
  rep.crossings = rep.crossings_dropped = rep.detections_dropped = 0;
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
  const double noise_cells =
      static_cast<double>(s.cfar->noise_cells_per_map()) * static_cast<double>(geometry_.maps);
  rep.noise_power_db =
      noise_cells > 0 ? 10.0 * std::log10(std::max(noise_sum / noise_cells, 1e-30)) : 0.0;
}

void* CudaChain::next_pinned_input() {
  if (first_ != Stage::PulseCompression || last_ != Stage::Detection)
    throw std::logic_error("CudaChain::next_pinned_input needs a chain built for every stage");
  return impl_->slots[submitted_ % slots()]->pinned_in.data();
}

void CudaChain::submit_pinned(IqFormat format, float scale, std::uint64_t cpi,
                              std::int64_t timestamp_ns) {
  if (first_ != Stage::PulseCompression || last_ != Stage::Detection)
    throw std::logic_error("CudaChain::submit needs a chain built for every stage");
  if (in_flight() >= slots())
    throw std::logic_error("CudaChain::submit: all " + std::to_string(slots()) +
                           " slots hold CPIs not yet collected");
  impl_->use_device();
  Slot& s = *impl_->slots[submitted_ % slots()];
  s.cpi = cpi;
  s.timestamp_ns = timestamp_ns;
  enqueue(s, format, scale);
  ++submitted_;
}

void CudaChain::submit(const Cpi& cpi) {
  check_cpi_shape(cpi, mode_);
  submit_samples(cpi.samples.data(), cpi.id, cpi.timestamp_ns);
}

void CudaChain::submit_samples(const cf32* samples, std::uint64_t cpi, std::int64_t timestamp_ns) {
  if (in_flight() >= slots())
    throw std::logic_error("CudaChain::submit: all " + std::to_string(slots()) +
                           " slots hold CPIs not yet collected");
  std::copy(samples, samples + cube_samples(),
            static_cast<cf32*>(static_cast<void*>(next_pinned_input())));
  submit_pinned(IqFormat::Cf32, 1.0f, cpi, timestamp_ns);
}

const DetectionReport& CudaChain::collect() {
  if (in_flight() == 0) throw std::logic_error("CudaChain::collect: nothing was submitted");
  impl_->use_device();
  const std::size_t i = collected_ % slots();
  Slot& s = *impl_->slots[i];
  const auto t0 = std::chrono::steady_clock::now();
  finish(s);
  last_times_ = device_times(s);
  last_times_.host_plots_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  last_slot_ = i;
  ++collected_;
  return impl_->report;
}

const DetectionReport& CudaChain::process(const Cpi& cpi) {
  submit(cpi);
  return collect();
}

const DetectionReport* CudaChain::run_stages(const void* in, void* out, std::uint64_t cpi,
                                             std::int64_t timestamp_ns, double* stage_seconds) {
  using clock = std::chrono::steady_clock;
  if (in_flight() != 0)
    throw std::logic_error("CudaChain::run_stages: collect the submitted CPIs first");
  impl_->use_device();
  Slot& s = *impl_->slots[0];
  const cudaStream_t st = s.stream.get();
  for (int k = 0; k < kStageCount; ++k) stage_seconds[k] = 0.0;
  const DetectionReport* report = nullptr;
  auto t0 = clock::now();
  auto lap = [&](Stage stage) {
    s.stream.synchronize();
    const auto t = clock::now();
    stage_seconds[static_cast<int>(stage)] = std::chrono::duration<double>(t - t0).count();
    t0 = t;
  };
  const std::size_t n = mode_.radar.range_gates;
  if (has(Stage::PulseCompression)) {
    RP_CUDA_CHECK(cudaMemcpyAsync(s.d_in.data(), in, cube_samples() * sizeof(cf32),
                                  cudaMemcpyHostToDevice, st));
    s.pc->process(s.d_in.data(), cuda::SampleFormat::Cf32, 1.0f, st);
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
    s.cpi = cpi;
    s.timestamp_ns = timestamp_ns;
    s.cfar->process(s.d_maps.data(), st);
    s.collector->collect(*s.cfar, s.d_maps.data(), st);
    finish(s);
    last_slot_ = 0;
    report = &impl_->report;
    lap(Stage::Detection);
  }
  return report;
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
  s.stream.synchronize();
  cuda::DeviceBuffer<float2> tmp(cube_samples());
  s.pc->crop(reinterpret_cast<cf32*>(tmp.data()), s.stream.get());
  s.stream.synchronize();
  out = Cpi(CpiShape{mode_.radar.channels, mode_.processing.pulses, mode_.radar.range_gates});
  RP_CUDA_CHECK(cudaMemcpy(out.samples.data(), tmp.data(), cube_samples() * sizeof(cf32),
                           cudaMemcpyDeviceToHost));
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

double CudaChain::run_on_device(std::size_t slot, IqFormat format, CudaStageTimes* times) {
  if (first_ != Stage::PulseCompression || last_ != Stage::Detection)
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

std::size_t CudaChain::pulse_compression_bytes(IqFormat format) const {
  const Slot& s = *impl_->slots[0];
  return s.pc ? s.pc->bytes_moved(format == IqFormat::Ci16 ? cuda::SampleFormat::Ci16
                                                           : cuda::SampleFormat::Cf32)
              : 0;
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
