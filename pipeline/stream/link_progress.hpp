// The last CPI a segment finished from a link out of another process, kept in a small file so
// that a restarted process counts what its killed predecessor lost (docs/streaming.md "Faults").
//
// A segment fed over ipc:// or tcp:// counts CPIs its link's numbering skips as lost_in_flight
// (segment.cpp): that covers a killed upstream. A killed downstream dies with its counters, and
// the CPIs in its queues and on its chain vanish. With `run --progress-dir DIR`, each such
// segment writes DIR/SEGMENT.progress after every CPI it finishes: the stream, the next CPI
// number, and how many CPIs the upstream's ingest had dropped by then. Its successor reads it at
// start and counts the first link message's skip against it, as it would in one process.
//
// The file is one fixed-width text line rewritten in place (pwrite at offset 0: a process killed
// at any point leaves the previous line or the new one, never a mix, since the page cache copy
// is done before pwrite returns). It is read as outside bytes: exact length, fields checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace radarpipe::stream {

struct LinkProgress {
  std::uint32_t stream_id = 0;
  std::uint64_t next_cpi = 0;          ///< the CPI after the last one finished
  std::uint64_t upstream_dropped = 0;  ///< the link header's cpis_dropped then
};

class LinkProgressFile {
 public:
  /// Opens (creating, 0644) DIR/SEGMENT.progress. What it held is loaded(); a file that is not
  /// one (wrong length or fields) is reported on `log` naming it and overwritten. Throws
  /// std::runtime_error naming the path when it cannot be opened.
  LinkProgressFile(const std::string& dir, const std::string& segment, std::ostream& log);
  ~LinkProgressFile();
  LinkProgressFile(const LinkProgressFile&) = delete;
  LinkProgressFile& operator=(const LinkProgressFile&) = delete;

  const std::optional<LinkProgress>& loaded() const { return loaded_; }
  const std::string& path() const { return path_; }
  /// Rewrites the line (one pwrite; a failure is said once on the log given at opening).
  void record(const LinkProgress& p);

 private:
  std::string path_;
  int fd_ = -1;
  std::optional<LinkProgress> loaded_;
  std::ostream* log_;
  bool said_error_ = false;
};

/// The line's text and its parse (exposed for the tests).
std::string format_link_progress(const LinkProgress& p);
std::optional<LinkProgress> parse_link_progress(const std::string& text);

}  // namespace radarpipe::stream
