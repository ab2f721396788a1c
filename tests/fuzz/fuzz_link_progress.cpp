// Fuzz target: link progress files (pipeline/stream/link_progress.hpp), the line a segment fed
// from another process keeps in `run --progress-dir` and reads back at its next start. Any bytes
// must either be refused or give a progress whose own line parses back to it unchanged and is
// the bytes given: never a crash or undefined behaviour.
#include <cstdint>
#include <string>

#include "pipeline/stream/link_progress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace radarpipe::stream;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::optional<LinkProgress> p = parse_link_progress(text);
  if (!p) return 0;
  const std::string again = format_link_progress(*p);
  const std::optional<LinkProgress> q = parse_link_progress(again);
  if (!q || q->stream_id != p->stream_id || q->next_cpi != p->next_cpi ||
      q->upstream_dropped != p->upstream_dropped || again != text)
    __builtin_trap();
  return 0;
}
