// Writes SigMF recordings of a known pattern with radarpipe's writer, for the interoperability
// test (sigmf_interop.py) to check with the official SigMF library:
//   write_known OUTDIR
// writes OUTDIR/{cf32,ci16}_{1,2}ch (pairs) and OUTDIR/ci16_2ch_archive.sigmf. Sample k of
// channel c is (k + 1000 c, -k / 2) in float units; ci16 uses an LSB of 0.5.
#include <cstdio>
#include <string>
#include <vector>

#include "io/sigmf_file.hpp"

using namespace radarpipe;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_known OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::size_t n = 3000;
  for (const char* dt : {"cf32_le", "ci16_le"})
    for (std::size_t channels : {1u, 2u})
      for (bool archive : {false, true}) {
        if (archive && (std::string(dt) != "ci16_le" || channels != 2)) continue;
        std::vector<cf32> x(n * channels);
        for (std::size_t c = 0; c < channels; ++c)
          for (std::size_t k = 0; k < n; ++k)
            x[c * n + k] = cf32(static_cast<float>(k + 1000 * c), -static_cast<float>(k) / 2);
        io::SigmfMeta meta;
        RadarConfig radar;
        radar.channels = channels;
        radar.range_gates = 100;
        io::set_radar_extension(meta, radar, 1.0);
        io::SigmfCapture cap;
        cap.frequency_hz = 9.4e9;
        cap.datetime = "2026-11-21T12:00:00.000000Z";
        meta.captures.push_back(cap);
        io::SigmfAnnotation a;
        a.sample_start = 100;
        a.sample_count = 50;
        a.fields = {{"core:label", "known"}, {"core:comment", "interop"}};
        meta.annotations.push_back(a);
        io::SigmfWriteOptions o;
        o.datatype = dt;
        o.scale = 0.5;
        o.archive = archive;
        const std::string name = dir + "/" + std::string(dt).substr(0, 4) + "_" +
                                 std::to_string(channels) + "ch" + (archive ? "_archive" : "");
        io::SigmfWriter w(name, meta, o);
        w.write(x.data(), n, n);
        w.close();
        std::printf("%s\n", w.outputs().front().c_str());
      }
  return 0;
}
