"""Client for radarpipe's detection stream (docs/trackers.md).

``ReportStream`` iterates over reports with pyzmq alone; ``radarpipe_client.stonesoup`` (the
Stone Soup DetectionReader) and ``radarpipe_client.tracking`` (a GNN + EKF tracker) need the
``stonesoup`` extra.
"""

from .stream import (SCHEMA, SUPPORTED_VERSIONS, Detection, Report, ReportStream, StreamError,
                     bearing_rad, decode_message, utc_from_ns)

__all__ = ["SCHEMA", "SUPPORTED_VERSIONS", "Detection", "Report", "ReportStream", "StreamError",
           "bearing_rad", "decode_message", "utc_from_ns"]
__version__ = "0.1.0"
