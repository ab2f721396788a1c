# All dependencies are Debian packages (scripts/bootstrap installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# Debian's FFTW CMake config files are incomplete; pkg-config is reliable.
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
find_library(FFTW3F_THREADS_LIBRARY NAMES fftw3f_threads REQUIRED
  HINTS ${FFTW3F_LIBRARY_DIRS})
add_library(radarpipe_fftw INTERFACE)
target_link_libraries(radarpipe_fftw INTERFACE ${FFTW3F_THREADS_LIBRARY} PkgConfig::FFTW3F Threads::Threads)

find_package(yaml-cpp REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.2 REQUIRED)
# ZeroMQ streaming: libzmq through cppzmq's CMake config (cppzmq-dev), protobuf for reports.
find_package(cppzmq REQUIRED)
find_package(Protobuf REQUIRED)
if(RADARPIPE_TESTS)
  find_package(GTest REQUIRED)
endif()
if(RADARPIPE_BENCH)
  find_package(benchmark REQUIRED)
endif()

# zlib: PNG output (io/image.cpp).
find_package(ZLIB REQUIRED)

# SHA-512 of SigMF data (io/sha512.cpp): OpenSSL's libcrypto (libssl-dev).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
