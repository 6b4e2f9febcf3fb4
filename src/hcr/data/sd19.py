"""NIST Special Database 19 (2nd edition) in NIST's own layout: `by_class/XX/{train_XX,hsf_N}/*.png`.

`XX` is the character's ASCII code in hex (41 = A … 5a = Z, 61 = a … 7a = z, 30 … 39 digits), so the folder gives
the letter and its case. Scans are 128×128 bilevel, black ink on white (1-bit PNGs, or 8-bit RGB as NIST ships them),
converted to EMNIST-style 28×28 letters by sd19_convert.py. Digits are skipped and counted; unreadable files too.
NIST's partition hsf_4 is its test set: when hsf_N folders are present, hsf_4 is the official test split, and a scan
stored both in train_XX and in an hsf_N folder is read once.

`by_write`, beside `by_class`, holds the same scans filed by writer: `by_write/hsf_N/fWWWW_YY/{u,l,d,c}WWWW_YY/*.png`,
one fWWWW_YY folder per form (one writer), u the upper-case boxes, l the lower-case, d digits, c the paragraph. Its
file names do not say which character a scan is, so, as LEAF's FEMNIST preparation does, a by_class scan gets the
writer of the byte-identical by_write file (u and l folders only), for writer-disjoint splits (`--split writer`).
https://www.nist.gov/srd/nist-special-database-19
"""

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from hcr.console import console
from hcr.data.case import LOWER, UPPER
from hcr.data.dataset import NO_WRITER, LetterData
from hcr.data.sd19_convert import SCAN_SIDE, convert_scans
from hcr.errors import DataError

log = logging.getLogger(__name__)

NAME = "nist-sd19"
BY_CLASS = "by_class"
BY_WRITE = "by_write"
CONVERT_VERSION = 2  # bump when sd19_convert's output changes: it keys the parse cache
TEST_PARTITION = "hsf_4"
_PART = re.compile(r"(train_[0-9a-f]{2}|hsf_\d)")
_FORM = re.compile(r"f(\d{4})_(\d{2})")  # a writer's form: fWWWW_YY
_LETTER_BOXES = re.compile(r"[ul]\d{4}_\d{2}")  # its upper- and lower-case boxes


@dataclass(frozen=True)
class Sd19Files:
    root: Path  # the by_class folder
    files: list[Path]
    labels: np.ndarray  # int64 [N], 0..25
    case: np.ndarray  # uint8 [N]
    test: np.ndarray  # bool [N]: in NIST's test partition
    has_partitions: bool  # hsf_N folders present (then hsf_4 is the official test split)
    n_digits: int
    stamp: str  # hash of every scan's name, size and modification time: keys the parse cache
    by_write: Path | None = None  # the by_write folder beside root, if any
    write_files: tuple[Path, ...] = ()  # its letter-box scans
    write_ids: np.ndarray | None = None  # int64, each one's writer: WWWW × 100 + YY of its fWWWW_YY folder


def find_by_class(location: Path) -> Path | None:
    """The `by_class` folder at `location`, inside it, or up to two levels below."""
    if location.name == BY_CLASS and location.is_dir():
        return location
    for pattern in (BY_CLASS, f"*/{BY_CLASS}", f"*/*/{BY_CLASS}"):
        found = sorted(p for p in location.glob(pattern) if p.is_dir())
        if found:
            return found[0]
    return None


def list_sd19_files(root: Path) -> Sd19Files:
    """Every letter scan under `root` (a by_class folder), with its label and case; refuses folders that are not
    hex character codes."""
    files: list[Path] = []
    labels, cases, tests = [], [], []
    n_digits = 0
    has_partitions = False
    stamp = hashlib.sha256()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        char = _character(folder)
        parts = sorted(p for p in folder.iterdir() if p.is_dir() and _PART.fullmatch(p.name))
        has_partitions |= any(p.name.startswith("hsf_") for p in parts)
        for part in parts:
            pngs = _pngs(part)
            if char.isdigit():
                n_digits += len(pngs)
                continue
            for entry in pngs:
                info = entry.stat()
                stamp.update(f"{part.name}/{entry.name}:{info.st_size}:{info.st_mtime_ns};".encode())
            files += [Path(entry.path) for entry in pngs]
            labels += [ord(char.upper()) - ord("A")] * len(pngs)
            cases += [UPPER if char.isupper() else LOWER] * len(pngs)
            tests += [part.name == TEST_PARTITION] * len(pngs)
    if not files:
        raise DataError(root, "no letter scans found: expected by_class/XX/train_XX/*.png (XX = 41 … 5a, 61 … 7a)")
    labels_, cases_, tests_ = np.array(labels, np.int64), np.array(cases, np.uint8), np.array(tests, bool)
    by_write = root.parent / BY_WRITE
    if not by_write.is_dir():
        return Sd19Files(root, files, labels_, cases_, tests_, has_partitions, n_digits, stamp.hexdigest())
    write_files, write_ids = _list_by_write(by_write, stamp)
    return Sd19Files(
        root,
        files,
        labels_,
        cases_,
        tests_,
        has_partitions,
        n_digits,
        stamp.hexdigest(),
        by_write,
        write_files,
        write_ids,
    )


def _list_by_write(by_write: Path, stamp: Any) -> tuple[tuple[Path, ...], np.ndarray]:
    """The letter-box scans under by_write/hsf_N/fWWWW_YY/{u,l}WWWW_YY/, each with its writer id; their names, sizes
    and times go into `stamp` (a hashlib object). Refuses a by_write folder that holds no writer's form."""
    files: list[Path] = []
    ids: list[int] = []
    for partition in sorted(p for p in by_write.iterdir() if p.is_dir() and _PART.fullmatch(p.name)):
        for form in sorted(p for p in partition.iterdir() if p.is_dir() and _FORM.fullmatch(p.name)):
            number, template = _FORM.fullmatch(form.name).groups()  # type: ignore[union-attr]
            for boxes in sorted(p for p in form.iterdir() if p.is_dir() and _LETTER_BOXES.fullmatch(p.name)):
                pngs = _pngs(boxes)
                for entry in pngs:
                    info = entry.stat()
                    stamp.update(f"{form.name}/{entry.name}:{info.st_size}:{info.st_mtime_ns};".encode())
                files += [Path(entry.path) for entry in pngs]
                ids += [int(number) * 100 + int(template)] * len(pngs)
    if not files:
        raise DataError(
            by_write, "no writer ids: expected letter scans in by_write/hsf_N/fWWWW_YY/uWWWW_YY/*.png (or lWWWW_YY)"
        )
    return tuple(files), np.array(ids, np.int64)


def _pngs(folder: Path) -> list[os.DirEntry]:
    """The PNG files in `folder`, sorted; os.scandir, because 30,000 Path objects and stats cost seconds."""
    with os.scandir(folder) as entries:
        found = [e for e in entries if e.name.lower().endswith(".png") and not e.name.startswith(".") and e.is_file()]
    return sorted(found, key=lambda e: e.name)


def _character(folder: Path) -> str:
    try:
        char = chr(int(folder.name, 16)) if len(folder.name) == 2 else ""
    except ValueError:
        char = ""
    if not (char.isascii() and char.isalnum()):
        raise DataError(
            folder, "not an SD19 class folder: names are hex ASCII codes, 41 … 5a (A … Z), 61 … 7a (a … z), 30 … 39"
        )
    return char


def load_sd19(files: Sd19Files) -> LetterData:
    """Read, convert and label every scan; unreadable and blank scans are skipped and counted."""
    with console.status(f"Reading {len(files.files):,} SD19 scans…"):  # ~0.15 ms a file, mostly Pillow's own
        scans = [_read_scan(path) for path in files.files]
    readable = np.array([s is not None for s in scans])
    ink = np.stack([s for s in scans if s is not None]) if readable.any() else np.zeros((0, SCAN_SIDE, SCAN_SIDE), bool)
    with console.status(f"Converting {len(ink):,} SD19 scans to 28×28…"):
        x, has_ink = convert_scans(ink)
    kept = np.flatnonzero(readable)[has_ink]
    skipped = {
        f"{NAME}: digits": files.n_digits,
        f"{NAME}: unreadable files": int((~readable).sum()),
        f"{NAME}: blank scans": int((~has_ink).sum()),
    }
    writer = _writers(files)
    test = files.test.copy()
    if files.has_partitions:
        x, kept, skipped[f"{NAME}: scans stored twice (train_XX and hsf_N)"] = _once(x, kept, test)
    skipped = {k: v for k, v in skipped.items() if v}
    if skipped:
        log.warning("%s: %s", files.root, "; ".join(f"{k.split(': ')[1]} skipped: {v:,}" for k, v in skipped.items()))
    if len(x) == 0:
        raise DataError(files.root, f"none of the {len(files.files):,} scans is a readable letter")
    return LetterData.single_source(
        x,
        files.labels[kept],
        NAME,
        official_test=test[kept] if files.has_partitions else None,
        case=files.case[kept],
        skipped=skipped,
        writer=writer[kept],
    )


def _writers(files: Sd19Files) -> np.ndarray:
    """int64 [N]: the writer of each by_class scan, from the by_write file with the same bytes (NO_WRITER without
    one). Refused when by_write is there but none of its files is a by_class scan: its writers would be guesses."""
    writer = np.full(len(files.files), NO_WRITER, dtype=np.int64)
    if files.by_write is None or files.write_ids is None:
        return writer
    with console.status(f"Matching {len(files.write_files):,} by_write scans to their by_class copies…"):
        writer_of = {
            _digest(path): int(writer_id) for path, writer_id in zip(files.write_files, files.write_ids, strict=True)
        }
        writer_of.pop(None, None)  # unreadable files match nothing
        for i, path in enumerate(files.files):
            writer[i] = writer_of.get(_digest(path), NO_WRITER)
    unknown = int((writer == NO_WRITER).sum())
    if unknown == len(writer):
        raise DataError(files.by_write, "no writer ids: none of its scans is a by_class scan (byte for byte)")
    if unknown:
        log.warning(
            "%s: %s of %s by_class scans have no by_write copy (no writer id)", files.root, unknown, len(writer)
        )
    return writer


def _digest(path: Path) -> bytes | None:
    """The file's bytes, hashed; None for a file that cannot be read."""
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        return None


def _read_scan(path: Path) -> np.ndarray | None:
    """bool [128, 128], True where the scan is black; None when the file cannot be decoded. A readable file of
    another size is not an SD19 scan, and is refused."""
    try:
        with Image.open(path) as image:
            if image.size != (SCAN_SIDE, SCAN_SIDE):
                raise DataError(path, f"{image.size[0]}×{image.size[1]} image; SD19 scans are 128×128")
            if image.mode == "1":
                return ~np.asarray(image)
            return np.asarray(image.convert("L")) < 128
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as e:
        log.debug("%s: unreadable (%s)", path, e)
        return None


def _once(x: np.ndarray, kept: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop later copies of identical letters (NIST stores a scan in train_XX and in its hsf_N folder); a scan any of
    whose copies is in the test partition counts as test (`test`, per file, is updated in place)."""
    rows = np.ascontiguousarray(x).reshape(len(x), -1)
    _, first, group = np.unique(rows.view(np.dtype((np.void, rows.shape[1]))).ravel(), True, True)
    group = group.ravel()
    test[kept[first[group]]] |= test[kept]
    unique = np.sort(first)
    return x[unique], kept[unique], len(x) - len(unique)
