// Runs a shell command for the command-line tests: exit code and stdout+stderr.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace radarpipe::test {

struct CliRun {
  int code;
  std::string out;
};

inline CliRun run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  CliRun r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// The radarpipe binary of this build (RADARPIPE_BINARY_DIR is set by CTest).
inline std::string radarpipe_binary() {
  const char* b = std::getenv("RADARPIPE_BINARY_DIR");
  return std::string(b ? b : ".") + "/pipeline/radarpipe";
}

inline CliRun run_cli(const std::string& args) {
  return run_command(radarpipe_binary() + " " + args);
}

}  // namespace radarpipe::test
