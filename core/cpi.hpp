// The unit of work: one CPI, a cube x[c][p][n] of complex float samples (n fastest), and the
// power maps P[map][d][m] that Doppler processing produces (RADAR-MODEL.md "Layout of a CPI").
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace radarpipe {

using cf32 = std::complex<float>;

/// IQ sample formats a chain takes as its pulse-compression input: complex float32 (8 bytes a
/// sample, I then Q), or complex int16 (4 bytes, I then Q, host byte order) times a scale, the
/// value of one LSB. Every later stage's input is float.
enum class SampleFormat { Cf32, Ci16 };

/// Asks the kernel to back [p, p + bytes) with transparent huge pages. A hint: where the kernel
/// has none, or on other systems, the memory keeps its normal pages.
inline void advise_huge_pages(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/// Tag for an AlignedBuffer whose every element is written before it is read (input buffers a
/// reader fills whole): its pages are neither zeroed nor touched until that first write.
struct Uninitialised {};
inline constexpr Uninitialised kUninitialised{};

/// Heap array aligned to 64 bytes (cache line, AVX-512), zero-initialised, move-only. The only
/// allocation happens in the constructor. Buffers of 4 MiB and more (CPI cubes, the chain's
/// compressed cube, power maps) are aligned to 2 MiB and asked for transparent huge pages: the
/// stages stream them at memory speed, and with 4 KiB pages every 4 KiB of such a stream also
/// costs a page walk (bench-matx moves 441 MB a CPI; huge pages took 3-4% off the CPU chain on
/// the benchmark VM, docs/performance.md).
template <class T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t size) : AlignedBuffer(size, kUninitialised) {
    if (data_) std::memset(static_cast<void*>(data_), 0, bytes_);
  }
  /// Not zeroed (T trivial): a fresh buffer's pages are first touched, and so faulted in and
  /// cleared by the kernel, by whoever writes them first. For a CPI-sized input buffer (74 MB on
  /// bench-matx) the zeroing pass would cost as much as a read of the CPI, on the thread that
  /// starts the run, before the first read can begin.
  AlignedBuffer(std::size_t size, Uninitialised) : size_(size) {
    static_assert(std::is_trivially_copyable_v<T>, "AlignedBuffer holds plain data only");
    if (size == 0) return;
    bytes_ = ((size * sizeof(T) + 63) / 64) * 64;
    const bool huge = bytes_ >= kHugeFrom;
    if (huge) bytes_ = (bytes_ + kHugePage - 1) / kHugePage * kHugePage;
    data_ = static_cast<T*>(std::aligned_alloc(huge ? kHugePage : 64, bytes_));
    if (!data_) throw std::bad_alloc();
    if (huge) advise_huge_pages(data_, bytes_);
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), size_(o.size_), bytes_(o.bytes_) {
    o.data_ = nullptr;
    o.size_ = 0;
    o.bytes_ = 0;
  }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

 private:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  static constexpr std::size_t kHugeFrom = std::size_t{4} << 20;
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;  ///< allocated, a multiple of 64 (of 2 MiB for huge buffers)
};

struct CpiShape {
  std::size_t channels = 0;  ///< C
  std::size_t pulses = 0;    ///< P
  std::size_t gates = 0;     ///< N (range samples per pulse)
  std::size_t size() const { return channels * pulses * gates; }
  bool operator==(const CpiShape& o) const {
    return channels == o.channels && pulses == o.pulses && gates == o.gates;
  }
};

struct Cpi {
  Cpi() = default;
  explicit Cpi(CpiShape s) : shape(s), samples(s.size()) {}

  std::uint64_t id = 0;           ///< CPI sequence number
  std::int64_t timestamp_ns = 0;  ///< UTC ns of the first pulse's transmit
  CpiShape shape;
  AlignedBuffer<cf32> samples;  ///< x[c][p][n], n fastest

  cf32* row(std::size_t c, std::size_t p) {
    return samples.data() + (c * shape.pulses + p) * shape.gates;
  }
  const cf32* row(std::size_t c, std::size_t p) const {
    return samples.data() + (c * shape.pulses + p) * shape.gates;
  }
  cf32* channel(std::size_t c) { return row(c, 0); }
  const cf32* channel(std::size_t c) const { return row(c, 0); }
};

/// Square-law power maps P[map][d][m]: d the shifted Doppler bin (zero Doppler at M/2), m the
/// range bin (fastest). One map for noncoherent combining, one per channel otherwise.
struct PowerMap {
  PowerMap() = default;
  PowerMap(std::size_t maps_, std::size_t doppler_bins_, std::size_t gates_)
      : maps(maps_),
        doppler_bins(doppler_bins_),
        gates(gates_),
        data(maps_ * doppler_bins_ * gates_) {}

  std::size_t maps = 0;
  std::size_t doppler_bins = 0;  ///< M
  std::size_t gates = 0;         ///< N
  AlignedBuffer<float> data;

  float* map(std::size_t i) { return data.data() + i * doppler_bins * gates; }
  const float* map(std::size_t i) const { return data.data() + i * doppler_bins * gates; }
  float at(std::size_t i, std::size_t d, std::size_t m) const { return map(i)[d * gates + m]; }
};

}  // namespace radarpipe
