// What a mode implies for the stages that both chains build the same way: the CFAR and plot
// configurations, and the CPI shape every chain checks its input against.
#pragma once

#include "core/cpi.hpp"
#include "core/mode.hpp"
#include "kernels/cpu/cfar.hpp"
#include "kernels/cpu/clutter_map.hpp"
#include "kernels/cpu/plots.hpp"

namespace radarpipe {

/// The CFAR and plot stage configurations a mode implies (shared by the CPU and CUDA chains).
cpu::CfarStageConfig cfar_stage_config(const Mode& mode, const ModeGeometry& geometry);
/// The chain's linear stages on white noise (the calibrated CFAR's model): the matched filter's
/// reference, the MTI taps and the Doppler window, exactly as the stages build them.
cpu::CellCorrelation cell_correlation(const Mode& mode, const ModeGeometry& geometry);
cpu::PlotConfig plot_config(const Mode& mode, const ModeGeometry& geometry);
/// The clutter map stage's configuration (processing.clutter_map present).
cpu::ClutterMapStageConfig clutter_map_stage_config(const Mode& mode);
/// The azimuth cell the map updates for a CPI starting at timestamp_ns: where the beam points
/// at the CPI's middle (core/antenna.hpp), 0 for a fixed beam.
std::size_t clutter_map_azimuth_cell(const Mode& mode, const ClutterMapGeometry& map,
                                     std::int64_t timestamp_ns);
/// Marks each detection whose peak lies in the map's rows as decided by the map.
void mark_clutter_map_detections(const ClutterMapGeometry& map, DetectionReport& report,
                                 std::size_t first_detection);

/// std::invalid_argument naming the CPI, its shape and the mode's, unless they agree.
void check_cpi_shape(const Cpi& cpi, const Mode& mode);

}  // namespace radarpipe
