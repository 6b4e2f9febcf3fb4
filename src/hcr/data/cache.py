"""Cache parsed datasets as .npy files so the second load of a 700 MB CSV (or a million images) takes milliseconds.

An entry is named after the source's location and holds a fingerprint of the source files (path, size,
modification time): when a file changes, the next load re-parses and overwrites the entry, so stale entries do
not pile up. A cache that cannot be written (read-only home, full disk) only costs speed, never the load.
"""

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from hcr.data.dataset import LetterData
from hcr.paths import parse_cache_dir

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
STALE_SECONDS = 3600  # a temporary folder this old is what a killed writer left, never a write in progress
ARRAYS = ("x", "y", "source", "official_test", "case", "writer")  # an entry without one of them is parsed again


def fingerprint(paths: Sequence[Path], version: str = "") -> str:
    stats = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    return hashlib.sha256(json.dumps([CACHE_FORMAT, version, stats]).encode()).hexdigest()


def cached_load(
    kind: str, location: Path, paths: Sequence[Path], parse: Callable[[], LetterData], version: str = ""
) -> LetterData:
    """`parse()`'s result, from the cache when `paths` are unchanged since it was stored."""
    key = hashlib.sha256(f"{kind}:{location.resolve()}".encode()).hexdigest()[:16]
    entry = parse_cache_dir() / f"{kind}-{key}"
    try:
        stamp = fingerprint(paths, version)
    except OSError:  # a file gone or unreadable: parsing it reports that, naming the file
        return parse()
    data = _read(entry, stamp)
    if data is None:
        data = parse()
        _write(entry, stamp, data)
    return data


def _read(entry: Path, stamp: str) -> LetterData | None:
    """The entry's data, or None when it is missing, stale or damaged in any way: an entry is only a shortcut, so
    whatever a crash or a bad disk left in it means parsing again, which overwrites it."""
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("fingerprint") != stamp:
            return None
        # mapped, not read: a reload of a million images costs milliseconds, the pages are read as they are used
        # and shared through the page cache, and the arrays are read-only (nothing may change a cached source)
        arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
        return LetterData(
            **arrays,
            sources=tuple(meta["sources"]),
            sources_without_split=tuple(meta["sources_without_split"]),
            skipped=meta.get("skipped", {}),
        )
    except (OSError, ValueError, KeyError, TypeError):  # TypeError: valid JSON of the wrong shape
        return None


def _write(entry: Path, stamp: str, data: LetterData) -> None:
    """Write into a temporary folder of this process's own and rename it into place, so readers never see half an
    entry and two processes caching the same entry at once (tune workers started together) never write into each
    other's folder. Whoever renames last finds the entry already written from the same files, and keeps it."""
    tmp = entry.with_name(f"{entry.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        _sweep_stale(entry)
        tmp.mkdir(parents=True)  # honours the umask: a shared cache stays readable to its other users
        for name in ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(data, name))
        meta = {
            "fingerprint": stamp,
            "sources": data.sources,
            "sources_without_split": data.sources_without_split,
            "skipped": dict(data.skipped),
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        if _read(entry, stamp) is None:  # missing or stale; a current entry is another process's identical write
            shutil.rmtree(entry, ignore_errors=True)
            tmp.rename(entry)
    except OSError as e:
        if _read(entry, stamp) is None:
            log.warning("could not write the parse cache at %s (%s); loading will not be faster next time", entry, e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sweep_stale(entry: Path) -> None:
    """Remove what writers of `entry` killed mid-write left (temporary folders older than STALE_SECONDS), so they do
    not pile up; a younger one may be another process's write in progress."""
    for tmp in entry.parent.glob(f"{entry.name}.tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(tmp, ignore_errors=True)
