// The streaming commands of the command line (docs/streaming.md): replay, run, record, listen,
// stats, and keygen for their CURVE keys (docs/security.md).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/stream/recorder.hpp"
#include "pipeline/stream/replay.hpp"
#include "pipeline/stream/runner.hpp"
#include "pipeline/stream/vrt_replay.hpp"

namespace radarpipe::cli {

class StreamCommands {
 public:
  /// Adds the subcommands and their options to `app`.
  explicit StreamCommands(CLI::App& app);
  /// After parsing: the exit code of the streaming command that was given, if one was.
  std::optional<int> dispatch();

 private:
  int replay();
  int run();
  int listen();
  int stats();
  int record();
  int keygen();

  CLI::App *replay_, *run_, *listen_, *stats_, *record_, *keygen_;
  // --key, --server-key, --authorized-keys (files only: never a key on the command line)
  SecurityConfig replay_sec_, run_sec_, record_sec_, listen_sec_, stats_sec_;
  std::string keygen_stem_;
  stream::ReplayOptions replay_opt_;
  std::string replay_mode_, replay_rate_ = "realtime", replay_datatype_ = "cf32_le";
  bool replay_skip_checksum_ = false;
  std::string replay_vrt_timing_;
  stream::VrtReplayOptions replay_vrt_;
  stream::RunOptions run_opt_;
  std::string run_mode_, run_format_ = "protobuf", run_backend_;
  std::vector<std::string> run_links_;
  std::string listen_ep_, stats_ep_;
  bool listen_json_ = false, listen_until_end_ = false, stats_json_ = false;
  std::uint64_t listen_count_ = 0, stats_count_ = 0;
  double listen_timeout_ = 0, stats_timeout_ = 0;
  stream::RecordOptions record_opt_;
  std::string record_mode_;
};

}  // namespace radarpipe::cli
