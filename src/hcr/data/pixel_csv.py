"""Read the "label, then 784 pixels" CSV files of Kaggle A–Z and EMNIST, fast and with exact error messages.

polars parses the full Kaggle file (372,450 rows, 700 MB) in about 7 s on 2 cores, 0.6× the time of
pandas.read_csv; see bench/data_load.py.
When it rejects a file, a plain line-by-line scan finds the first bad row so the message can name it.
"""

import codecs
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hcr.console import console
from hcr.errors import DataError, MissingExtraError
from hcr.files import open_regular, unreadable

if TYPE_CHECKING:
    import polars as pl

N_PIXELS = 28 * 28
N_COLUMNS = 1 + N_PIXELS
HEAD_BYTES = 1 << 16  # how much of the file is checked for being text before polars parses it


def read_pixel_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels (int64 [N], as written in the file) and pixel rows (uint8 [N, 784]) of a headerless CSV."""
    try:
        import polars as pl
    except ImportError:
        raise MissingExtraError("train", "polars") from None
    size_mb = _checked_size(path) / 1e6
    schema = {f"c{i}": pl.UInt8 for i in range(N_COLUMNS)}
    try:
        with console.status(f"Parsing {path.name} ({size_mb:,.0f} MB)…"):
            table = pl.read_csv(path, has_header=False, schema=schema)
    except (pl.exceptions.PolarsError, OSError) as e:
        raise DataError(path, find_first_bad_row(path) or f"not a label+784-pixel CSV ({_first_line(e)})") from None
    if _has_nulls(table):  # polars fills blank lines, and the cells missing from short rows, with nulls
        table = _without_trailing_blank_rows(table)
        if _has_nulls(table):
            raise DataError(path, find_first_bad_row(path) or "a row has missing values")
    rows = table.to_numpy()  # uint8 [N, 785]
    if len(rows) == 0:
        raise DataError(path, "file has no rows")
    return rows[:, 0].astype(np.int64), np.ascontiguousarray(rows[:, 1:])


def _has_nulls(table: "pl.DataFrame") -> bool:
    return bool(table.null_count().sum_horizontal().item())


def _without_trailing_blank_rows(table: "pl.DataFrame") -> "pl.DataFrame":
    """The table without the all-null rows that blank lines at the end of the file become (an editor's extra
    newline); blank lines before the last row stay, for find_first_bad_row to name."""
    import polars as pl  # already loaded by read_pixel_csv; imported lazily like there

    blank = table.select(pl.all_horizontal(pl.all().is_null())).to_series().to_numpy()
    filled = np.flatnonzero(~blank)
    return table.head(int(filled[-1]) + 1 if len(filled) else 0)


def _checked_size(path: Path) -> int:
    """The file's size, once it is known to be a regular file that can be opened, is not empty and starts as text:
    polars would block on a FIFO, and its errors for these cases do not say what is wrong."""
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(HEAD_BYTES)
    except OSError as e:
        raise unreadable(path, e) from None
    if size == 0:
        raise DataError(path, "file is empty")
    if not _is_text(head):
        raise DataError(path, "not a text CSV (binary data, or text that is not UTF-8); is this the right file?")
    return size


def _is_text(head: bytes) -> bool:
    """Whether the file's first bytes are UTF-8 text without NUL bytes (UTF-16 text is full of them)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end is fine
    except UnicodeDecodeError:
        return False
    return b"\0" not in head


def find_first_bad_row(path: Path) -> str | None:
    """Describe the first row that is not a label and 784 integers in 0..255, or None if all are fine."""
    first_blank = None
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                first_blank = first_blank or number
                continue
            if first_blank is not None:
                return f"row {first_blank} is empty (blank lines are allowed only at the end)"
            cells = line.rstrip("\r\n").split(",")
            if len(cells) != N_COLUMNS:
                return f"row {number} has {len(cells)} columns, expected {N_COLUMNS} (a label and 784 pixels)"
            for column, cell in enumerate(cells, start=1):
                if not cell.strip().isdigit():
                    hint = " (the file must not have a header row)" if number == 1 else ""
                    return f"row {number}, column {column}: {cell!r} is not a whole number{hint}"
                if int(cell) > 255:
                    return f"row {number}, column {column}: {cell} is outside 0..255"
    return None


def check_label_range(path: Path, labels: np.ndarray, low: int, high: int) -> None:
    """Raise naming the first row whose label lies outside low..high."""
    bad = np.flatnonzero((labels < low) | (labels > high))
    if len(bad):
        row = int(bad[0])
        raise DataError(path, f"row {row + 1}: label {labels[row]} outside {low}..{high} ({len(bad)} such rows)")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
