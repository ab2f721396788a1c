#include "io/sigmf_file.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "io/tar.hpp"

namespace radarpipe::io {
namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_text(std::ifstream& in, std::uint64_t offset, std::uint64_t size,
                      const std::string& name) {
  if (size > (64u << 20))
    throw SigmfError(name + ": metadata of " + std::to_string(size) +
                     " bytes is larger than the 64 MiB radarpipe accepts");
  std::string text(static_cast<std::size_t>(size), '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (!in) throw SigmfError(name + ": read error");
  return text;
}

}  // namespace

std::string sigmf_base(const std::string& path) {
  for (const char* ext : {".sigmf-meta", ".sigmf-data", ".sigmf"})
    if (ends_with(path, ext)) return path.substr(0, path.size() - std::strlen(ext));
  return path;
}

SigmfLocation locate_sigmf(const std::string& path) {
  SigmfLocation loc;
  std::string archive;
  std::string base = sigmf_base(path);
  if (ends_with(path, ".sigmf")) {
    archive = path;
  } else if (!ends_with(path, ".sigmf-meta") && !ends_with(path, ".sigmf-data") &&
             !fs::exists(base + ".sigmf-meta") && fs::exists(base + ".sigmf")) {
    archive = base + ".sigmf";
  }
  if (!archive.empty()) {
    if (!fs::exists(archive)) throw SigmfError(archive + ": archive not found");
    std::vector<TarMember> members;
    try {
      members = list_tar(archive);
    } catch (const std::runtime_error& e) {
      throw SigmfError(e.what());
    }
    const TarMember* meta = nullptr;
    for (const TarMember& m : members)
      if (ends_with(m.name, ".sigmf-meta")) {
        meta = &m;
        break;
      }
    if (!meta) throw SigmfError(archive + ": the archive holds no .sigmf-meta member");
    const std::string data_member =
        meta->name.substr(0, meta->name.size() - std::strlen(".sigmf-meta")) + ".sigmf-data";
    const TarMember* data = nullptr;
    for (const TarMember& m : members)
      if (m.name == data_member) data = &m;
    loc.archive = true;
    loc.meta_name = archive + ":" + meta->name;
    loc.data_name = archive + ":" + data_member;
    if (!data) throw SigmfError(loc.data_name + ": data member not found in the archive");
    loc.data_file = archive;
    loc.data_offset = data->offset;
    loc.data_bytes = data->size;
    std::ifstream in(archive, std::ios::binary);
    loc.meta_text = read_text(in, meta->offset, meta->size, loc.meta_name);
    return loc;
  }
  loc.meta_name = base + ".sigmf-meta";
  loc.data_name = base + ".sigmf-data";
  loc.data_file = loc.data_name;
  if (!fs::exists(loc.meta_name))
    throw SigmfError(loc.meta_name +
                     ": metadata file not found (a recording is NAME.sigmf-meta "
                     "+ NAME.sigmf-data, or a NAME.sigmf archive)");
  if (!fs::exists(loc.data_name))
    throw SigmfError(loc.data_name + ": data file not found (expected beside " + loc.meta_name +
                     ")");
  std::ifstream in(loc.meta_name, std::ios::binary);
  if (!in) throw SigmfError(loc.meta_name + ": cannot open");
  loc.meta_text = read_text(in, 0, fs::file_size(loc.meta_name), loc.meta_name);
  loc.data_bytes = fs::file_size(loc.data_name);
  return loc;
}

SigmfReader::SigmfReader(const std::string& path, SigmfReadOptions options)
    : loc_(locate_sigmf(path)) {
  meta_ = parse_sigmf_meta(loc_.meta_text, loc_.meta_name);
  loc_.meta_text.clear();
  data_.open(loc_.data_file, std::ios::binary);
  if (!data_) throw SigmfError(loc_.data_name + ": cannot open the data file");
  const std::uint64_t frame = meta_.format.sample_bytes() * meta_.num_channels;
  samples_ = loc_.data_bytes / frame;
  leftover_bytes_ = loc_.data_bytes % frame;
  for (std::size_t i = 0; i < meta_.captures.size(); ++i)
    if (meta_.captures[i].sample_start > samples_)
      throw SigmfError(loc_.meta_name + ": captures[" + std::to_string(i) +
                       "].core:sample_start: " + std::to_string(meta_.captures[i].sample_start) +
                       " is beyond the end of the data (" + std::to_string(samples_) +
                       " samples in " + loc_.data_name + ")");
  if (meta_.sha512 && options.verify_checksum) {
    if (options.checksum_while_reading) {
      checksum_pending_ = true;
    } else {
      hash_data_until(loc_.data_bytes);
      compare_checksum(hash_);
    }
  }
}

void SigmfReader::hash_data_until(std::uint64_t byte) {
  if (hashed_bytes_ >= byte) return;
  // A handle of its own, so that the hash may read what no CPI covers while samples are read.
  if (!hash_in_.is_open()) {
    hash_in_.open(loc_.data_file, std::ios::binary);
    if (!hash_in_) throw SigmfError(loc_.data_name + ": cannot open the data file");
  }
  std::vector<char> buf(1u << 20);
  hash_in_.clear();
  hash_in_.seekg(static_cast<std::streamoff>(loc_.data_offset + hashed_bytes_));
  while (hashed_bytes_ < byte) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(byte - hashed_bytes_, buf.size()));
    hash_in_.read(buf.data(), static_cast<std::streamsize>(n));
    if (!hash_in_) throw SigmfError(loc_.data_name + ": read error while checking core:sha512");
    hash_.update(buf.data(), n);
    hashed_bytes_ += n;
  }
}

void SigmfReader::compare_checksum(Sha512& h) {
  const std::string got = h.hex_digest();
  std::string want = *meta_.sha512;
  for (char& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (got != want)
    throw SigmfError(loc_.data_name + ": checksum mismatch: global.core:sha512 in " +
                     loc_.meta_name + " is " + want.substr(0, 16) + "..., the data hashes to " +
                     got.substr(0, 16) +
                     "... (the data is corrupt or was changed; --skip-checksum reads it anyway)");
  checksum_verified_ = true;
}

void SigmfReader::checksum_feed(std::uint64_t start, std::size_t count, const std::uint8_t* raw) {
  if (!checksum_pending_) return;
  const std::uint64_t begin = start * frame_bytes(), end = begin + count * frame_bytes();
  if (end <= hashed_bytes_) return;                   // read again: hashed already
  if (begin > hashed_bytes_) hash_data_until(begin);  // a gap: hash it from the file first
  const std::uint64_t skip = hashed_bytes_ - begin;   // the part hashed before
  hash_.update(raw + skip, static_cast<std::size_t>(end - hashed_bytes_));
  hashed_bytes_ = end;
}

bool SigmfReader::finish_checksum() {
  if (!checksum_pending_) return checksum_verified_;
  checksum_pending_ = false;
  hash_data_until(loc_.data_bytes);
  compare_checksum(hash_);
  return true;
}

void SigmfReader::read_raw(std::uint64_t start, std::size_t count, std::uint8_t* raw) {
  if (start > samples_ || count > samples_ - start)
    throw SigmfError(loc_.data_name + ": read of samples [" + std::to_string(start) + ", " +
                     std::to_string(start + count) + ") is beyond the " + std::to_string(samples_) +
                     " samples of the recording");
  const std::size_t frame = frame_bytes();
  data_.clear();
  data_.seekg(static_cast<std::streamoff>(loc_.data_offset + start * frame));
  data_.read(reinterpret_cast<char*>(raw), static_cast<std::streamsize>(count * frame));
  if (!data_)
    throw SigmfError(loc_.data_name + ": read error at sample " + std::to_string(start) +
                     " (was the file truncated while being read?)");
}

void SigmfReader::convert(const std::uint8_t* raw, std::size_t count, cf32* out,
                          std::size_t channel_stride) const {
  const std::size_t channels = meta_.num_channels;
  const std::size_t components = count * channels * 2;
  if (channels == 1) {
    convert_components(meta_.format, raw, components, meta_.sample_scale(),
                       reinterpret_cast<float*>(out));
    return;
  }
  // SigMF interleaves channels per sample: I0[0] Q0[0] I1[0] Q1[0] ... I0[1] ...; converted a
  // block of frames at a time through a small buffer on the stack of this thread.
  float block[8192];  // 32 KB: stays in L1/L2 between the conversion and the scatter
  const std::size_t frames_per_block =
      std::max<std::size_t>(1, sizeof block / sizeof(float) / (2 * channels));
  const std::size_t sample_bytes = meta_.format.sample_bytes();
  for (std::size_t i0 = 0; i0 < count; i0 += frames_per_block) {
    const std::size_t n = std::min(frames_per_block, count - i0);
    if (2 * n * channels > sizeof block / sizeof(float)) {  // more channels than the block holds
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < channels; ++c) {
          float v[2];
          convert_components(meta_.format, raw + ((i0 + i) * channels + c) * sample_bytes, 2,
                             meta_.sample_scale(), v);
          out[c * channel_stride + i0 + i] = cf32(v[0], v[1]);
        }
      continue;
    }
    convert_components(meta_.format, raw + i0 * channels * sample_bytes, 2 * n * channels,
                       meta_.sample_scale(), block);
    const auto* src = reinterpret_cast<const cf32*>(block);
    for (std::size_t c = 0; c < channels; ++c) {
      cf32* dst = out + c * channel_stride + i0;
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i * channels + c];
    }
  }
}

bool SigmfReader::stored_as_ci16() const {
  const SampleFormat& f = meta_.format;
  return f.is_complex && f.kind == 'i' && f.bits == 16 && !f.big_endian &&
         __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
}

void SigmfReader::split_ci16(const std::uint8_t* raw, std::size_t count, std::int16_t* out,
                             std::size_t channel_stride) const {
  const std::size_t channels = meta_.num_channels;
  if (channels == 1) {
    std::memcpy(out, raw, count * 4);
    return;
  }
  // One I/Q pair (4 bytes) per channel per frame. Frames are taken in blocks, each block read
  // once front to back and written to every channel's run: reading each channel's pairs in a
  // pass of its own would stream the whole CPI through the cache once per channel.
  constexpr std::size_t kBlock = 512;  // frames: 32 KB of 16 channels, in L1/L2 while split
  for (std::size_t i0 = 0; i0 < count; i0 += kBlock) {
    const std::size_t n = std::min(kBlock, count - i0);
    const std::uint8_t* block = raw + i0 * 4 * channels;
    for (std::size_t c = 0; c < channels; ++c) {
      std::int16_t* dst = out + 2 * (c * channel_stride + i0);
      for (std::size_t i = 0; i < n; ++i)
        std::memcpy(dst + 2 * i, block + 4 * (i * channels + c), 4);
    }
  }
}

void SigmfReader::read(std::uint64_t start, std::size_t count, cf32* out,
                       std::size_t channel_stride) {
  const std::size_t bytes = count * frame_bytes();
  if (raw_.size() < bytes) raw_.resize(bytes);
  read_raw(start, count, raw_.data());
  checksum_feed(start, count, raw_.data());
  convert(raw_.data(), count, out, channel_stride);
}

SigmfWriter::SigmfWriter(const std::string& base, SigmfMeta meta, SigmfWriteOptions options)
    : base_(sigmf_base(base)), meta_(std::move(meta)), options_(std::move(options)) {
  if (options_.datatype != "cf32_le" && options_.datatype != "ci16_le")
    throw SigmfError("datatype '" + options_.datatype +
                     "' cannot be written (radarpipe writes cf32_le or ci16_le)");
  if (!(options_.scale > 0))
    throw SigmfError("ci16 scale " + std::to_string(options_.scale) + " is not > 0");
  meta_.format = parse_datatype(options_.datatype);
  if (meta_.radar)
    meta_.radar->sample_scale = options_.datatype == "ci16_le" ? options_.scale : 1.0;
  name_ = fs::path(base_).filename().string();
  if (name_.empty()) throw SigmfError("'" + base + "' does not name an output file");
  const std::string data_path = options_.archive ? base_ + ".sigmf" : base_ + ".sigmf-data";
  out_.open(data_path, std::ios::binary | std::ios::trunc);
  if (!out_) throw SigmfError(data_path + ": cannot create the file");
  if (options_.archive) {
    unsigned char h[512];
    make_tar_header(name_ + "/", 0, '5', std::time(nullptr), h);
    out_.write(reinterpret_cast<const char*>(h), 512);
    data_header_pos_ = 512;
    std::memset(h, 0, 512);  // placeholder, rewritten by close() once the size is known
    out_.write(reinterpret_cast<const char*>(h), 512);
  }
}

SigmfWriter::~SigmfWriter() {
  try {
    close();
  } catch (...) {
  }
}

void SigmfWriter::write(const cf32* x, std::size_t count, std::size_t channel_stride) {
  if (closed_) throw SigmfError(base_ + ": write after close");
  const std::size_t channels = meta_.num_channels;
  const std::size_t components = count * channels * 2;
  const float* src = reinterpret_cast<const float*>(x);
  if (channels > 1) {
    if (interleaved_.size() < components) interleaved_.resize(components);
    auto* dst = reinterpret_cast<cf32*>(interleaved_.data());
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t c = 0; c < channels; ++c) dst[i * channels + c] = x[c * channel_stride + i];
    src = interleaved_.data();
  }
  const std::size_t bytes = components * meta_.format.component_bytes();
  if (raw_.size() < bytes) raw_.resize(bytes);
  if (options_.datatype == "ci16_le")
    clipped_ += encode_ci16_le(src, components, static_cast<float>(options_.scale), raw_.data());
  else
    encode_cf32_le(src, components, raw_.data());
  out_.write(reinterpret_cast<const char*>(raw_.data()), static_cast<std::streamsize>(bytes));
  if (!out_) throw SigmfError(base_ + ": write error (disk full?)");
  hash_.update(raw_.data(), bytes);
  samples_ += count;
  bytes_ += bytes;
}

void SigmfWriter::write(const Cpi& cpi) {
  if (cpi.shape.channels != meta_.num_channels)
    throw SigmfError(base_ + ": CPI has " + std::to_string(cpi.shape.channels) +
                     " channels, the recording " + std::to_string(meta_.num_channels));
  const std::size_t per_channel = cpi.shape.pulses * cpi.shape.gates;
  write(cpi.samples.data(), per_channel, per_channel);
}

void SigmfWriter::close() {
  if (closed_) return;
  closed_ = true;
  meta_.sha512 = hash_.hex_digest();
  const std::string text = sigmf_meta_to_json(meta_).dump(2) + "\n";
  if (!options_.archive) {
    out_.close();
    if (!out_) throw SigmfError(base_ + ".sigmf-data: write error on close");
    std::ofstream meta(base_ + ".sigmf-meta", std::ios::binary | std::ios::trunc);
    meta << text;
    if (!meta) throw SigmfError(base_ + ".sigmf-meta: cannot write");
    return;
  }
  static const char zeros[1024] = {};
  const std::int64_t now = std::time(nullptr);
  out_.write(zeros, static_cast<std::streamsize>((512 - bytes_ % 512) % 512));
  unsigned char h[512];
  make_tar_header(name_ + "/" + name_ + ".sigmf-meta", text.size(), '0', now, h);
  out_.write(reinterpret_cast<const char*>(h), 512);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  out_.write(zeros, static_cast<std::streamsize>((512 - text.size() % 512) % 512));
  out_.write(zeros, 1024);  // end-of-archive: two zero blocks
  make_tar_header(name_ + "/" + name_ + ".sigmf-data", bytes_, '0', now, h);
  out_.seekp(static_cast<std::streamoff>(data_header_pos_));
  out_.write(reinterpret_cast<const char*>(h), 512);
  out_.close();
  if (!out_) throw SigmfError(base_ + ".sigmf: write error on close");
}

std::vector<std::string> SigmfWriter::outputs() const {
  if (options_.archive) return {base_ + ".sigmf"};
  return {base_ + ".sigmf-meta", base_ + ".sigmf-data"};
}

}  // namespace radarpipe::io
