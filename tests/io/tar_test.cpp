// The tar reader against hostile archives (io/tar.hpp): pax records with negative, huge or
// non-numeric lengths, a pax size that is negative or past the end, and a header size that
// would overflow the reader's arithmetic. Each is refused or skipped at once, naming the
// archive, with memory and time bounded (they used to loop forever or allocate without bound).
#include "io/tar.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace radarpipe::io {
namespace {

namespace fs = std::filesystem;

class Archive {
 public:
  Archive() : path_(fs::temp_directory_path() / ("radarpipe_tar_" + std::to_string(getpid()))) {}
  ~Archive() { fs::remove(path_); }
  // A member: header, then the body padded to 512.
  void member(const std::string& name, char type, const std::string& body) {
    unsigned char h[512];
    make_tar_header(name, body.size(), type, 0, h);
    bytes_.insert(bytes_.end(), h, h + 512);
    bytes_.insert(bytes_.end(), body.begin(), body.end());
    bytes_.resize((bytes_.size() + 511) / 512 * 512, 0);
  }
  // A header whose size field says `size` (base-256), with no body.
  void lying_header(const std::string& name, std::uint64_t size) {
    unsigned char h[512];
    make_tar_header(name, size, '0', 0, h);
    bytes_.insert(bytes_.end(), h, h + 512);
  }
  std::string write() {
    std::vector<unsigned char> all = bytes_;
    all.resize(all.size() + 1024, 0);
    std::ofstream(path_, std::ios::binary)
        .write(reinterpret_cast<const char*>(all.data()), static_cast<std::streamsize>(all.size()));
    return path_.string();
  }

 private:
  fs::path path_;
  std::vector<unsigned char> bytes_;
};

TEST(Tar, PaxRecordsWithBadLengthsAreSkipped) {
  for (const std::string& records :
       {std::string("-5 path=evil\n"), std::string("18446744073709551615 path=evil\n"),
        std::string("99999 path=evil\n"), std::string("2 path=evil\n"),
        std::string("+14 path=evil\n"), std::string(" 14 path=evil\n")}) {
    Archive a;
    a.member("pax", 'x', records);
    a.member("d/d.sigmf-data", '0', std::string(100, 'x'));
    const std::vector<TarMember> m = list_tar(a.write());
    ASSERT_EQ(m.size(), 1u) << records;
    EXPECT_EQ(m[0].name, "d/d.sigmf-data") << records;
    EXPECT_EQ(m[0].size, 100u) << records;
  }
  Archive good;
  good.member("pax", 'x', "20 path=d/long-name\n");  // 2 + 1 + 16 + 1 bytes
  good.member("d/short", '0', "abc");
  const std::vector<TarMember> m = list_tar(good.write());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].name, "d/long-name");
}

TEST(Tar, PaxSizesOutsideTheArchiveAreRefused) {
  for (const std::string size : {"-1", "18446744073709551615", "1048576", "12abc"}) {
    Archive a;
    a.member("pax", 'x', std::to_string(6 + size.size() + 1 + 1) + " size=" + size + "\n");
    a.member("d/d.sigmf-data", '0', std::string(100, 'x'));
    const std::string path = a.write();
    try {
      list_tar(path);
      ADD_FAILURE() << "pax size " << size << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("pax size"), std::string::npos) << e.what();
    }
  }
}

TEST(Tar, HeaderSizesThatWouldOverflowAreRefused) {
  for (std::uint64_t size : {~std::uint64_t{0}, ~std::uint64_t{0} - 511, std::uint64_t{1} << 62}) {
    Archive a;
    a.lying_header("d/d.sigmf-data", size);
    const std::string path = a.write();
    try {
      list_tar(path);
      ADD_FAILURE() << "size " << size << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("runs past the end"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace radarpipe::io
