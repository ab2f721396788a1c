#include "io/recording_source.hpp"

#include <cmath>

namespace radarpipe::io {

RecordingCpiSource::RecordingCpiSource(SigmfReader& reader, std::size_t pulses, std::size_t gates,
                                       double pri_s)
    : reader_(reader), pulses_(pulses), gates_(gates) {
  const auto& caps = reader.meta().captures;
  const std::uint64_t per_cpi = static_cast<std::uint64_t>(pulses) * gates;
  const std::uint64_t total = reader.samples();
  // The latest dated capture at or before each capture dates it.
  std::optional<std::int64_t> dated_ns;
  std::uint64_t dated_start = 0;
  for (std::size_t i = 0; i < caps.size(); ++i) {
    const std::uint64_t start = caps[i].sample_start;
    const std::uint64_t end = i + 1 < caps.size() ? caps[i + 1].sample_start : total;
    if (caps[i].datetime_ns) {
      dated_ns = caps[i].datetime_ns;
      dated_start = start;
    }
    const std::uint64_t len = end > start ? end - start : 0;
    const std::uint64_t count = len / per_cpi;
    leftover_samples_ += len - count * per_cpi;
    // CPIs are numbered on from the capture before, or from the capture's radar:cpi.
    std::uint64_t number = slots_.empty() ? 0 : slots_.back().cpi + 1;
    if (caps[i].cpi) number = *caps[i].cpi;
    for (std::uint64_t j = 0; j < count; ++j) {
      CpiSlot s;
      s.cpi = number + j;
      s.first_sample = start + j * per_cpi;
      s.capture = i;
      const double pulses_since =
          static_cast<double>(s.first_sample - (dated_ns ? dated_start : 0)) /
          static_cast<double>(gates);
      s.timestamp_ns = (dated_ns ? *dated_ns : 0) +
                       static_cast<std::int64_t>(std::llround(pulses_since * pri_s * 1e9));
      s.frequency_hz = caps[i].frequency_hz;
      slots_.push_back(s);
    }
  }
  if (!caps.empty()) leftover_samples_ += caps.front().sample_start;  // samples before capture 0
}

bool RecordingCpiSource::next(Cpi& cpi) {
  if (next_ >= slots_.size()) return false;
  read(next_++, cpi);
  return true;
}

void RecordingCpiSource::read(std::size_t index, Cpi& cpi) {
  const CpiShape shape{reader_.channels(), pulses_, gates_};
  if (!(cpi.shape == shape)) cpi = Cpi(shape);
  const CpiSlot& s = slots_.at(index);
  const std::size_t per_channel = pulses_ * gates_;
  reader_.read(s.first_sample, per_channel, cpi.samples.data(), per_channel);
  cpi.id = s.cpi;
  cpi.timestamp_ns = s.timestamp_ns;
}

}  // namespace radarpipe::io
