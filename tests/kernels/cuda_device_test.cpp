// GPU checks (CTest label gpu). They skip with the reason when no CUDA device is present.
#include <gtest/gtest.h>

#include <vector>

#include "core/radar_math.hpp"
#include "kernels/cpu/waveform.hpp"
#include "kernels/cuda/device.cuh"
#include "kernels/cuda/shared_math.cuh"

namespace radarpipe {
namespace {

class Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    const cuda::DeviceScan scan = cuda::scan_devices();
    if (scan.devices.empty()) GTEST_SKIP() << "no CUDA device: " << scan.reason;
  }
};

TEST_F(Gpu, DeviceReportsSaneProperties) {
  const cuda::DeviceScan scan = cuda::scan_devices();
  const cuda::DeviceInfo& d = scan.devices[0];
  EXPECT_FALSE(d.name.empty());
  EXPECT_GE(d.compute_major, 7);
  EXPECT_GT(d.multiprocessors, 0);
  EXPECT_GT(d.global_memory_bytes, std::size_t{1} << 30);
}

// The shared __host__ __device__ model math gives the same numbers on the device as on the host.
TEST_F(Gpu, SharedPulseMathMatchesHost) {
  WaveformConfig lfm;
  lfm.type = WaveformType::Lfm;
  lfm.pulse_width_s = 10e-6;
  lfm.bandwidth_hz = 15e6;
  WaveformConfig barker;
  barker.type = WaveformType::Barker;
  barker.barker_length = 13;
  barker.chip_width_s = 0.35e-6;
  for (const WaveformConfig& w : {lfm, barker}) {
    const int n = 257;
    std::vector<double> re(n), im(n);
    cuda::evaluate_pulse_on_device(w, 20e6, n, re.data(), im.data());
    for (int k = 0; k < n; ++k) {
      double hr, hi;
      pulse_value(w, k / 20e6, &hr, &hi);
      ASSERT_NEAR(re[k], hr, 1e-12) << k;
      ASSERT_NEAR(im[k], hi, 1e-12) << k;
    }
  }
  std::vector<double> r(1000);
  cuda::evaluate_ranges_on_device(3e-6, 25e6, 1000, r.data());
  for (int k = 0; k < 1000; ++k) ASSERT_NEAR(r[k], range_of_bin_m(k, 3e-6, 25e6), 1e-9);
}

}  // namespace
}  // namespace radarpipe
