// How deep JSON text from outside nests, found before it is parsed: nlohmann's parser keeps
// its own stack, but a document nested 10^5 deep is freed recursively and overflows the
// thread's stack (a SigMF metadata file did). Every JSON the project reads from outside
// (SigMF metadata, JSON Lines reports, stream messages) is checked with this first.
#pragma once

#include <cstddef>
#include <string>

namespace radarpipe::io {

/// Deepest nesting a document from outside may have: SigMF metadata and reports nest 4 to 6
/// deep; this leaves room for extensions.
inline constexpr std::size_t kMaxJsonDepth = 64;

/// "" when `text` nests objects and arrays at most `limit` deep (brackets inside strings do
/// not count), else what is wrong with the byte offset where the limit was passed. Linear,
/// no recursion, no allocation.
inline std::string json_depth_error(const std::string& text, std::size_t limit = kMaxJsonDepth) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return "JSON nested more than " + std::to_string(limit) + " deep (at byte " +
               std::to_string(i) + ")";
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return "";
}

}  // namespace radarpipe::io
