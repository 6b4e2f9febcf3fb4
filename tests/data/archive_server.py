"""A real HTTP server on 127.0.0.1 and zips of the real EMNIST files: what `hcr data download` (and `make demo`,
which downloads through it) are tested against instead of NIST's server."""

import contextlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

LETTERS_FILES = (
    "emnist-letters-mapping.txt",
    "emnist-letters-test-images-idx3-ubyte.gz",
    "emnist-letters-test-labels-idx1-ubyte.gz",
    "emnist-letters-train-images-idx3-ubyte.gz",
    "emnist-letters-train-labels-idx1-ubyte.gz",
)
DIGITS_MEMBER = "gzip/emnist-digits-train-images-idx3-ubyte.gz"


def zip_archive(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def emnist_archive(shared_data: Path) -> bytes:
    """An archive laid out like the official gzip.zip, holding the real EMNIST Letters files."""
    members = {f"gzip/{name}": (shared_data / "emnist" / name).read_bytes() for name in LETTERS_FILES}
    members[DIGITS_MEMBER] = b"not wanted: hcr reads only the letters"
    return zip_archive(members)


@dataclass
class Server:
    base: str
    routes: dict[str, bytes] = field(default_factory=dict)
    truncated: dict[str, bytes] = field(default_factory=dict)  # sent with a Content-Length 1000 bytes too big
    stalled: dict[str, bytes] = field(default_factory=dict)  # half sent, the rest only once `release` is set
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@contextlib.contextmanager
def serve() -> Iterator[Server]:
    """A real HTTP server on 127.0.0.1 (a free port) answering from `Server`'s routes, until the block ends."""
    state = Server(base="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path in state.routes:
                body = state.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path in state.truncated:
                body = state.truncated[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + 1000))
                self.end_headers()
                self.wfile.write(body)  # then HTTP/1.0 closes the connection, 1000 bytes short
            elif self.path in state.stalled:
                body = state.stalled[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                state.release.wait(60)
                self.wfile.write(body[len(body) // 2 :])
            else:
                self.send_error(404)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
