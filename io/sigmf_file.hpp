// Reading and writing SigMF recordings: a `.sigmf-meta` + `.sigmf-data` pair or a `.sigmf`
// archive (tar). Reading streams: samples are read on demand from the data file (or in place
// from the archive member) through a buffer sized by the largest read, so memory stays bounded
// by what the caller asks for (one CPI) whatever the recording's size.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/cpi.hpp"
#include "io/sha512.hpp"
#include "io/sigmf_meta.hpp"

namespace radarpipe::io {

/// Where a recording's parts are. `path` may name NAME, NAME.sigmf-meta, NAME.sigmf-data or
/// NAME.sigmf (archive).
struct SigmfLocation {
  std::string meta_name;  ///< for messages: the meta file, or "ARCHIVE:member"
  std::string data_name;  ///< for messages
  std::string data_file;  ///< file the samples are read from
  std::uint64_t data_offset = 0;
  std::uint64_t data_bytes = 0;
  bool archive = false;
  std::string meta_text;
};

SigmfLocation locate_sigmf(const std::string& path);

struct SigmfReadOptions {
  bool verify_checksum = true;  ///< check core:sha512 when present
  /// false: the whole data is hashed when the recording is opened (an extra pass before the
  /// first sample); true: the caller hashes the bytes it reads anyway (checksum_feed) and
  /// checks at the end (finish_checksum), so the data is read once.
  bool checksum_while_reading = false;
};

class SigmfReader {
 public:
  /// Opens and validates a recording; throws SigmfError naming the file, field and value.
  explicit SigmfReader(const std::string& path, SigmfReadOptions options = {});

  const SigmfMeta& meta() const { return meta_; }
  const SigmfLocation& location() const { return loc_; }
  std::size_t channels() const { return meta_.num_channels; }
  /// Whole samples per channel in the data file.
  std::uint64_t samples() const { return samples_; }
  /// Bytes at the end of the data that do not make a whole sample of every channel.
  std::uint64_t leftover_bytes() const { return leftover_bytes_; }
  /// True when the checksum was present and verified.
  bool checksum_verified() const { return checksum_verified_; }

  /// Reads samples [start, start + count) of every channel as cf32, deinterleaved: channel c's
  /// samples go to out + c * channel_stride. Integer formats are scaled by meta().sample_scale().
  void read(std::uint64_t start, std::size_t count, cf32* out, std::size_t channel_stride);

  // --- Reading in parts: raw bytes once, then checksum and conversion (any thread) ---------
  /// Bytes of one sample of every channel, as stored (channels interleaved per sample).
  std::size_t frame_bytes() const { return meta_.format.sample_bytes() * meta_.num_channels; }
  /// The stored bytes of samples [start, start + count) into raw (count * frame_bytes()).
  void read_raw(std::uint64_t start, std::size_t count, std::uint8_t* raw);
  /// Converts `count` stored frames to cf32, deinterleaved (as read()). Thread-safe: parts of
  /// a block may be converted on several threads at once.
  void convert(const std::uint8_t* raw, std::size_t count, cf32* out,
               std::size_t channel_stride) const;
  /// True when the stored samples are ci16_le, which a chain takes as they are (host order on
  /// this little-endian host) with meta().sample_scale() as its scale.
  bool stored_as_ci16() const;
  /// ci16_le frames deinterleaved as int16 I/Q pairs: channel c's samples to
  /// out + 2 * c * channel_stride. Thread-safe like convert().
  void split_ci16(const std::uint8_t* raw, std::size_t count, std::int16_t* out,
                  std::size_t channel_stride) const;
  /// With checksum_while_reading: hashes samples [start, start + count), whose stored bytes
  /// are `raw`, if they continue the bytes hashed so far (first reading the data in between
  /// when they lie beyond, through a file handle of its own; bytes before it were hashed
  /// already). May run on another thread than read_raw(), one call at a time.
  void checksum_feed(std::uint64_t start, std::size_t count, const std::uint8_t* raw);
  /// With checksum_while_reading: hashes the rest of the data and compares it with
  /// core:sha512; throws SigmfError naming the data file and both digests on a mismatch.
  /// Returns true when verified, false when there was nothing to verify.
  bool finish_checksum();

 private:
  SigmfLocation loc_;
  SigmfMeta meta_;
  std::ifstream data_;
  std::uint64_t samples_ = 0;
  std::uint64_t leftover_bytes_ = 0;
  bool checksum_verified_ = false;
  bool checksum_pending_ = false;  ///< checksum_while_reading, not finished yet
  Sha512 hash_;
  std::ifstream hash_in_;           ///< the hash's own handle on the data (gaps, the tail)
  std::uint64_t hashed_bytes_ = 0;  ///< the data's first bytes hashed so far
  void hash_data_until(std::uint64_t byte);
  void compare_checksum(Sha512& h);
  std::vector<std::uint8_t> raw_;
};

struct SigmfWriteOptions {
  std::string datatype = "cf32_le";  ///< cf32_le or ci16_le
  double scale = 1.0;                ///< ci16_le: float value of one LSB (radar:sample_scale)
  bool archive = false;              ///< write NAME.sigmf (tar) instead of the pair
};

class SigmfWriter {
 public:
  /// base: the output path without extension (NAME). meta: global fields, captures and
  /// annotations to write; datatype, sha512 and the radar scale are set by the writer.
  SigmfWriter(const std::string& base, SigmfMeta meta, SigmfWriteOptions options = {});
  ~SigmfWriter();
  SigmfWriter(const SigmfWriter&) = delete;
  SigmfWriter& operator=(const SigmfWriter&) = delete;

  /// Appends `count` samples of every channel; channel c's samples are at x + c * stride.
  void write(const cf32* x, std::size_t count, std::size_t channel_stride);
  /// Appends a CPI (its shape's channels must equal the metadata's).
  void write(const Cpi& cpi);

  /// Metadata still to be written: add captures and annotations before close().
  SigmfMeta& meta() { return meta_; }
  std::uint64_t samples_written() const { return samples_; }
  /// ci16: components that saturated at +-32767/-32768.
  std::uint64_t clipped() const { return clipped_; }
  /// Finishes the data, computes core:sha512 and writes the metadata. Idempotent.
  void close();
  /// Files written: the pair, or the archive.
  std::vector<std::string> outputs() const;

 private:
  std::string base_, name_;
  SigmfMeta meta_;
  SigmfWriteOptions options_;
  std::ofstream out_;
  Sha512 hash_;
  std::uint64_t samples_ = 0, bytes_ = 0, clipped_ = 0;
  std::uint64_t data_header_pos_ = 0;
  bool closed_ = false;
  std::vector<float> interleaved_;
  std::vector<std::uint8_t> raw_;
};

/// Strips a SigMF extension (.sigmf-meta, .sigmf-data, .sigmf) from a path.
std::string sigmf_base(const std::string& path);

}  // namespace radarpipe::io
