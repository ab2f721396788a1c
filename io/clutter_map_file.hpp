// A saved clutter map (docs/signal-chain.md "Clutter map"; docs/modes.md "processing.clutter_map"):
// a site that restarts reloads the ground it learned instead of warming up again.
//
// The file is outside bytes: it is taken only if its size is exactly what its header's shape
// implies and that shape is the map's (checked before anything is allocated), its SHA-512
// trailer matches its content, and it was saved under the same key (the digest of everything
// that gives the map's cells their meaning: the power map's geometry and units, the map's rows,
// azimuth cells and time constant). The cells' values are checked by the stage
// (cpu::ClutterMap::restore).
//
// Layout (little-endian): "RPCMAP02", the key's SHA-512 (128 hex digits), u64 maps,
// azimuth_cells, rows, gates, cpis; f32 mean[cells]; f32 spread[cells]; u32 learned[cells];
// u32 run[cells]; u32 quiet[cells]; the SHA-512 (128 hex digits) of everything before it.
// (RPCMAP01, without the spread, is refused by its magic: the map relearns.)
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "core/clutter_map_state.hpp"

namespace radarpipe::io {

/// A file that is not a map for this key and shape. cause(): "size", "magic", "checksum",
/// "key", "shape".
class ClutterMapFileError : public std::runtime_error {
 public:
  ClutterMapFileError(std::string cause, const std::string& what)
      : std::runtime_error(what), cause_(std::move(cause)) {}
  const std::string& cause() const { return cause_; }

 private:
  std::string cause_;
};

/// The file's bytes for a state saved under `key` (any text; its digest is stored).
std::string clutter_map_file(const std::string& key, const ClutterMapState& state);

/// Parses and checks a file (`name` in messages) against the key and the map's shape (maps,
/// azimuth_cells, rows, gates of `shape`; its vectors are ignored). Throws ClutterMapFileError.
ClutterMapState parse_clutter_map_file(std::string_view bytes, const std::string& key,
                                       const ClutterMapState& shape, const std::string& name);

/// The file size for a map of this shape.
std::uint64_t clutter_map_file_bytes(const ClutterMapState& shape);

}  // namespace radarpipe::io
