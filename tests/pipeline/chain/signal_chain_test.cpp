// The one chain interface (pipeline/chain/signal_chain.hpp), driven as the runtime drives it,
// on the chain make_chain builds for the CPU backend: a pipelined loop that fills next_input()
// in place gives, CPI by CPI, what process() gives on a separate chain; ci16 input gives what
// its cf32 conversion gives; chains of some stages hand their outputs through ChainJob::out;
// every misuse of the contract is a std::logic_error naming it. (The CUDA chain's side of the
// same contract runs in cuda_chain_test, on a GPU.)
#include "pipeline/chain/signal_chain.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pipeline/chain/backend.hpp"
#include "pipeline/chain/cpu_chain.hpp"
#include "tests/support/chain_helpers.hpp"
#include "tests/support/reference.hpp"

namespace radarpipe {
namespace {

using test::workers;

Mode small_mode(std::size_t channels = 2) {
  return test::small_chain_mode(channels);
}

Cpi scene(const Mode& m, std::uint64_t seed) {
  Cpi cpi(CpiShape{m.radar.channels, m.processing.pulses, m.radar.range_gates});
  cpi.id = seed;
  cpi.timestamp_ns = 1700000000000000000LL + static_cast<std::int64_t>(seed) * 1000;
  const double amplitude = std::sqrt(std::pow(10.0, 15.0 / 10.0));
  test::add_echoes(cpi, m.radar,
                   {{1200.0 + 150.0 * static_cast<double>(seed % 5), 14.0, amplitude, 0.0}}, {});
  test::add_noise(cpi, 1.0, seed);
  return cpi;
}

std::unique_ptr<SignalChain> cpu_chain(const Mode& m, Stage first = Stage::PulseCompression,
                                       Stage last = Stage::Detection) {
  ChainOptions o;
  o.threads = 2;
  o.first = first;
  o.last = last;
  return make_chain(m, resolve_backend(Backend::Cpu), o);
}

void expect_same(const DetectionReport& got, const DetectionReport& want) {
  EXPECT_EQ(got.cpi, want.cpi);
  EXPECT_EQ(got.timestamp_ns, want.timestamp_ns);
  EXPECT_EQ(got.crossings, want.crossings);
  EXPECT_EQ(got.noise_power_db, want.noise_power_db);
  ASSERT_EQ(got.detections.size(), want.detections.size());
  for (std::size_t i = 0; i < want.detections.size(); ++i) {
    EXPECT_EQ(got.detections[i].range_m, want.detections[i].range_m) << i;
    EXPECT_EQ(got.detections[i].doppler_hz, want.detections[i].doppler_hz) << i;
    EXPECT_EQ(got.detections[i].snr_db, want.detections[i].snr_db) << i;
  }
}

// The loop of `radarpipe process` and `radarpipe run`: collect when full, fill next_input(),
// submit with no input pointer. Reports come back in order, equal to process() on another
// chain, with their CPI numbers, times and every stage's time.
TEST(SignalChain, PipelinedLoopFillingNextInputEqualsProcess) {
  const Mode m = small_mode();
  const std::unique_ptr<SignalChain> chain = cpu_chain(m);
  CpuChain reference(m, workers(2, 32));
  ASSERT_EQ(chain->backend(), Backend::Cpu);
  ASSERT_EQ(chain->depth(), 1u);
  ASSERT_TRUE(chain->accepts(SampleFormat::Ci16));
  std::vector<Cpi> cpis;
  for (std::uint64_t i = 0; i < 4; ++i) cpis.push_back(scene(m, 20 + i));
  std::deque<std::size_t> pending;
  std::size_t checked = 0;
  auto collect_one = [&] {
    const ChainResult r = chain->collect();
    const Cpi& c = cpis[pending.front()];
    pending.pop_front();
    ASSERT_NE(r.report, nullptr);
    EXPECT_EQ(r.out, nullptr);
    EXPECT_EQ(r.cpi, c.id);
    EXPECT_EQ(r.timestamp_ns, c.timestamp_ns);
    for (int s = 0; s < kStageCount; ++s) EXPECT_GT(r.seconds.s[s], 0.0) << s;
    const DetectionReport got = *r.report;
    expect_same(got, reference.process(c));
    EXPECT_FALSE(got.detections.empty());  // the target, at least
    ++checked;
  };
  for (std::size_t i = 0; i < cpis.size(); ++i) {
    if (chain->in_flight() == chain->depth()) collect_one();
    void* in = chain->next_input();
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(in) % 64, 0u);
    std::memcpy(in, cpis[i].samples.data(), chain->input_bytes(SampleFormat::Cf32));
    ChainJob job;
    job.cpi = cpis[i].id;
    job.timestamp_ns = cpis[i].timestamp_ns;
    chain->submit(job);
    pending.push_back(i);
  }
  while (chain->in_flight() > 0) collect_one();
  EXPECT_EQ(checked, cpis.size());
}

// ci16 input, scaled on the way in, is the same CPI as its cf32 conversion: the same power
// maps bit for bit and the same report (the conversion rounds once per component, as the CUDA
// chain's kernel does: kernels/cuda/stage_math.hpp ci16_to_complex).
TEST(SignalChain, Ci16InputEqualsItsConversion) {
  const Mode m = small_mode();
  const CpiShape shape{m.radar.channels, m.processing.pulses, m.radar.range_gates};
  std::vector<std::int16_t> raw(2 * shape.size());
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 900.0f);
  for (auto& v : raw) v = static_cast<std::int16_t>(std::lround(g(rng)));
  const float scale = 1.0f / 2048.0f;
  Cpi converted(shape);
  converted.id = 3;
  for (std::size_t i = 0; i < shape.size(); ++i)
    converted.samples[i] =
        cf32(static_cast<float>(raw[2 * i]) * scale, static_cast<float>(raw[2 * i + 1]) * scale);
  const std::unique_ptr<SignalChain> chain = cpu_chain(m);
  EXPECT_EQ(chain->input_bytes(SampleFormat::Ci16), 4 * shape.size());
  EXPECT_EQ(chain->input_bytes(SampleFormat::Cf32), 8 * shape.size());
  ChainJob job;
  job.cpi = 3;
  job.in = raw.data();
  job.format = SampleFormat::Ci16;
  job.scale = scale;
  chain->submit(job);
  const DetectionReport got = *chain->collect().report;
  PowerMap got_maps;
  chain->copy_power(got_maps);
  CpuChain reference(m, workers(2, 32));
  expect_same(got, reference.process(converted));
  PowerMap want_maps;
  reference.copy_power(want_maps);
  ASSERT_EQ(got_maps.data.size(), want_maps.data.size());
  EXPECT_EQ(std::memcmp(got_maps.data.data(), want_maps.data.data(),
                        want_maps.data.size() * sizeof(float)),
            0);
}

// Two segment chains (pulse compression | Doppler + detection) through submit / collect, the
// cube handed through ChainJob::out, report what the whole chain reports.
TEST(SignalChain, SegmentsHandTheirOutputThroughTheJob) {
  const Mode m = small_mode(1);
  const Cpi cpi = scene(m, 31);
  const std::unique_ptr<SignalChain> front =
      cpu_chain(m, Stage::PulseCompression, Stage::PulseCompression);
  const std::unique_ptr<SignalChain> back = cpu_chain(m, Stage::Doppler, Stage::Detection);
  EXPECT_FALSE(back->accepts(SampleFormat::Ci16));
  EXPECT_EQ(back->input_bytes(SampleFormat::Cf32), cpi.samples.size() * sizeof(cf32));
  std::vector<cf32> cube(cpi.samples.size());
  ChainJob a;
  a.cpi = cpi.id;
  a.timestamp_ns = cpi.timestamp_ns;
  a.in = cpi.samples.data();
  a.out = cube.data();
  front->submit(a);
  const ChainResult ra = front->collect();
  EXPECT_EQ(ra.report, nullptr);
  EXPECT_EQ(ra.out, cube.data());
  EXPECT_GT(ra.seconds[Stage::PulseCompression], 0.0);
  EXPECT_EQ(ra.seconds[Stage::Doppler], 0.0);
  ChainJob b;
  b.cpi = cpi.id;
  b.timestamp_ns = cpi.timestamp_ns;
  b.in = cube.data();
  back->submit(b);
  const ChainResult rb = back->collect();
  ASSERT_NE(rb.report, nullptr);
  EXPECT_EQ(rb.seconds[Stage::PulseCompression], 0.0);
  EXPECT_GT(rb.seconds[Stage::Doppler], 0.0);
  EXPECT_GT(rb.seconds[Stage::Detection], 0.0);
  CpuChain whole(m, workers(2, 32));
  const DetectionReport want = whole.process(cpi);
  ASSERT_EQ(rb.report->detections.size(), want.detections.size());
  EXPECT_EQ(rb.report->crossings, want.crossings);
  for (std::size_t i = 0; i < want.detections.size(); ++i)
    EXPECT_NEAR(rb.report->detections[i].range_m, want.detections[i].range_m, 1e-6);
}

void expect_logic_error(const std::function<void()>& f, const std::string& words) {
  try {
    f();
    ADD_FAILURE() << "no std::logic_error (expected one saying \"" << words << "\")";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(SignalChain, ContractViolationsAreNamed) {
  const Mode m = small_mode(1);
  const Cpi cpi = scene(m, 40);
  const std::unique_ptr<SignalChain> chain = cpu_chain(m);
  expect_logic_error([&] { chain->collect(); }, "nothing was submitted");
  chain->submit(cpi);
  EXPECT_EQ(chain->in_flight(), 1u);
  expect_logic_error([&] { chain->submit(cpi); }, "in flight");
  expect_logic_error([&] { chain->next_input(); }, "in flight");
  expect_logic_error([&] { chain->process(cpi); }, "in flight");
  chain->collect();
  std::vector<cf32> out(cpi.samples.size());
  ChainJob with_out;
  with_out.in = cpi.samples.data();
  with_out.out = out.data();
  expect_logic_error([&] { chain->submit(with_out); }, "takes no output buffer");
  EXPECT_EQ(chain->in_flight(), 0u);

  const std::unique_ptr<SignalChain> front =
      cpu_chain(m, Stage::PulseCompression, Stage::PulseCompression);
  ChainJob no_out;
  no_out.in = cpi.samples.data();
  expect_logic_error([&] { front->submit(no_out); }, "needs the job's output buffer");
  expect_logic_error([&] { front->process(cpi); }, "every stage");
  const std::unique_ptr<SignalChain> back = cpu_chain(m, Stage::Doppler, Stage::Detection);
  ChainJob ci16;
  ci16.in = cpi.samples.data();
  ci16.format = SampleFormat::Ci16;
  expect_logic_error([&] { back->submit(ci16); }, "does not take ci16");
  ChainJob nothing;
  expect_logic_error([&] { back->submit(nothing); }, "next_input() never called");
}

}  // namespace
}  // namespace radarpipe
