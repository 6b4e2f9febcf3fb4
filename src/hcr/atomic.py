"""Write files so a crash, Ctrl-C or `kill` never leaves a half-written one under the final name."""

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)  # reading the umask means setting it; put it back at once


@contextlib.contextmanager
def atomic_path(final_path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final_path`; move it into place only if the block succeeds.

    The temporary name keeps the final suffix so libraries that pick a format from the suffix still work.
    """
    final_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final_path.parent, prefix=f".{final_path.name}.", suffix=final_path.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.chmod(0o666 & ~_UMASK)  # mkstemp makes it private; the result is an ordinary file
        tmp_path.replace(final_path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


class Terminated(BaseException):
    """SIGTERM turned into an exception, a BaseException like KeyboardInterrupt, so cleanup code runs for both."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_cleans_up() -> Iterator[None]:
    """Within the block, SIGTERM unwinds the stack as Ctrl-C does, so `finally` blocks delete temporary files; the
    default action kills the process on the spot and leaves them behind. Once they have run, the process ends by
    SIGTERM all the same, so whoever sent it sees the status it expects. Outside the main thread signal handlers
    cannot be set, and the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise  # only if SIGTERM is blocked in this process
    finally:
        signal.signal(signal.SIGTERM, previous)
