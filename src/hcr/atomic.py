"""Write files so a crash, Ctrl-C or `kill` never leaves a half-written one under the final name."""

import contextlib
import os
import secrets
import signal
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(final_path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final_path`; move it into place only if the block succeeds.

    The temporary name keeps the final suffix so libraries that pick a format from the suffix still work.
    """
    final_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _new_file_beside(final_path)
    try:
        yield tmp_path
        tmp_path.replace(final_path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _new_file_beside(final_path: Path) -> Path:
    """An empty file with a fresh hidden name beside `final_path`, made as open() makes files: mode 0o666 less the
    process's umask, which the kernel applies. (mkstemp makes it private, and widening it afterwards meant reading
    the umask, which can only be done by setting it: at import, racing any thread that creates a file meanwhile.)"""
    while True:
        tmp_path = final_path.parent / f".{final_path.name}.{secrets.token_hex(4)}{final_path.suffix}"
        try:
            os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # another writer's temporary file; draw another name
            continue
        return tmp_path


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
