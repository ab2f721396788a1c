// The clutter map's state across CPIs (docs/signal-chain.md "Clutter map"): what the stage keeps
// per cell, what a map file saves and a restarted chain reloads. Cells are indexed
// ((map * azimuth_cells + azimuth_cell) * rows + row) * gates + gate, rows counted from the
// map's first Doppler row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace radarpipe {

struct ClutterMapState {
  std::size_t maps = 0, azimuth_cells = 0, rows = 0, gates = 0;
  std::vector<float> mean;    ///< the recursive average of the cell's learned powers
  std::vector<float> spread;  ///< the recursive average of ((P - C) / C)^2 over learned powers
  std::vector<std::uint32_t> learned;  ///< powers learned, saturating at the factor table's end
  std::vector<std::uint32_t> run;      ///< updates since the cell's declarations began (0: none)
  std::vector<std::uint32_t> quiet;    ///< of them, consecutive updates since the last one
  std::uint64_t cpis = 0;              ///< CPIs that updated the map (all azimuth cells)

  std::size_t cells() const { return maps * azimuth_cells * rows * gates; }
  /// Every cell as a map that has learned nothing.
  void reset() {
    mean.assign(cells(), 0.0f);
    spread.assign(cells(), 0.0f);
    learned.assign(cells(), 0u);
    run.assign(cells(), 0u);
    quiet.assign(cells(), 0u);
    cpis = 0;
  }
};

}  // namespace radarpipe
