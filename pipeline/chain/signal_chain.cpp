#include "pipeline/chain/signal_chain.hpp"

#include <stdexcept>
#include <string>

#include "pipeline/chain/stage_config.hpp"

namespace radarpipe {

const char* to_string(SampleFormat f) {
  return f == SampleFormat::Ci16 ? "ci16" : "cf32";
}

std::size_t SignalChain::input_bytes(SampleFormat format) const {
  switch (first()) {
    case Stage::PulseCompression:
      return cube_samples_ *
             (format == SampleFormat::Ci16 ? 2 * sizeof(std::int16_t) : sizeof(cf32));
    case Stage::Doppler:
      return cube_samples_ * sizeof(cf32);
    case Stage::Detection:
      break;
  }
  return map_cells_ * sizeof(float);
}

void SignalChain::check_room(const char* who) const {
  if (in_flight() >= depth())
    throw std::logic_error(std::string(who) + ": all " + std::to_string(depth()) +
                           " CPIs this chain can hold are in flight; collect() one first");
}

void SignalChain::check_job(const ChainJob& job, const char* who) const {
  check_room(who);
  if (job.format != SampleFormat::Cf32 &&
      (first() != Stage::PulseCompression || !accepts(job.format)))
    throw std::logic_error(std::string(who) + ": this chain does not take " +
                           to_string(job.format) + " input");
  const bool wants_out = last() != Stage::Detection;
  if (wants_out && !job.out)
    throw std::logic_error(std::string(who) + ": a chain ending with " + to_string(last()) +
                           " needs the job's output buffer");
  if (!wants_out && job.out)
    throw std::logic_error(std::string(who) +
                           ": a chain ending with detection takes no output buffer");
}

void SignalChain::submit(const Cpi& cpi) {
  if (first() != Stage::PulseCompression || last() != Stage::Detection)
    throw std::logic_error("SignalChain::submit(Cpi) needs a chain built for every stage");
  check_cpi_shape(cpi, mode());
  ChainJob job;
  job.cpi = cpi.id;
  job.timestamp_ns = cpi.timestamp_ns;
  job.in = cpi.samples.data();
  submit(job);
}

const DetectionReport& SignalChain::process(const Cpi& cpi) {
  if (in_flight() != 0)
    throw std::logic_error("SignalChain::process: collect the CPIs in flight first");
  submit(cpi);
  return *collect().report;
}

const DetectionReport* SignalChain::run_stages(const void* in, void* out, std::uint64_t cpi,
                                               std::int64_t timestamp_ns, double* stage_seconds) {
  if (in_flight() != 0)
    throw std::logic_error("SignalChain::run_stages: collect the CPIs in flight first");
  ChainJob job;
  job.cpi = cpi;
  job.timestamp_ns = timestamp_ns;
  job.in = in;
  job.out = last() == Stage::Detection ? nullptr : out;
  submit(job);
  const ChainResult r = collect();
  for (int s = 0; s < kStageCount; ++s) stage_seconds[s] = r.seconds.s[s];
  return r.report;
}

}  // namespace radarpipe
