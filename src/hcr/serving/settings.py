"""What one `hcr serve` worker allows a client: every bound in one place, with no web framework imported, so the
CLI can show the defaults without loading FastAPI."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeLimits:
    """Every bound on what one server worker spends on clients, in one place (`hcr serve` options set them).

    The upload limit and the image budget are the app's (serving.app, serving.compute); the timeouts and the
    connection cap are the HTTP connection's (serving.protocol)."""

    max_upload_bytes: int = 5_000_000  # a larger request body is refused with 413
    image_timeout_s: float = 10.0  # decoding and reading one upload; longer → 422, and its process is killed
    image_processes: int = 1  # per worker: large uploads decoded at once (each ~1.25× its decoded size at the peak)
    queue_timeout_s: float = 30.0  # how long an upload may wait for a free image process; longer → 503 (busy)
    header_timeout_s: float = 10.0  # from connecting (or the first byte of the next request) to the headers' end
    body_timeout_s: float = 30.0  # from the headers' end to the body's end (5 MB at 1.3 Mbit/s)
    max_connections: int = 256  # open connections per worker; beyond, the longest-idle one is closed
