// Device-side evaluation of the shared model math, for the GPU parity tests.
#pragma once

#include "core/mode.hpp"

namespace radarpipe::cuda {

/// s(k / fs), k = 0..n-1, evaluated by a kernel; throws CudaError on any CUDA failure.
void evaluate_pulse_on_device(const WaveformConfig& w, double fs, int n, double* h_re,
                              double* h_im);

/// range_of_bin_m(k, t0, fs), k = 0..n-1, evaluated by a kernel.
void evaluate_ranges_on_device(double t0, double fs, int n, double* h_out);

}  // namespace radarpipe::cuda
