// The subset of POSIX tar (ustar, with pax and GNU long-name headers) that SigMF archives use:
// a `.sigmf` archive is a tar holding NAME/NAME.sigmf-meta and NAME/NAME.sigmf-data. Members are
// located, never extracted: the data member is read in place at its offset.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace radarpipe::io {

struct TarMember {
  std::string name;
  std::uint64_t offset = 0;  ///< byte offset of the content in the archive
  std::uint64_t size = 0;
  char type = '0';
};

/// Regular-file members of a tar archive. Throws std::runtime_error naming the archive and the
/// byte offset of a corrupt header.
std::vector<TarMember> list_tar(const std::string& path);

/// A ustar header block for a member (regular file or directory), checksum filled in.
void make_tar_header(const std::string& name, std::uint64_t size, char type, std::int64_t mtime,
                     unsigned char block[512]);

}  // namespace radarpipe::io
