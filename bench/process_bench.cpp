// The whole job beside the chain, in the same run (docs/performance.md "The whole job"):
//
//   BM_ProcessOverChain/<mode>/<cpis>: `radarpipe process` (process_recording, output to
//   /dev/null) on a ci16 recording of <cpis> CPIs of bench-small (0) or bench-matx (1), with
//   core:sha512 verified and the mode's measured FFT planning served from wisdom made
//   beforehand; then, in the same iteration, the chain alone on the same CPIs through the chain
//   interface (the CPIs already in memory). Time: the job's. Counters: process_Msps and
//   chain_Msps (M samples/s), process_over_chain (their ratio, the figure),
//   first_report_s (from the call to the first CPI's report: opening, planning, reading),
//   skip_checksum: 1 when the run skipped verification (the second family).
//
//   Args {mode, cpis, chain threads, cli}: cli 1 times the radarpipe program itself, a fresh
//   process per iteration from spawn to exit, as a user runs it (its first report from what it
//   prints); cli 0 calls process_recording in this process, where each iteration also builds
//   its chain anew beside the benchmark's own. Chain threads 0 is every core; 1 runs the chain
//   (process's and the one alone) on one worker, which on the 2-vCPU benchmark VM leaves the
//   reading and the hash a core of their own, as they would have on a server with more cores
//   than the chain's workers.
//
// The recordings are made once into $TMPDIR/radarpipe-bench/ (bench_recording).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "pipeline/chain/backend.hpp"
#include "pipeline/chain/signal_chain.hpp"
#include "pipeline/commands/plan.hpp"
#include "pipeline/commands/process.hpp"

namespace radarpipe::bench {
namespace {

namespace fs = std::filesystem;

// Runs `argv` (stdout and stderr to `err_path`), returns its exit status.
int spawn_and_wait(const std::vector<std::string>& args, const std::string& err_path) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// "first report at X s" from process's summary line.
double first_report_from(const std::string& err_path) {
  std::ifstream in(err_path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = "first report at ";
  const auto at = text.find(key);
  return at == std::string::npos ? -1.0 : std::atof(text.c_str() + at + key.size());
}

void BM_ProcessOverChain(benchmark::State& state, bool skip_checksum) {
  using clock = std::chrono::steady_clock;
  const int mode_index = static_cast<int>(state.range(0));
  const std::size_t cpis = static_cast<std::size_t>(state.range(1));
  const std::size_t threads = static_cast<std::size_t>(state.range(2));
  const bool cli = state.range(3) == 1;
  const std::string mode_path =
      std::string(RADARPIPE_SOURCE_DIR) + "/configs/" + kModes[mode_index] + ".yaml";
  const Mode m = load_bench_mode(mode_index);
  const std::string rec = bench_recording(mode_index, m, cpis);
  const std::string wisdom = bench_dir() + "/fftw-wisdom";
  std::ostringstream quiet;
  if (m.processing.fft_planning != FftPlanning::Estimate) plan_ffts(m, wisdom, quiet);

  ProcessOptions po;
  po.input = rec;
  po.mode_path = mode_path;
  po.output = "/dev/null";
  po.verify_checksum = !skip_checksum;
  po.fft_wisdom = wisdom;
  po.threads = threads;
  ChainOptions co;
  co.fft_wisdom = wisdom;
  co.threads = threads;
  co.log = &quiet;
  const std::unique_ptr<SignalChain> chain = make_chain(m, resolve_backend(m.backend), co);
  std::vector<Cpi> in;
  for (std::size_t k = 0; k < std::min<std::size_t>(cpis, 2); ++k) in.push_back(random_cpi(m, k));

  const double samples = double(cpis) * double(in[0].shape.size());
  double process_s = 0.0, chain_s = 0.0, first_s = 0.0, setup_s = 0.0;
  std::vector<std::string> args = {RADARPIPE_CLI,  "process", "-i",        rec,
                                   "--mode",       mode_path, "-o",        "/dev/null",
                                   "--fft-wisdom", wisdom,    "--threads", std::to_string(threads)};
  if (skip_checksum) args.push_back("--skip-checksum");
  const std::string err_path = bench_dir() + "/process-stderr.txt";
  for (auto _ : state) {
    const auto t0 = clock::now();
    double first = 0.0, setup = 0.0;
    if (cli) {
      if (spawn_and_wait(args, err_path) != 0) {
        state.SkipWithError(("radarpipe process failed; see " + err_path).c_str());
        return;
      }
      first = first_report_from(err_path);
    } else {
      const ProcessSummary sum = process_recording(po, quiet);
      first = sum.first_report_seconds;
      setup = sum.setup_seconds;
    }
    const auto t1 = clock::now();
    std::size_t detections = 0;
    for (std::size_t k = 0; k < cpis; ++k)
      detections += chain->process(in[k % in.size()]).detections.size();
    const auto t2 = clock::now();
    benchmark::DoNotOptimize(detections);
    const double p = std::chrono::duration<double>(t1 - t0).count();
    process_s += p;
    chain_s += std::chrono::duration<double>(t2 - t1).count();
    first_s += first;
    setup_s += setup;
    state.SetIterationTime(p);
  }
  const double n = double(state.iterations());
  set_rates(state, samples, 4.0 * samples);
  state.SetLabel(std::string(kModes[mode_index]) +
                 (skip_checksum ? " skip-checksum" : " checksum") +
                 (threads == 1 ? " chain-on-one-core" : "") + (cli ? " cli" : ""));
  state.counters["process_Msps"] = samples * n / process_s / 1e6;
  state.counters["chain_Msps"] = samples * n / chain_s / 1e6;
  state.counters["process_over_chain"] = chain_s / process_s;
  state.counters["first_report_s"] = first_s / n;
  if (!cli) state.counters["setup_s"] = setup_s / n;
  state.counters["cli"] = cli ? 1 : 0;
  state.counters["skip_checksum"] = skip_checksum ? 1 : 0;
  state.counters["chain_threads"] = static_cast<double>(threads);
}

BENCHMARK_CAPTURE(BM_ProcessOverChain, checksum, false)
    ->Args({0, 2, 0, 1})
    ->Args({0, 16, 0, 1})
    ->Args({1, 2, 0, 1})
    ->Args({1, 16, 0, 1})
    ->Args({1, 16, 0, 0})
    ->Args({1, 16, 1, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_ProcessOverChain, skip_checksum, true)
    ->Args({0, 16, 0, 1})
    ->Args({1, 16, 0, 1})
    ->Args({1, 16, 0, 0})
    ->Args({1, 16, 1, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace
}  // namespace radarpipe::bench
