"""Opening the files users name: regular files only, and every reason a file cannot be read said in words.

Opening a FIFO waits for a writer forever, and a device such as /dev/zero never ends, so every place that opens a
user's file (datasets, images to predict or read) goes through `check_regular_file` first: it only stat()s the
path, which never blocks.
"""

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from hcr.errors import DataError, HcrError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFileError(OSError):
    """A path that exists but is not a regular file: reading it could block forever or never end."""


def check_regular_file(path: Path | str) -> None:
    """Raise NotRegularFileError unless `path` (symlinks followed) is a regular file; FileNotFoundError if absent."""
    mode = Path(path).stat().st_mode
    if not stat.S_ISREG(mode):
        kind = next((name for is_kind, name in _KINDS if is_kind(mode)), "a special file")
        raise NotRegularFileError(errno.EINVAL, f"{kind}, not a regular file", str(path))


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for binary reading, once `check_regular_file` has made sure opening it cannot block."""
    check_regular_file(path)
    return path.open("rb")


def is_file_entry(path: Path) -> bool:
    """Whether a folder listing should offer `path` as a file: it exists and is not a folder. FIFOs and devices are
    offered too, so that the check which opens them reports them rather than their vanishing without a word."""
    try:
        return not stat.S_ISDIR(path.stat().st_mode)
    except OSError:  # a broken symlink, or a race with a deletion
        return False


def unreadable(path: Path, error: OSError) -> DataError:
    """The DataError for a data file that cannot be opened or read, naming the file and the reason in words."""
    if isinstance(error, FileNotFoundError):
        return DataError(path, "file not found")
    if isinstance(error, NotRegularFileError):
        return DataError(path, error.strerror)
    return DataError(path, f"cannot read the file ({error.strerror or error})")


def check_output_dir(path: Path, option: str = "--out") -> None:
    """Refuse, before any work is done, an output folder that cannot be made or written to: an existing file, a
    path below a file, a read-only place. Nothing is created, so a run that fails later leaves no empty folder."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise HcrError(f"{option} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise HcrError(f"{option} {path}: {existing} is not writable")


def make_output_dir(path: Path, option: str = "--out") -> None:
    """Create the output folder (checked first with check_output_dir); a failure is the user's, in one line."""
    check_output_dir(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HcrError(f"{option} {path}: cannot create the folder ({e.strerror or e})") from None
