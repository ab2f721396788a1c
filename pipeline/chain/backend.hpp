// Backend choice (`backend: auto | cpu | cuda` in the mode, --backend on the command line) and
// the chain it builds: with the CUDA chain itself, the only place that names CUDA.
#pragma once

#include <memory>
#include <string>

#include "core/mode.hpp"
#include "pipeline/chain/signal_chain.hpp"

namespace radarpipe {

struct BackendChoice {
  Backend requested = Backend::Auto;
  Backend chosen = Backend::Cpu;
  int device = 0;      ///< the CUDA device, when chosen is Cuda
  std::string reason;  ///< why, in words: the device found, or why the CPU runs the chain
};

/// Resolves the requested backend against this build and this machine: `auto` takes CUDA
/// device 0 when this build has the CUDA backend and a device is present, else the CPU. Throws
/// ConfigError (key "backend") when `cuda` is requested and cannot be had.
BackendChoice resolve_backend(Backend requested);

/// True when this build contains the CUDA library (nvcc was found at configure time).
bool cuda_built();

/// What `radarpipe devices` prints: the CUDA devices this build sees (runtime and driver
/// versions, one line each), or why there are none.
std::string describe_devices();

/// Builds the chain for stages options.first..options.last on the chosen backend: a CpuChain
/// with options.threads, or a CudaChain on choice.device with two CPIs in flight. The caller
/// drives either through SignalChain alone.
std::unique_ptr<SignalChain> make_chain(const Mode& mode, const BackendChoice& choice,
                                        const ChainOptions& options);

}  // namespace radarpipe
