"""The detection stream of ``radarpipe run`` as Python objects.

Reports are read from the JSON topics (``detections.json``, ``end.json``) of the run's publish
socket: ``radarpipe run --format json`` or ``--format both``. Fields, units and signs are those
of docs/detections.md: SI units, range rate positive receding, azimuth in degrees clockwise from
true north (present only when the mode has an ``antenna:`` section).
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Tuple

import zmq

SCHEMA = "radarpipe.detections"
SUPPORTED_VERSIONS = (1, 2, 3)
_EPOCH = datetime.datetime(1970, 1, 1)


class StreamError(RuntimeError):
    """A message that is not a radarpipe report, or no message in time."""


def utc_from_ns(ns: int) -> datetime.datetime:
    """UTC nanoseconds since 1970 as a naive UTC datetime (microsecond resolution)."""
    return _EPOCH + datetime.timedelta(microseconds=ns // 1000)


def _num(o: dict, key: str, default=None, optional=False) -> Optional[float]:
    """A JSON number as a float. A missing key gives `default` (KeyError when there is none and
    it is not optional); a string, a flag or anything else raises ValueError naming the key."""
    if key not in o:
        if default is None and not optional:
            raise KeyError(key)
        return default
    v = o[key]
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{key} {v!r:.40} is not a number")
    return float(v)


def _int(o: dict, key: str, default: Optional[int] = None) -> int:
    """A JSON integer. Floats (1e400 included), strings and flags raise ValueError naming the
    key, so a hostile 1e400 never reaches int() as infinity."""
    if key not in o:
        if default is None:
            raise KeyError(key)
        return default
    v = o[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{key} {v!r:.40} is not an integer")
    return v


def _decided_by(v, where: str) -> str:
    if v not in ("cfar", "clutter_map"):
        raise StreamError(f"{where}: decided_by {v!r} is not cfar or clutter_map")
    return v


@dataclass
class Detection:
    range_m: float
    range_rate_mps: float
    doppler_hz: float
    snr_db: float
    power_db: float
    noise_db: float
    range_bin: int
    doppler_bin: int
    range_bin_frac: float
    doppler_bin_frac: float
    channel: int
    cells: int
    range_extent_bins: int
    eclipsed: bool
    azimuth_deg: Optional[float] = None
    decided_by: str = "cfar"

    @classmethod
    def from_json(cls, o: dict, where: str) -> "Detection":
        if not isinstance(o, dict):
            raise StreamError(f"{where}: a detection is an object, got {type(o).__name__}")
        try:
            return cls(
                range_m=_num(o, "range_m"),
                range_rate_mps=_num(o, "range_rate_mps"),
                doppler_hz=_num(o, "doppler_hz"),
                snr_db=_num(o, "snr_db"),
                power_db=_num(o, "power_db"),
                noise_db=_num(o, "noise_db", 0.0),
                range_bin=_int(o, "range_bin"),
                doppler_bin=_int(o, "doppler_bin"),
                range_bin_frac=_num(o, "range_bin_frac"),
                doppler_bin_frac=_num(o, "doppler_bin_frac"),
                channel=_int(o, "channel"),
                cells=_int(o, "cells", 0),
                range_extent_bins=_int(o, "range_extent_bins", 0),
                eclipsed=bool(o.get("eclipsed", False)),
                azimuth_deg=_num(o, "azimuth_deg", optional=True),
                decided_by=_decided_by(o.get("decided_by", "cfar"), where),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise StreamError(f"{where}: {e!r} in a detection") from None


@dataclass
class Report:
    cpi: int
    timestamp_ns: int
    cells: int
    crossings: int
    noise_power_db: float
    detections: List[Detection] = field(default_factory=list)
    crossings_dropped: int = 0
    detections_dropped: int = 0
    range_resolution_m: Optional[float] = None
    range_rate_resolution_mps: Optional[float] = None
    beamwidth_deg: Optional[float] = None
    version: int = 3
    map_cells: int = 0
    map_tested: int = 0
    map_crossings: int = 0

    @property
    def time(self) -> datetime.datetime:
        """The CPI's first pulse, naive UTC."""
        return utc_from_ns(self.timestamp_ns)

    @classmethod
    def from_json(cls, o: dict, where: str = "report") -> "Report":
        if not isinstance(o, dict) or o.get("schema") != SCHEMA:
            raise StreamError(f"{where}: not a {SCHEMA} object")
        version = o.get("version")
        if version not in SUPPORTED_VERSIONS:
            raise StreamError(
                f"{where}: schema version {version!r} is not supported "
                f"(this client reads {SUPPORTED_VERSIONS})")
        detections = o.get("detections", [])
        if not isinstance(detections, list):
            raise StreamError(f"{where}: detections is a list, got {type(detections).__name__}")
        try:
            dets = [Detection.from_json(d, f"{where}: detections[{i}]")
                    for i, d in enumerate(detections)]
            return cls(
                cpi=_int(o, "cpi"),
                timestamp_ns=_int(o, "timestamp_ns"),
                cells=_int(o, "cells"),
                crossings=_int(o, "crossings"),
                noise_power_db=_num(o, "noise_power_db"),
                detections=dets,
                crossings_dropped=_int(o, "crossings_dropped", 0),
                detections_dropped=_int(o, "detections_dropped", 0),
                range_resolution_m=_num(o, "range_resolution_m", optional=True),
                range_rate_resolution_mps=_num(o, "range_rate_resolution_mps", optional=True),
                beamwidth_deg=_num(o, "beamwidth_deg", optional=True),
                version=int(version),
                map_cells=_int(o, "map_cells", 0),
                map_tested=_int(o, "map_tested", 0),
                map_crossings=_int(o, "map_crossings", 0),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise StreamError(f"{where}: {e!r}") from None


class ReportStream:
    """Iterates over the reports a ``radarpipe run`` publishes, in CPI order.

    endpoint: the run's ``--publish`` endpoint (``tcp://host:port``; this side connects).
    until_end: stop when the IQ stream ends (the ``end.json`` message).
    timeout_s: raise StreamError after this many seconds without a message (None: wait forever).
    key_file, server_key_file: CURVE (docs/security.md), for a run whose mode has a ``security:``
        section: this client's secret certificate (``radarpipe keygen``'s ``NAME.key_secret``,
        its public ``NAME.key`` in the run's ``security.authorized_keys``) and the run's public
        certificate. ZeroMQ certificate files, read by ``zmq.auth.load_certificate``.
    """

    def __init__(self, endpoint: str, until_end: bool = True,
                 timeout_s: Optional[float] = 30.0, context: Optional[zmq.Context] = None,
                 key_file: Optional[str] = None, server_key_file: Optional[str] = None):
        self.endpoint = endpoint
        self.until_end = until_end
        self.timeout_s = timeout_s
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        # A publisher announcing a message over 256 MiB is dropped by ZeroMQ before anything is
        # allocated (as radarpipe listen does; 65536 detections are about 15 MB of JSON).
        self._sock.setsockopt(zmq.MAXMSGSIZE, 256 << 20)
        if (key_file is None) != (server_key_file is None):
            raise ValueError("CURVE needs both key_file and server_key_file")
        if key_file is not None:
            from zmq.auth import load_certificate  # noqa: PLC0415 (only CURVE users need it)
            public, secret = load_certificate(key_file)
            if secret is None:
                raise ValueError(f"{key_file}: a public certificate; the secret one is needed")
            server_public, _ = load_certificate(server_key_file)
            self._sock.curve_publickey = public
            self._sock.curve_secretkey = secret
            self._sock.curve_serverkey = server_public
        self._sock.setsockopt(zmq.SUBSCRIBE, b"detections.json")
        self._sock.setsockopt(zmq.SUBSCRIBE, b"end.json")
        self._sock.connect(endpoint)
        self.ended = False
        self.reports_received = 0

    def close(self) -> None:
        self._sock.close(0)

    def __enter__(self) -> "ReportStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Report]:
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        while not (self.ended and self.until_end):
            timeout_ms = None if self.timeout_s is None else int(self.timeout_s * 1000)
            if not poller.poll(timeout_ms):
                raise StreamError(
                    f"{self.endpoint}: nothing in {self.timeout_s} s "
                    "(is radarpipe run publishing JSON: --format json or both?)")
            parts = self._sock.recv_multipart()
            topic, report = decode_message(parts, self.endpoint)
            if topic == "end.json":
                self.ended = True
            if report is not None:
                self.reports_received += 1
                yield report


def decode_message(parts: List[bytes], where: str = "message") -> Tuple[str, Optional[Report]]:
    """One message of the publish socket as ReportStream meets it: (topic, Report) for a
    ``detections.json`` report, (topic, None) for anything else (``end.json``, other topics, not
    two parts). A report that does not decode raises StreamError naming ``where``, the topic
    and the problem; nothing else escapes (tests/fuzz/fuzz_python_client.py)."""
    if len(parts) != 2:
        return "", None
    topic = parts[0].decode("ascii", "replace")
    if topic != "detections.json":
        return topic, None
    try:
        obj = json.loads(parts[1])
    except (ValueError, RecursionError) as e:  # RecursionError: JSON nested past Python's stack
        raise StreamError(f"{where}: {topic}: not JSON ({type(e).__name__}: {e})") from None
    return topic, Report.from_json(obj, f"{where}: {topic}")


def bearing_rad(azimuth_deg: float) -> float:
    """Azimuth (degrees clockwise from north) as a mathematical bearing (radians
    anticlockwise from east, the x axis), in (-pi, pi]: x is east, y is north."""
    b = math.radians(90.0 - azimuth_deg)
    return math.atan2(math.sin(b), math.cos(b))
