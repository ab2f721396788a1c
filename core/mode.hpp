// A radar mode: what the digitizer records and how radarpipe processes it. These structs are
// what a mode file (configs/*.yaml, loaded by pipeline/config/mode_file.hpp) turns into; each
// field gives its unit and valid range, and validate() enforces exactly those ranges and the
// consistency rules between fields, so the YAML loader and the structs cannot disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace radarpipe {

/// Invalid configuration. `key()` is the dotted key path (processing.cfar.pfa), what() the full
/// message "processing.cfar.pfa: 1.5 is not in (0, 1)".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& message)
      : std::runtime_error(key.empty() ? message : key + ": " + message), key_(std::move(key)) {}
  /// The same error with a location ("file:line:col: ") put in front of its message.
  ConfigError located(const std::string& where) const {
    return ConfigError(key_, where + what(), 0);
  }
  const std::string& key() const { return key_; }

 private:
  ConfigError(std::string key, const std::string& full, int)
      : std::runtime_error(full), key_(std::move(key)) {}
  std::string key_;
};

enum class WaveformType { Lfm, Barker, Rect };

struct WaveformConfig {
  WaveformType type = WaveformType::Lfm;
  double pulse_width_s = 10.0e-6;  ///< lfm, rect: pulse width tau, > 0
  double bandwidth_hz = 15.0e6;    ///< lfm: swept bandwidth B, 0 < B <= sample_rate_hz
  int direction = +1;              ///< lfm: +1 up-chirp, -1 down-chirp
  int barker_length = 13;          ///< barker: 2, 3, 4, 5, 7, 11 or 13 chips
  double chip_width_s = 1.0e-6;    ///< barker: chip duration, >= 1 / sample_rate_hz

  /// Pulse duration (s): tau, or length * chip width for Barker.
  double duration_s() const;
  /// Bandwidth that sets range resolution (Hz): B (lfm), 1/chip (barker), 1/tau (rect).
  double resolution_bandwidth_hz() const;
};

enum class WindowType { Rect, Hann, Hamming, Blackman, Taylor, Chebyshev };

struct WindowConfig {
  WindowType type = WindowType::Rect;
  int nbar = 4;          ///< taylor: number of nearly constant sidelobes, 1 <= nbar <= 20
  double sll_db = 35.0;  ///< taylor: peak sidelobe level below the mainlobe, 13 <= sll <= 120
  double attenuation_db = 60.0;  ///< chebyshev: sidelobe attenuation, 13 <= att <= 200
};

struct RadarConfig {
  double center_frequency_hz = 9.4e9;  ///< carrier fc, 1 MHz <= fc <= 300 GHz
  double sample_rate_hz = 20.0e6;      ///< complex baseband rate fs, > 0
  double pri_s = 100.0e-6;             ///< pulse repetition interval, > 0
  std::size_t range_gates = 1800;      ///< samples per pulse per channel N, 1 <= N <= 2^24
  double window_start_s = 0.0;         ///< receive window delay t0, 0 <= t0, t0 + N/fs <= PRI
  std::size_t channels = 1;            ///< receive channels C, 1 <= C <= 1024
  WaveformConfig waveform;

  double wavelength_m() const;
  double prf_hz() const { return 1.0 / pri_s; }
};

enum class MtiMode { None, TwoPulse, ThreePulse };
/// The distribution the clutter map's factor assumes for a cell's power (docs/signal-chain.md
/// "Clutter map"): noise's (Gamma(looks)) everywhere, or Gamma(nu) with nu measured per cell.
enum class ClutterMapShape { Noise, Measured };
enum class ChannelCombine { Noncoherent, PerChannel };
enum class CfarType { Ca, Go, So, Os };
enum class FftPlanning { Estimate, Measure, Patient };
/// CFAR threshold factors: solved for the correlation the chain's stages put between cells
/// (calibrated), or for independent cells (textbook). RADAR-MODEL.md "CFAR".
enum class CfarThreshold { Calibrated, Textbook };

/// A threshold factor measured on a noise recording by `radarpipe calibrate` (docs/modes.md
/// "processing.cfar.factors"): the interior window's factor on the reference Doppler row. The
/// chain scales its whole table (every range-edge window and Doppler row, from `threshold`) by
/// alpha / the table's interior factor, so the shape stays the model's and the level is measured.
/// fingerprint: Mode::cfar_fingerprint() of the mode it was measured for; a mode whose map or
/// CFAR differs rejects it. The measured_* fields are the evidence, carried and checked.
struct CfarFactors {
  bool present = false;  ///< the mode file has processing.cfar.factors
  double alpha = 0;      ///< > 0
  std::string fingerprint;
  double measured_pfa = 0;               ///< crossings / cells at alpha over the recording
  std::uint64_t cells = 0;               ///< interior cells measured
  std::uint64_t crossings = 0;           ///< of them above alpha
  double pfa_low = 0, pfa_high = 0;      ///< 95% binomial interval of measured_pfa
  double alpha_low = 0, alpha_high = 0;  ///< 95% interval of alpha (order statistics)
  std::string source;                    ///< the recording it was measured on
};

struct CfarConfig {
  CfarType type = CfarType::Ca;
  std::size_t guard_range = 2;    ///< guard cells each side in range, >= 0
  std::size_t guard_doppler = 1;  ///< guard cells each side in Doppler, >= 0
  std::size_t train_range = 8;    ///< training cells each side beyond the guard in range, >= 0
  std::size_t train_doppler = 4;  ///< training cells each side beyond the guard in Doppler, >= 0
  double pfa = 1.0e-6;            ///< design probability of false alarm, 0 < pfa < 1
  double os_rank = 0.75;          ///< os: k = round(rank * N) of N training cells, 0 < rank <= 1
  CfarThreshold threshold = CfarThreshold::Calibrated;
  CfarFactors factors;  ///< measured override; absent unless factors.present

  /// Training cells of the full (interior) window: the (2(g_r+t_r)+1) x (2(g_d+t_d)+1) rectangle
  /// minus the (2g_r+1) x (2g_d+1) guard rectangle.
  std::size_t interior_training_cells() const;
};

/// The clutter map of the zero-Doppler filters (the MTD's; docs/modes.md
/// "processing.clutter_map", docs/signal-chain.md "Clutter map"). The Doppler rows within
/// `doppler_bins` of zero (or within velocity_mps) are decided against a per-cell recursive average
/// of their own past power instead of by the CFAR. Times are counted in updates of a cell: one per
/// CPI for a fixed beam; for a rotating one, each CPI whose beam lies in the cell's azimuth cell.
struct ClutterMapConfig {
  bool present = false;          ///< the mode has processing.clutter_map
  std::size_t doppler_bins = 1;  ///< W: rows M/2 - W .. M/2 + W, 2W + 1 <= M
  double velocity_mps = 0;       ///< > 0: W = floor(velocity_mps / velocity bin) instead
  double time_constant = 20;     ///< tau of the recursion, in CPIs or scans, 1 .. 10^4 updates
  bool in_scans = false;         ///< time_constant and warmup are in scans (rotating antenna)
  double warmup = 0;             ///< updates before the map declares anything; 0: one tau
  double pfa = 0;                ///< design Pfa of a map cell on noise; 0: processing.cfar.pfa
  double factor_db = 0;          ///< > 0: a fixed detection factor over the map instead of pfa
  ClutterMapShape shape = ClutterMapShape::Measured;  ///< what the factor assumes (pfa only)
  double hold_s = 60;             ///< a cell declared this long is learned anyway, 0 .. 10^6 s
  std::size_t azimuth_cells = 0;  ///< rotating: azimuth cells per turn; 0: 360 / beamwidth
  std::string file;  ///< where the map is saved and reloaded (docs/modes.md); "": not kept
};

struct ProcessingConfig {
  std::size_t pulses = 128;  ///< pulses per CPI P, 1 <= P <= 65536 (>= 2/3 with MTI)
  WindowConfig range_window{WindowType::Rect};  ///< taper across the reference pulse
  MtiMode mti = MtiMode::None;
  WindowConfig doppler_window{WindowType::Rect};  ///< taper across the pulses after MTI
  std::size_t doppler_fft_size = 128;             ///< M >= pulses left after MTI, <= 65536
  ChannelCombine channel_combine = ChannelCombine::Noncoherent;
  CfarConfig cfar;
  FftPlanning fft_planning = FftPlanning::Measure;  ///< FFTW planner effort at construction
  /// Where FFTW wisdom is kept for this mode's CPU chain: "" the per-user cache
  /// ($XDG_CACHE_HOME/radarpipe/fftw-wisdom), "none" no wisdom file, else a file path.
  std::string fft_wisdom;
  std::size_t max_crossings = 1u << 20;  ///< crossings clustered per map per CPI, >= 1
  std::size_t max_detections = 65536;    ///< detections reported per CPI, >= 1
  ClutterMapConfig clutter_map;
};

enum class Backend { Auto, Cpu, Cuda };

/// The chain's stages in order. Detection is CFAR + plot extraction (the crossings between them
/// are not a wire format, so they always run together).
enum class Stage { PulseCompression = 0, Doppler = 1, Detection = 2 };
inline constexpr int kStageCount = 3;

/// A run of stages in one process and on one backend (ARCHITECTURE.md "Links between stages").
struct SegmentConfig {
  std::string name = "chain";  ///< [a-z0-9_-], 1..32 characters, unique in the mode
  Stage first = Stage::PulseCompression;
  Stage last = Stage::Detection;
  /// Endpoint of the link from the previous segment (inproc://, ipc:// or tcp://); empty for
  /// the first segment, which is fed by the IQ stream. This segment binds it unless it starts
  /// with '>' (connect); a leading '@' (bind) is accepted too.
  std::string from;
};

/// How `radarpipe run` lays the chain out (ZeroMQ streaming, docs/streaming.md).
struct PipelineConfig {
  std::vector<SegmentConfig> segments{SegmentConfig{}};  ///< in chain order, covering every stage
  std::size_t cpis_in_flight = 3;  ///< IQ cube buffers at the ingest, 2 <= n <= 64: one being
                                   ///< assembled, the others queued or in the first segment
  std::size_t link_queue = 2;      ///< messages queued per link (ZeroMQ high-water mark), 1..64
};

enum class ScanType { Fixed, Rotating };

/// Where the antenna looks (docs/trackers.md "Azimuth"). Azimuths are degrees clockwise from
/// true north in [0, 360). A mode without an antenna: section gives detections no azimuth.
struct AntennaConfig {
  bool present = false;  ///< the mode has an antenna: section
  ScanType scan = ScanType::Fixed;
  /// fixed: the beam's azimuth. rotating: the azimuth at every UTC instant that is a whole number
  /// of rotation periods after 1970-01-01T00:00:00Z (the scan's phase). [0, 360)
  double azimuth_deg = 0;
  /// fixed, per_channel combining: each channel's beam azimuth, C values in [0, 360); empty:
  /// every channel looks along azimuth_deg. The combined map always uses azimuth_deg.
  std::vector<double> channel_azimuths_deg;
  double beamwidth_deg = 0;      ///< 3 dB azimuth beamwidth, (0, 360], required
  double rotation_period_s = 0;  ///< rotating: one turn, 0.1 .. 511 s (I034/041's range)
  int direction = +1;            ///< rotating: +1 clockwise (seen from above), -1 anticlockwise
  std::size_t sectors = 16;      ///< rotating: CAT034 sectors per turn, a power of two 1..256
};

/// ASTERIX output (docs/trackers.md): CAT048 plots and CAT034 scan messages.
struct AsterixConfig {
  bool present = false;     ///< the mode has an asterix: section
  unsigned sac = 0;         ///< system area code, 0..255
  unsigned sic = 0;         ///< system identification code, 0..255
  std::string destination;  ///< udp://HOST:PORT, unicast or an IPv4 multicast group; empty: none
  unsigned ttl = 1;         ///< multicast time to live (hops), 0..255
  std::string interface;    ///< IPv4 address of the multicast sending interface; empty: default
  bool zmq = false;         ///< also publish each datagram on the report socket, topic "asterix"
  std::size_t max_datagram_bytes = 1400;  ///< one data block per datagram, 64..65507 bytes
  double amplitude_offset_db = 0;         ///< I048/130 PAM (dBm) = power_db + this, -300..300
  bool cat034 = true;                     ///< send CAT034 north markers and sector crossings
};

/// How pulses sit in a VITA 49 sample stream (docs/streaming.md "VRT source").
enum class PulseTiming {
  Gated,       ///< each pulse's receive window arrives as its own run of N samples
  Continuous,  ///< one unbroken stream; pulse k's window is cut at epoch + k PRI + window start
};
/// What marks pulse 0's transmit time, from which pulses and CPIs are counted.
enum class VrtEpoch {
  FirstPacket,  ///< the first data packet (gated: its first sample is gate 0 of pulse 0)
  Context,      ///< the first context packet's timestamp
  Time,         ///< a UTC time in the mode (a PRI locked to a time reference)
};
/// The data packet payload format a VRT stream uses before a context packet says.
enum class VrtPayload { Sc8, Sc12, Sc16, Cf32 };

/// input.vrt: reading IQ from ANSI/VITA 49.2 packets (docs/modes.md "input").
struct VrtInputConfig {
  PulseTiming timing = PulseTiming::Gated;
  VrtEpoch epoch = VrtEpoch::FirstPacket;
  std::int64_t epoch_ns = 0;  ///< epoch: a time (UTC ns)
  /// The data stream ID of each channel, in channel order (C distinct values). Empty: a
  /// one-channel mode takes the first data stream to arrive.
  std::vector<std::uint32_t> stream_ids;
  VrtPayload payload_format = VrtPayload::Sc16;  ///< until a context packet gives one
  double scale =
      1.0;  ///< the value of one integer LSB in the chain (as a recording's sample_scale)
  int gps_leap_seconds = 18;  ///< GPS - UTC for TSI = GPS timestamps, 0..100
  std::size_t receive_buffer_bytes = std::size_t{64} << 20;  ///< UDP SO_RCVBUF asked, 64 KiB..2 GiB
};

/// Where `radarpipe run` reads IQ from when --from is not given.
struct InputConfig {
  std::string from;  ///< an endpoint as --from takes it; empty: --from is required
  VrtInputConfig vrt;
};

/// security.curve: whether the ZeroMQ sockets that cross a process use CURVE (docs/security.md).
enum class CurveUse {
  Auto,  ///< on when security.key names a key pair
  On,    ///< required: starting without keys is an error
  Off,   ///< never (tcp endpoints are warned about at start-up)
};

/// security: CURVE authentication and encryption, with a ZAP handler checking client keys, on
/// every tcp:// and ipc:// ZeroMQ endpoint (docs/security.md). Paths as given (relative ones
/// from the working directory); key files are ZeroMQ certificates (radarpipe keygen, or CZMQ's
/// and pyzmq's zmq.auth).
struct SecurityConfig {
  CurveUse curve = CurveUse::Auto;
  std::string key;         ///< this process's certificate with its secret key (NAME.key_secret)
  std::string server_key;  ///< the public certificate of the sockets this process connects to
  std::string authorized_keys;  ///< a folder of public certificates (*.key), or one, allowed in
  bool enabled() const {
    return curve == CurveUse::On || (curve == CurveUse::Auto && !key.empty());
  }
  /// These settings with the files `over` names in place of these (the command line's --key,
  /// --server-key and --authorized-keys over the mode's).
  SecurityConfig overridden_by(const SecurityConfig& over) const {
    SecurityConfig s = *this;
    if (!over.key.empty()) s.key = over.key;
    if (!over.server_key.empty()) s.server_key = over.server_key;
    if (!over.authorized_keys.empty()) s.authorized_keys = over.authorized_keys;
    return s;
  }
};

struct Mode {
  RadarConfig radar;
  ProcessingConfig processing;
  Backend backend = Backend::Auto;
  PipelineConfig pipeline;
  AntennaConfig antenna;
  AsterixConfig asterix;
  InputConfig input;
  SecurityConfig security;

  /// Throws ConfigError naming the first key path that is out of range or inconsistent.
  void validate() const;
  /// 16 hex digits naming what a measured CFAR factor depends on: the sample rate, gates,
  /// channels, waveform, pulses, windows, MTI, Doppler size, channel combining and every CFAR key
  /// but `factors` (a staleness check for processing.cfar.factors, not a security measure).
  std::string cfar_fingerprint() const;
};

/// Quantities a mode implies (RADAR-MODEL.md), computed once from a valid mode.
struct ModeGeometry {
  double wavelength_m;
  double prf_hz;
  std::size_t waveform_samples;     ///< L = round(duration * fs)
  std::size_t first_eclipsed_bin;   ///< N - L + 1: bins from here on are partially eclipsed
  double range_bin_m;               ///< c / (2 fs)
  double range_resolution_m;        ///< c / (2 B)
  double first_range_m;             ///< range of bin 0
  double last_range_m;              ///< range of bin N-1
  double last_full_gain_range_m;    ///< range of bin N-L (last bin with the whole pulse inside)
  double transmit_eclipse_range_m;  ///< c tau / 2: closer echoes overlap the transmitted pulse
  double unambiguous_range_m;       ///< c PRI / 2
  std::size_t pulses_after_mti;     ///< P, P-1 or P-2
  double velocity_span_mps;         ///< lambda PRF / 2 (v from -span/2 to +span/2)
  double velocity_bin_mps;          ///< lambda PRF / (2 M)
  double doppler_bin_hz;            ///< PRF / M
  double cpi_duration_s;            ///< P * PRI
  double input_samples_per_s;       ///< C * N / PRI complex samples
  std::size_t maps;                 ///< power maps CFAR runs on: 1 (noncoherent) or C
  std::size_t cfar_looks;           ///< exponential powers summed per map cell: C or 1
  std::size_t cells_per_cpi;        ///< maps * M * N
};

ModeGeometry derive_geometry(const Mode& mode);

/// What processing.clutter_map resolves to for a valid mode (everything in updates of a cell).
struct ClutterMapGeometry {
  bool present = false;
  std::size_t first_row = 0, rows = 0;  ///< the map's Doppler rows: first_row .. + rows - 1
  std::size_t azimuth_cells = 1;        ///< 1 unless the antenna rotates
  std::size_t maps = 1;                 ///< power maps (ModeGeometry::maps)
  std::size_t gates = 0;
  std::size_t looks = 1;             ///< ModeGeometry::cfar_looks
  double time_constant_updates = 0;  ///< tau >= 1
  std::size_t warmup_updates = 0;    ///< >= 1
  std::size_t gap_updates = 0;       ///< quiet updates that end a declaration episode: tau
  std::size_t hold_updates = 0;      ///< an episode longer than this is learned anyway
  double updates_per_second = 0;     ///< of one cell
  double pfa = 0;                    ///< design (0 when factor_db is given)
  double factor_db = 0;              ///< fixed factor (0 when pfa is given)
  ClutterMapShape shape = ClutterMapShape::Measured;
  std::size_t cells() const { return maps * azimuth_cells * rows * gates; }
};
/// The largest map the stage keeps (cells x 20 bytes of state: 640 MiB).
inline constexpr std::size_t kMaxClutterMapCells = std::size_t{1} << 25;
ClutterMapGeometry clutter_map_geometry(const Mode& mode);

const char* to_string(WaveformType);
const char* to_string(WindowType);
const char* to_string(MtiMode);
const char* to_string(ClutterMapShape);
const char* to_string(ChannelCombine);
const char* to_string(CfarType);
const char* to_string(FftPlanning);
const char* to_string(CfarThreshold);
const char* to_string(Backend);
const char* to_string(Stage);
const char* to_string(ScanType);

}  // namespace radarpipe
