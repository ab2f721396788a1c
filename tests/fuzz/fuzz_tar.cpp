// Fuzz target: tar archives (io/tar.hpp), the `.sigmf` recordings a site is handed. The input is
// written to a file of this process (the reader takes a path) and listed: every archive gives
// its members or std::runtime_error naming the byte, in bounded time and memory.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "io/tar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/radarpipe-fuzz-tar-" + std::to_string(getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    for (const radarpipe::io::TarMember& m : radarpipe::io::list_tar(path))
      if (m.offset + m.size > size) __builtin_trap();  // a member must lie inside the archive
  } catch (const std::exception&) {
  }
  std::remove(path.c_str());
  return 0;
}
