// The streaming commands as separate processes on loopback: replay -> run (segment compress)
// -> tcp -> run (segment detect) -> listen equals `radarpipe process`; `run` stopped by SIGTERM
// under load exits 0 within a bound and publishes what it had in hand; stats reads telemetry.
// Each step waits for the line a process prints when it is ready (its bound endpoint), never a
// fixed sleep.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "io/detection_json.hpp"
#include "tests/support/command.hpp"
#include "tests/support/stream_mode.hpp"

namespace fs = std::filesystem;
using radarpipe::test::radarpipe_binary;
using radarpipe::test::run_command;

namespace {

const std::string kMode =
    std::string(radarpipe::test::kStreamMode) + radarpipe::test::kStreamTwoSegments;

const char* kScene = R"(start_time: 2026-11-21T12:00:00Z
seed: 5
targets:
  - {name: a, range_m: 900, range_rate_mps: 30, snr_db: 3}
  - {name: b, range_m: 2100, range_rate_mps: -55, snr_db: 0, swerling: 1}
)";

// Shell helpers (run under bash -c '...': no single quotes inside): wait_for FILE REGEX prints the
// first match of REGEX in FILE once it appears (the process's readiness line), giving up after 60
// s.
const char* kHelpers = R"(
set -u
# However the script ends, none of its processes outlives it holding the pipe to the test open.
trap "kill -9 \$(jobs -p) 2>/dev/null" EXIT
wait_for() {
  for i in $(seq 1 1200); do
    m=$(grep -o -m1 -E "$2" "$1" 2>/dev/null || true)
    if [ -n "$m" ]; then echo "$m"; return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for $2 in $1" >&2; cat "$1" >&2; return 1
}
)";

class StreamingCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("radarpipe_stream_cli_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "mode.yaml") << kMode;
    std::ofstream(dir_ / "scene.yaml") << kScene;
    const auto sim = run_command("cd " + dir_.string() + " && " + radarpipe_binary() +
                                 " simulate --mode mode.yaml --scenario scene.yaml --cpis 12 "
                                 "-o rec --datatype ci16_le");
    ASSERT_EQ(sim.code, 0) << sim.out;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string script(const std::string& body) {
    return "cd " + dir_.string() + " && R=" + radarpipe_binary() + " && bash -c '" + kHelpers +
           body + "'";
  }
  fs::path dir_;
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(StreamingCli, TwoProcessesOverTcpEqualProcess) {
  const auto ref = run_command("cd " + dir_.string() + " && " + radarpipe_binary() +
                               " process -i rec --mode mode.yaml --threads 2 -o ref.jsonl");
  ASSERT_EQ(ref.code, 0) << ref.out;
  // R is passed in the environment of the inner bash.
  const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                             " && bash -c '" + kHelpers +
                             R"(
$R run --mode mode.yaml --segment detect --publish tcp://127.0.0.1:* --wait-subscribers 1 \
   --exit-at-end --threads 2 2> detect.log & B=$!
link=$(wait_for detect.log "link detect at tcp://[0-9.]+:[0-9]+") || exit 10
pub=$(wait_for detect.log "publish at tcp://[0-9.]+:[0-9]+") || exit 11
$R listen ${pub#publish at } --json --until-end --timeout 60 > got.jsonl 2> listen.log & L=$!
$R replay rec --to tcp://127.0.0.1:* --rate 2 --pulses-per-frame 3 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 12
$R run --mode mode.yaml --segment compress --from $rep --link detect=${link#link detect at } \
   --exit-at-end --threads 2 2> compress.log & A=$!
wait $L || { echo "listen failed"; cat listen.log; exit 13; }
wait $A || { echo "compress failed"; cat compress.log; exit 14; }
wait $B || { echo "detect failed"; cat detect.log; exit 15; }
wait $P || { echo "replay failed"; cat replay.log; exit 16; }
cat compress.log detect.log listen.log
)" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string got = read(dir_ / "got.jsonl"), want = read(dir_ / "ref.jsonl");
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(got, want);
  EXPECT_NE(r.out.find("segments compress "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stream 1 ended: 12 CPIs processed, 0 dropped"), std::string::npos) << r.out;
}

// With a clutter map (ground learned from the first CPI: a time constant of 3 CPIs, 2 of
// warm-up) and its file: `run` publishes what `process` writes, and saves, at the end, the very
// map `process` saved (byte for byte: the same key, shape, CPIs and cells).
TEST_F(StreamingCli, RunKeepsTheClutterMapAsProcessDoes) {
  std::string mode = kMode;
  mode.replace(mode.find("  cfar: {"), 0,
               "  clutter_map: {doppler_bins: 1, time_constant_cpis: 3, warmup_cpis: 2, pfa: "
               "1.0e-3}\n");
  std::ofstream(dir_ / "map-mode.yaml") << mode;
  const auto ref =
      run_command("cd " + dir_.string() + " && " + radarpipe_binary() +
                  " process -i rec --mode map-mode.yaml --threads 2 -o ref.jsonl --clutter-map "
                  "process.map");
  ASSERT_EQ(ref.code, 0) << ref.out;
  EXPECT_NE(ref.out.find("clutter map: "), std::string::npos) << ref.out;
  const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                             " && bash -c '" + kHelpers +
                             R"(
$R replay rec --to tcp://127.0.0.1:* --rate 2 --pulses-per-frame 8 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 12
$R run --mode map-mode.yaml --publish tcp://127.0.0.1:* --from $rep --wait-subscribers 1 \
   --exit-at-end --threads 2 --clutter-map run.map 2> run.log & B=$!
pub=$(wait_for run.log "publish at tcp://[0-9.]+:[0-9]+") || exit 11
$R listen ${pub#publish at } --json --until-end --timeout 60 > got.jsonl 2> listen.log & L=$!
wait $L || { echo "listen failed"; cat listen.log; exit 13; }
wait $B || { echo "run failed"; cat run.log; exit 15; }
wait $P || { echo "replay failed"; cat replay.log; exit 16; }
)" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string got = read(dir_ / "got.jsonl"), want = read(dir_ / "ref.jsonl");
  EXPECT_NE(want.find("\"map_tested\":"), std::string::npos);
  EXPECT_EQ(got, want);
  const std::string a = read(dir_ / "process.map"), b = read(dir_ / "run.map");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

// `record` on IQ frames, then `process` on its recording, equals `process` on the original (which
// `run` equals, TwoProcessesOverTcpEqualProcess); and a recording stopped by SIGTERM while the
// stream goes on (replay --loop) is whole: its checksum verifies and its CPIs are the stream's.
// (Recording VRT, with gaps, is tests/interop/vrt_run_interop.py.)
TEST_F(StreamingCli, RecordThenProcessEqualsLive) {
  const auto ref = run_command("cd " + dir_.string() + " && " + radarpipe_binary() +
                               " process -i rec --mode mode.yaml --threads 2 -o ref.jsonl");
  ASSERT_EQ(ref.code, 0) << ref.out;
  const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                             " && bash -c '" + kHelpers +
                             R"(
$R replay rec --to tcp://127.0.0.1:* --rate 4 --pulses-per-frame 5 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 10
$R record --mode mode.yaml --from $rep -o live --exit-at-end > record.out 2> record.log || \
  { cat record.log; exit 11; }
wait $P || exit 12
$R process -i live --threads 2 -o live.jsonl 2> process.log || { cat process.log; exit 13; }
$R replay rec --to tcp://127.0.0.1:* --rate 1 --loop 2> replay2.log & P=$!
rep=$(wait_for replay2.log "tcp://[0-9.]+:[0-9]+") || exit 14
$R record --mode mode.yaml --from $rep -o stopped 2> record2.log & B=$!
# Stopped once it has written more than the recording holds (the loop goes on).
for i in $(seq 1 600); do
  s=$(stat -c %s stopped.sigmf-data 2>/dev/null || echo 0)
  [ "$s" -gt 2000000 ] && break
  sleep 0.05
done
kill -TERM $B
wait $B; echo "record exit $?"
kill -INT $P; wait $P
$R process -i stopped --threads 2 -o stopped.jsonl 2> process2.log || { cat process2.log; exit 15; }
cat record.log record2.log process2.log
)" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string want = read(dir_ / "ref.jsonl");
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(read(dir_ / "live.jsonl"), want);
  EXPECT_NE(r.out.find("record exit 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("core:sha512 verified"), std::string::npos) << r.out;
  // The looped stream's CPIs: the recording's 12 again and again, numbered on and dated by their
  // numbers (the replay's pass adds the recording's duration). A CPI the recorder could not
  // keep up with is a gap, and the CPIs after it keep their numbers and times.
  const std::string stopped = read(dir_ / "stopped.jsonl");
  std::istringstream lines(stopped), ref_lines(want);
  std::vector<nlohmann::json> got, first;
  for (std::string l; std::getline(lines, l);) got.push_back(nlohmann::json::parse(l));
  for (std::string l; std::getline(ref_lines, l);) first.push_back(nlohmann::json::parse(l));
  ASSERT_GT(got.size(), first.size()) << r.out;
  const std::int64_t t0 = first[0].at("timestamp_ns").get<std::int64_t>();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto c = got[i].at("cpi").get<std::uint64_t>();
    if (i > 0) {
      EXPECT_GT(c, got[i - 1].at("cpi").get<std::uint64_t>());
    }
    EXPECT_EQ(got[i].at("timestamp_ns").get<std::int64_t>(),
              t0 + static_cast<std::int64_t>(c) * 1600000);  // P x PRI = 1.6 ms
    nlohmann::json a = got[i], b = first[c % first.size()];
    for (const char* k : {"cpi", "time", "timestamp_ns"}) a.erase(k), b.erase(k);
    EXPECT_EQ(a, b) << "CPI " << c;
  }
}

// A subscriber that stalls (SIGSTOP) costs bounded memory and delays nobody: a second
// subscriber receives every report in sequence meanwhile, telemetry stays readable, run's
// resident memory stays within a bound, and the stalled one, resumed, reports what it missed.
TEST_F(StreamingCli, AStalledSubscriberDelaysNobody) {
  const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                             " && bash -c '" + kHelpers +
                             R"(
$R replay rec --to tcp://127.0.0.1:* --rate 4 --loop 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 10
$R run --mode mode.yaml --from $rep --publish tcp://127.0.0.1:* --telemetry tcp://127.0.0.1:*    --threads 2 --subscriber-queue 200 --wait-subscribers 2 2> run.log & B=$!
pub=$(wait_for run.log "publish at tcp://[0-9.]+:[0-9]+") || exit 11
tel=$(wait_for run.log "telemetry at tcp://[0-9.]+:[0-9]+") || exit 12
$R listen ${pub#publish at } > slow.txt 2> slow.log & S=$!
$R listen ${pub#publish at } --timeout 3 > fast.txt 2> fast.log & F=$!
wait_for run.log "ready" > /dev/null || exit 13
# Both subscribed and reports flowing, the slow one stops reading.
for i in $(seq 1 600); do [ -s slow.txt ] && [ -s fast.txt ] && break; sleep 0.05; done
kill -STOP $S
rss0=$(awk "/VmRSS/ {print \$2}" /proc/$B/status)
n0=$(grep -c "^CPI " fast.txt)
# Long enough to fill the socket buffers and the queue of the stalled subscriber many times.
for i in $(seq 1 600); do
  n=$(grep -c "^CPI " fast.txt)
  [ $((n - n0)) -gt 8000 ] && break
  sleep 0.05
done
$R stats ${tel#telemetry at } --count 1 --json --timeout 10 > stats.json || exit 14
rss1=$(awk "/VmRSS/ {print \$2}" /proc/$B/status)
n1=$(grep -c "^CPI " fast.txt)
# Resumed, the slow one catches up and finds the gap its queue left.
kill -CONT $S
wait_for slow.log "reports missed before report" > /dev/null || exit 15
kill -TERM $B; wait $B; echo "run exit $?"
kill -INT $S; wait $S; wait $F
kill -INT $P; wait $P
echo "rss $rss0 $rss1 kB, fast reports $n0 $n1"
cat slow.log fast.log
)" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("run exit 0"), std::string::npos) << r.out;
  long rss0 = 0, rss1 = 0, n0 = 0, n1 = 0;
  const auto at = r.out.find("rss ");
  ASSERT_NE(at, std::string::npos) << r.out;
  std::sscanf(r.out.c_str() + at, "rss %ld %ld kB, fast reports %ld %ld", &rss0, &rss1, &n0, &n1);
  // The healthy subscriber went on: over 8000 reports while the other was stopped, none missed.
  EXPECT_GT(n1 - n0, 8000) << r.out;
  const std::string fast_log = read(dir_ / "fast.log"), slow_log = read(dir_ / "slow.log");
  EXPECT_EQ(fast_log.find("missed"), std::string::npos) << fast_log;
  // The stalled one lost what overflowed its queue, and says so.
  EXPECT_NE(slow_log.find("reports missed"), std::string::npos) << slow_log;
  // Bounded: the stalled subscriber's queue (200 reports) and socket buffers, not the backlog.
  EXPECT_LT(rss1 - rss0, 40000) << r.out;
  const nlohmann::json t = nlohmann::json::parse(read(dir_ / "stats.json"));
  EXPECT_EQ(t.at("reports_dropped").get<std::uint64_t>(), 0u);
}

TEST_F(StreamingCli, SigtermUnderLoadExitsZeroWithinABound) {
  const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                             " && bash -c '" + kHelpers +
                             R"(
$R replay rec --to tcp://127.0.0.1:* --rate max --loop 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 10
$R run --mode mode.yaml --from $rep --publish tcp://127.0.0.1:* --telemetry tcp://127.0.0.1:* \
   --telemetry-interval 0.1 2> run.log & B=$!
pub=$(wait_for run.log "publish at tcp://[0-9.]+:[0-9]+") || exit 11
tel=$(wait_for run.log "telemetry at tcp://[0-9.]+:[0-9]+") || exit 12
# Under load: reports are flowing.
$R listen ${pub#publish at } --count 3 --timeout 30 > reports.txt || exit 13
$R stats ${tel#telemetry at } --count 1 --json --timeout 30 > stats.json || exit 14
t0=$(date +%s%N)
kill -TERM $B
wait $B; rc=$?
t1=$(date +%s%N)
echo "run exit $rc after $(( (t1 - t0) / 1000000 )) ms"
kill -INT $P
wait $P; echo "replay exit $?"
cat run.log
)" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("run exit 0 after "), std::string::npos) << r.out;
  const auto at = r.out.find("run exit 0 after ");
  if (at != std::string::npos) {
    const int ms = std::stoi(r.out.substr(at + 17));
    EXPECT_LT(ms, 5000) << r.out;
  }
  EXPECT_NE(r.out.find("replay exit 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SIGTERM: stopped after finishing the CPIs in hand"), std::string::npos)
      << r.out;
  EXPECT_NE(read(dir_ / "reports.txt").find("CPI "), std::string::npos);
  const nlohmann::json t = nlohmann::json::parse(read(dir_ / "stats.json"));
  EXPECT_EQ(t.at("schema"), "radarpipe.telemetry");
  EXPECT_GT(t.at("cpis").at("processed").get<int>(), 0);
  EXPECT_GT(t.at("frames").at("received").get<int>(), 0);
  EXPECT_TRUE(t.at("latency_ms").at("stages").contains("pulse_compression"));
}

// SIGTERM to the upstream segment of a two-process chain whose downstream is dead (kill -9) or
// stopped (SIGSTOP), under load (replay --loop, as fast as taken): the upstream finishes what it
// holds, drops what it cannot deliver, and exits 0 within a bound, whatever its peer's state.
TEST_F(StreamingCli, SigtermWithADeadOrStoppedDownstreamExitsZero) {
  for (const char* how : {"KILL", "STOP"}) {
    SCOPED_TRACE(how);
    const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                               " HOW=" + how + " && bash -c '" + kHelpers +
                               R"(
rm -f *.log
$R run --mode mode.yaml --segment detect --publish tcp://127.0.0.1:* --threads 1 2> detect.log & B=$!
link=$(wait_for detect.log "link detect at tcp://[0-9.]+:[0-9]+") || exit 10
pub=$(wait_for detect.log "publish at tcp://[0-9.]+:[0-9]+") || exit 11
$R replay rec --to tcp://127.0.0.1:* --rate max --loop 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 12
$R run --mode mode.yaml --segment compress --from $rep --link detect=${link#link detect at }    --threads 1 2> compress.log & A=$!
# Under load: reports are flowing through both segments.
$R listen ${pub#publish at } --count 3 --timeout 30 > reports.txt || exit 13
kill -$HOW $B
sleep 0.3  # the peer gone or stopped while the upstream keeps sending into the link
t0=$(date +%s%N)
kill -TERM $A
wait $A; rc=$?
t1=$(date +%s%N)
echo "compress exit $rc after $(( (t1 - t0) / 1000000 )) ms"
kill -INT $P; wait $P
kill -CONT $B 2>/dev/null; kill -9 $B 2>/dev/null
cat compress.log
)" + "'");
    ASSERT_EQ(r.code, 0) << r.out;
    const auto at = r.out.find("compress exit 0 after ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const int ms = std::stoi(r.out.substr(at + 22));
    EXPECT_LT(ms, 15000) << r.out;
    std::cout << "downstream " << how << ": the upstream exited 0 after " << ms << " ms\n";
    EXPECT_EQ(r.out.find("abort"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("terminate called"), std::string::npos) << r.out;
  }
}

// kill -9 of either process of a two-process chain under replay --loop in real time, then that
// process started again on the same endpoints: its neighbours reconnect by themselves (neither
// is restarted) and reports flow again. Measured: from the restart's launch to the first report
// a subscriber gets (the restarted process's start-up, the reconnection and one CPI through
// both segments); the goal is 2 s, the test allows 10 (a loaded CI machine).
TEST_F(StreamingCli, KilledSegmentsRestartAndTheChainResumes) {
  const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                             " && bash -c '" + kHelpers +
                             R"(
$R run --mode mode.yaml --segment detect --publish tcp://127.0.0.1:* --threads 1 2> detect.log & B=$!
link=$(wait_for detect.log "link detect at tcp://[0-9.]+:[0-9]+") || exit 10
pub=$(wait_for detect.log "publish at tcp://[0-9.]+:[0-9]+") || exit 11
link=${link#link detect at }; pub=${pub#publish at }
$R replay rec --to tcp://127.0.0.1:* --rate 1 --loop 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 12
$R run --mode mode.yaml --segment compress --from $rep --link detect=$link --threads 1    2> compress.log & A=$!
$R listen $pub --count 3 --timeout 30 > first.txt || exit 13
# The downstream killed and started again on its own link and publish endpoints.
kill -9 $B; wait $B 2>/dev/null
t0=$(date +%s%N)
$R run --mode mode.yaml --segment detect --link detect=$link --publish $pub --threads 1    2> detect2.log & B=$!
$R listen $pub --count 1 --timeout 30 > second.txt || { cat detect2.log compress.log; exit 14; }
t1=$(date +%s%N)
echo "detect restarted: first report after $(( (t1 - t0) / 1000000 )) ms"
# The upstream killed and started again; the downstream keeps running.
kill -9 $A; wait $A 2>/dev/null
t0=$(date +%s%N)
$R run --mode mode.yaml --segment compress --from $rep --link detect=$link --threads 1    2> compress2.log & A=$!
$R listen $pub --count 1 --timeout 30 > third.txt || { cat detect2.log compress2.log; exit 15; }
t1=$(date +%s%N)
echo "compress restarted: first report after $(( (t1 - t0) / 1000000 )) ms"
$R stats $pub --count 1 --json --timeout 30 > stats.json || exit 16
kill -TERM $A $B; wait $A; echo "compress exit $?"; wait $B; echo "detect exit $?"
kill -INT $P; wait $P
)" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* which : {"detect", "compress"}) {
    const std::string key = std::string(which) + " restarted: first report after ";
    const auto at = r.out.find(key);
    ASSERT_NE(at, std::string::npos) << r.out;
    const int ms = std::stoi(r.out.substr(at + key.size()));
    EXPECT_LT(ms, 10000) << r.out;
    std::cout << which << " killed and restarted: first report " << ms << " ms after\n";
  }
  EXPECT_NE(r.out.find("compress exit 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("detect exit 0"), std::string::npos) << r.out;
  EXPECT_NE(read(dir_ / "third.txt").find("CPI "), std::string::npos);
  // The CPIs the killed upstream held (and those sent to it as it died) are counted by the
  // downstream as lost in flight: its link's CPI numbers skipped them.
  const nlohmann::json t = nlohmann::json::parse(read(dir_ / "stats.json"));
  const std::uint64_t lost =
      t.at("cpis").at("dropped_by_cause").value("lost_in_flight", std::uint64_t{0});
  EXPECT_GE(lost, 1u) << t.dump();
  std::cout << "CPIs lost in flight with the killed upstream, counted downstream: " << lost << "\n";
}

// A downstream killed while CPIs wait in its queues (stopped first, so that they do) dies with
// its counters; with --progress-dir its successor counts them, as lost_in_flight. The upstream
// publishes its telemetry, and its overrun drops say the stopped downstream's queues are full:
// a handshake on observed state, not a guess of how long that takes.
TEST_F(StreamingCli, AKilledDownstreamsLostCpisAreCountedByItsSuccessor) {
  const auto r = run_command("cd " + dir_.string() + " && export R=" + radarpipe_binary() +
                             " && bash -c '" + kHelpers +
                             R"(
mkdir -p progress
$R run --mode mode.yaml --segment detect --publish tcp://127.0.0.1:* --threads 1 --progress-dir progress 2> detect.log & B=$!
link=$(wait_for detect.log "link detect at tcp://[0-9.]+:[0-9]+") || exit 10
pub=$(wait_for detect.log "publish at tcp://[0-9.]+:[0-9]+") || exit 11
link=${link#link detect at }; pub=${pub#publish at }
$R replay rec --to tcp://127.0.0.1:* --rate 1 --loop 2> replay.log & P=$!
rep=$(wait_for replay.log "tcp://[0-9.]+:[0-9]+") || exit 12
$R run --mode mode.yaml --segment compress --from $rep --link detect=$link --threads 1 --publish tcp://127.0.0.1:* --telemetry-interval 0.2 2> compress.log & A=$!
upub=$(wait_for compress.log "publish at tcp://[0-9.]+:[0-9]+") || exit 13
upub=${upub#publish at }
$R listen $pub --count 3 --timeout 30 > first.txt || exit 14
kill -STOP $B
full=0
for i in $(seq 1 100); do
  $R stats $upub --count 1 --json --timeout 10 > up.json 2> /dev/null
  if grep -q "\"overrun\":[1-9]" up.json; then full=1; break; fi
done
[ $full = 1 ] || { echo "the upstream never backed up"; cat up.json compress.log; exit 15; }
kill -9 $B; wait $B 2>/dev/null
$R run --mode mode.yaml --segment detect --link detect=$link --publish $pub --threads 1 --progress-dir progress 2> detect2.log & B=$!
$R listen $pub --count 1 --timeout 30 > second.txt || { cat detect2.log compress.log; exit 16; }
$R stats $pub --count 1 --json --timeout 30 > stats.json || exit 17
cat detect2.log
kill -TERM $A $B; wait $A; echo "compress exit $?"; wait $B; echo "detect exit $?"
kill -INT $P; wait $P
)" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("segment detect: the last CPI finished before this start was CPI "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("compress exit 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("detect exit 0"), std::string::npos) << r.out;
  const nlohmann::json t = nlohmann::json::parse(read(dir_ / "stats.json"));
  const std::uint64_t lost =
      t.at("cpis").at("dropped_by_cause").value("lost_in_flight", std::uint64_t{0});
  EXPECT_GE(lost, 1u) << t.dump();
  std::cout << "CPIs lost with the killed downstream, counted by its successor: " << lost << "\n";
}

TEST_F(StreamingCli, BadArgumentsAreNamed) {
  auto rp =
      run_command(radarpipe_binary() + " replay " + (dir_ / "rec").string() + " --to udp://x:1");
  EXPECT_EQ(rp.code, 2);
  EXPECT_NE(rp.out.find("--to: 'udp://x:1' is not a ZeroMQ endpoint"), std::string::npos) << rp.out;
  rp = run_command(radarpipe_binary() + " replay " + (dir_ / "rec").string() +
                   " --to tcp://127.0.0.1:* --rate fast");
  EXPECT_EQ(rp.code, 2);
  EXPECT_NE(rp.out.find("--rate: 'fast' is not realtime, max or a factor"), std::string::npos);
  auto run = run_command(radarpipe_binary() + " run --mode " + (dir_ / "mode.yaml").string() +
                         " --segment compress --segment nowhere --from tcp://127.0.0.1:1");
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.out.find("--segment nowhere: the mode has no such segment (compress, detect)"),
            std::string::npos)
      << run.out;
  run = run_command(radarpipe_binary() + " run --mode " + (dir_ / "mode.yaml").string() +
                    " --from tcp://127.0.0.1:1");
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.out.find("--publish: this process runs the last segment (detect)"),
            std::string::npos)
      << run.out;
  const auto l = run_command(radarpipe_binary() + " listen tcp://127.0.0.1:1 --timeout 0.3");
  EXPECT_EQ(l.code, 1);
  EXPECT_NE(l.out.find("nothing from tcp://127.0.0.1:1 in 0.3 s"), std::string::npos) << l.out;
}

// `listen` against a publisher that sends garbage on the JSON topics: every bad message (not
// JSON, not an object, nested 10^5 deep, fields of the wrong type, an end-of-stream that is an
// array) is dropped and said, and the good report after them is printed (listen used to abort
// on the first). The publisher is an XPUB in this test: it sends once listen's subscription
// has arrived (the handshake), never after a fixed sleep.
TEST(StreamingListen, MalformedJsonMessagesAreDroppedAndTheStreamGoesOn) {
  zmq::context_t ctx(1);
  zmq::socket_t pub(ctx, zmq::socket_type::xpub);
  pub.set(zmq::sockopt::rcvtimeo, 30000);  // listen did not start: fail, do not hang
  pub.bind("tcp://127.0.0.1:*");
  const std::string ep = pub.get(zmq::sockopt::last_endpoint);
  FILE* listen = popen(
      (radarpipe_binary() + " listen " + ep + " --json --count 1 --timeout 30 2>&1").c_str(), "r");
  ASSERT_NE(listen, nullptr);
  int subscriptions = 0;
  while (subscriptions < 2) {  // detections and end
    zmq::message_t sub;
    ASSERT_TRUE(pub.recv(sub, zmq::recv_flags::none)) << "no subscription from listen";
    if (sub.size() > 0 && static_cast<const char*>(sub.data())[0] == 1) ++subscriptions;
  }
  auto send = [&](const std::string& topic, const std::string& payload) {
    zmq::message_t t(topic.data(), topic.size()), p(payload.data(), payload.size());
    pub.send(t, zmq::send_flags::sndmore);
    pub.send(p, zmq::send_flags::none);
  };
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"detections.json", "not json"}, {"detections.json", "[1, 2, 3]"},
      {"detections.json", deep},       {"detections.json", R"({"cpi": "seven", "detections": 5})"},
      {"end.json", "[\"stream_id\"]"}, {"end.json", deep},
  };
  for (const auto& [topic, payload] : bad) send(topic, payload);
  radarpipe::DetectionReport good;
  good.cpi = 41;
  send("detections.json", radarpipe::io::report_to_json(good).dump());
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, listen)) > 0) out.append(buf, n);
  const int status = pclose(listen);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << out;
  std::size_t dropped = 0;
  for (std::size_t at = out.find("dropped a message"); at != std::string::npos;
       at = out.find("dropped a message", at + 1))
    ++dropped;
  EXPECT_EQ(dropped, bad.size()) << out;
  EXPECT_NE(out.find("nested more than 64 deep"), std::string::npos) << out;
  EXPECT_NE(out.find("\"cpi\":41"), std::string::npos) << out;
}

}  // namespace
