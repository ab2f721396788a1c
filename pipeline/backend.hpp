// Backend choice (`backend: auto | cpu | cuda` in the mode, --backend on the command line).
#pragma once

#include <string>

#include "pipeline/core/mode.hpp"

namespace radarpipe {

struct BackendChoice {
  Backend requested = Backend::Auto;
  Backend chosen = Backend::Cpu;
  std::string reason;  ///< why, in words: the device found, or why the CPU runs the chain
};

/// Resolves the requested backend against this build and this machine. Throws ConfigError
/// (key "backend") when `cuda` is requested and cannot be had.
BackendChoice resolve_backend(Backend requested);

/// True when this build contains the CUDA library (nvcc was found at configure time).
bool cuda_built();

}  // namespace radarpipe
