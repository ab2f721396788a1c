// Where radarpipe keeps what a machine learned once (FFT wisdom, solved CFAR factors):
// $XDG_CACHE_HOME/radarpipe/NAME, else ~/.cache/radarpipe/NAME (the XDG base directory rule).
#pragma once

#include <cstdlib>
#include <string>

namespace radarpipe {

/// The per-user path of `name`; "" when neither XDG_CACHE_HOME nor HOME is set.
inline std::string user_cache_path(const std::string& name) {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/radarpipe/" + name;
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/radarpipe/" + name;
  return {};
}

}  // namespace radarpipe
