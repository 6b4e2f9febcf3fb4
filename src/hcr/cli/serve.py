"""`hcr serve`: the REST API and the draw-a-letter page over one exported model, with uvicorn."""

import re
import socket
from pathlib import Path

import typer

from hcr.console import console
from hcr.errors import HcrError, MissingExtraError
from hcr.serving.settings import ServeLimits

LIMITS_PANEL = "Limits (per worker)"
LIMITS = ServeLimits()  # the defaults, defined once there
MAX_UPLOAD_MB = 1000.0  # the largest limits the options accept: beyond, a value is a typo, not a policy
MAX_SECONDS = 3600.0
ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#\s]+")  # what a browser's Origin header holds: no path, no slash


def _limit(
    default: float, metavar: str, help_text: str, maximum: float, minimum: float = 0.001
) -> typer.models.OptionInfo:
    """A positive limit option, in the help's Limits panel, defaulting to ServeLimits' value. Its range is checked
    here rather than by click's min/max, which let NaN through (every comparison with it is false: the running
    server then broke) and widen the help's option column."""

    def in_range(value: float) -> float:
        if not minimum <= value <= maximum:  # False for NaN
            raise typer.BadParameter(f"{value} is not a number from {minimum:g} to {maximum:g}")
        return value

    return typer.Option(default, metavar=metavar, help=help_text, rich_help_panel=LIMITS_PANEL, callback=in_range)


def serve(
    model: Path | None = typer.Option(
        None,
        metavar="PATH",
        help="A model.onnx (with its model.json), or a folder holding one. Default: the model shipped with hcr.",
    ),
    host: str = typer.Option(
        "127.0.0.1", metavar="ADDRESS", help="Address to listen on (0.0.0.0 for every interface)."
    ),
    port: int = typer.Option(8000, min=0, max=65535, metavar="PORT", help="Port to listen on (0: any free port)."),
    cors_origin: list[str] = typer.Option(
        [],
        "--cors-origin",
        metavar="URL",
        help="Let pages from this origin call the API (repeat for more; '*' for any). Off by default.",
    ),
    max_upload_mb: float = _limit(
        LIMITS.max_upload_bytes / 1_000_000, "MB", "Larger request bodies are refused with 413.", MAX_UPLOAD_MB
    ),
    workers: int = typer.Option(
        1, min=1, metavar="N", help="Server processes (each loads the model): more use more cores."
    ),
    image_timeout: float = _limit(
        LIMITS.image_timeout_s,
        "S",
        "Seconds one upload may take to decode and read; longer is refused with 422.",
        MAX_SECONDS,
    ),
    header_timeout: float = _limit(
        LIMITS.header_timeout_s,
        "S",
        "Seconds a client has to send a request's headers; a slower one is disconnected.",
        MAX_SECONDS,
    ),
    body_timeout: float = _limit(
        LIMITS.body_timeout_s,
        "S",
        "Seconds a client has to send a request's body once its headers are in.",
        MAX_SECONDS,
    ),
    max_connections: int = _limit(
        LIMITS.max_connections,
        "N",
        "Open connections per worker; beyond, the longest-idle connection is closed.",
        1_000_000,
        1,
    ),
) -> None:
    """Serve the API (POST /v1/predict, /v1/read; GET /v1/health, /v1/model; docs at /docs) and a page to draw on."""
    try:
        from hcr.serving import server
        from hcr.serving.app import load_app
    except ModuleNotFoundError as e:
        raise MissingExtraError("serve", e.name or "fastapi") from None

    _check_host(host)
    for origin in cors_origin:
        _check_origin(origin)
    limits = ServeLimits(
        max_upload_bytes=round(max_upload_mb * 1_000_000),
        image_timeout_s=image_timeout,
        header_timeout_s=header_timeout,
        body_timeout_s=body_timeout,
        max_connections=max_connections,
    )
    app = load_app(model, limits=limits, cors_origins=cors_origin)  # a bad model fails here, first
    sock = server.open_port(host, port, workers)
    url = f"http://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}/"
    console.print(f"hcr: serving {app.state.model_name} at {url} (API docs at /docs); Ctrl-C stops", soft_wrap=True)
    server.run(app, sock, workers)


def _check_origin(origin: str) -> None:
    """Refuse what no browser sends as an Origin ('*' aside): it would never match, and the page's author would
    wonder why the API stays closed to them."""
    if origin != "*" and not ORIGIN.fullmatch(origin):
        raise HcrError(
            f"--cors-origin {origin!r}: not an origin (scheme://host[:port], e.g. https://forms.example.org)"
        )


def _check_host(host: str) -> None:
    """Refuse a host name that does not resolve, saying so: binding to it fails with a resolver error code that
    the OS describes as 'Unknown error -2'."""
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise HcrError(f"cannot resolve host {host!r}: {e.strerror}") from None
