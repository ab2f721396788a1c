// Owning handles for what the CUDA stages allocate at construction: device and pinned host
// buffers, streams, events and cuFFT plans. Move-only; every call goes through the checking
// macros (check.cuh). Destructors release without throwing (a failure there is ignored: the
// context may already be torn down at exit). Host-compilable: no device code in this header.
#pragma once

#include <cuda_runtime.h>
#include <cufft.h>

#include <cstddef>
#include <utility>

#include "kernels/cuda/check.cuh"

namespace radarpipe::cuda {

/// cudaMalloc'd array of T, zero-filled once at construction, on `stream`: the stream that
/// will use it, so that the fill is ordered before that stream's first use. The chain's streams
/// are non-blocking, so a fill on the legacy default stream (stream 0, cudaMemset) would not be
/// ordered with them; a buffer made with stream 0 is only safe once the device is synchronised
/// (the stages' constructors end with cudaDeviceSynchronize for that reason).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t size, cudaStream_t stream = nullptr) : size_(size) {
    if (size == 0) return;
    RP_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), size * sizeof(T)));
    RP_CUDA_CHECK(cudaMemsetAsync(data_, 0, size * sizeof(T), stream));
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    swap(o);
    return *this;
  }
  ~DeviceBuffer() {
    if (data_) cudaFree(data_);
  }
  void swap(DeviceBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Page-locked host array (cudaMallocHost): the only host memory an asynchronous copy overlaps
/// with compute from.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t size) : size_(size) {
    if (size == 0) return;
    RP_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&data_), size * sizeof(T)));
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept { swap(o); }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    swap(o);
    return *this;
  }
  ~PinnedBuffer() {
    if (data_) cudaFreeHost(data_);
  }
  void swap(PinnedBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

class Stream {
 public:
  Stream() { RP_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stream& operator=(Stream&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stream() {
    if (s_) cudaStreamDestroy(s_);
  }
  cudaStream_t get() const { return s_; }
  void synchronize() const { RP_CUDA_CHECK(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  explicit Event(bool timing = false) {
    RP_CUDA_CHECK(
        cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& o) noexcept : e_(o.e_) { o.e_ = nullptr; }
  Event& operator=(Event&& o) noexcept {
    std::swap(e_, o.e_);
    return *this;
  }
  ~Event() {
    if (e_) cudaEventDestroy(e_);
  }
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t s) { RP_CUDA_CHECK(cudaEventRecord(e_, s)); }
  void synchronize() const { RP_CUDA_CHECK(cudaEventSynchronize(e_)); }

 private:
  cudaEvent_t e_ = nullptr;
};

/// Milliseconds between two recorded timing events (both complete).
inline float elapsed_ms(const Event& start, const Event& stop) {
  float ms = 0.0f;
  RP_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return ms;
}

/// A batched complex-to-complex single-precision cuFFT plan (cufftPlanMany's advanced layout).
class FftPlan {
 public:
  FftPlan() = default;
  /// n-point transforms, `batch` of them; element i of transform b at b * dist + i * stride.
  FftPlan(int n, int batch, int in_stride, int in_dist, int out_stride, int out_dist) {
    int dims[1] = {n};
    int inembed[1] = {n}, onembed[1] = {n};
    RP_CUFFT_CHECK(cufftCreate(&plan_));
    // A constructor that throws runs no destructor: the handle is released here instead.
    std::size_t work = 0;
    const cufftResult made = cufftMakePlanMany(plan_, 1, dims, inembed, in_stride, in_dist, onembed,
                                               out_stride, out_dist, CUFFT_C2C, batch, &work);
    if (made != CUFFT_SUCCESS) {
      cufftDestroy(plan_);
      plan_ = 0;
      RP_CUFFT_CHECK(made);
    }
    valid_ = true;
    work_bytes_ = work;
  }
  FftPlan(const FftPlan&) = delete;
  FftPlan& operator=(const FftPlan&) = delete;
  FftPlan(FftPlan&& o) noexcept { swap(o); }
  FftPlan& operator=(FftPlan&& o) noexcept {
    swap(o);
    return *this;
  }
  ~FftPlan() {
    if (valid_) cufftDestroy(plan_);
  }
  void swap(FftPlan& o) noexcept {
    std::swap(plan_, o.plan_);
    std::swap(valid_, o.valid_);
    std::swap(work_bytes_, o.work_bytes_);
  }
  void set_stream(cudaStream_t s) { RP_CUFFT_CHECK(cufftSetStream(plan_, s)); }
  /// direction: CUFFT_FORWARD (-1) or CUFFT_INVERSE (+1); unnormalised, like FFTW.
  void execute(const void* in, void* out, int direction) const {
    RP_CUFFT_CHECK(cufftExecC2C(plan_, reinterpret_cast<cufftComplex*>(const_cast<void*>(in)),
                                reinterpret_cast<cufftComplex*>(out), direction));
  }
  std::size_t work_bytes() const { return work_bytes_; }

 private:
  cufftHandle plan_ = 0;
  bool valid_ = false;
  std::size_t work_bytes_ = 0;
};

}  // namespace radarpipe::cuda
