"""EMNIST's mapping files (`emnist-<split>-mapping.txt`): which character each label stands for.

Each line is `label ascii [ascii …]`: ByClass `10 65` (A) and `36 97` (a); ByMerge `12 67` (C, which holds c as well,
as c has no class of its own); Letters `1 65 97` (A and a). hcr reads letters A–Z, so a class becomes a letter and a
case: the case is known when the class names one case and the other case has a class of its own, unknown otherwise.
Digit classes are recognised so that loaders can skip and count them.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hcr.data.case import LOWER, UNKNOWN, UPPER
from hcr.errors import DataError

DIGIT = -1  # ClassTable.letter of a digit class


@dataclass(frozen=True)
class ClassTable:
    """Per label, from `first` to `first + len(letter) - 1`: its letter (0..25, or DIGIT) and its case."""

    first: int
    letter: np.ndarray  # int64 [n_classes]
    case: np.ndarray  # uint8 [n_classes]

    @property
    def last(self) -> int:
        return self.first + len(self.letter) - 1


def letters_table() -> ClassTable:
    """EMNIST Letters' fixed mapping (1 = A/a … 26 = Z/z), for copies without the mapping file (the official
    download's letters files are all hcr extracts)."""
    return ClassTable(1, np.arange(26, dtype=np.int64), np.full(26, UNKNOWN, dtype=np.uint8))


def read_mapping(path: Path) -> ClassTable:
    """Parse a mapping file; every inconsistency is a DataError naming the line."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(path, f"cannot read the mapping file ({e})") from None
    classes: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label, chars = _parse_line(path, number, line)
        if label in classes:
            raise DataError(path, f"line {number}: label {label} is listed twice")
        classes[label] = chars
    if not classes:
        raise DataError(path, "the mapping file lists no classes")
    labels = sorted(classes)
    if labels != list(range(labels[0], labels[0] + len(labels))):
        raise DataError(path, f"labels must run from {labels[0]} to {labels[-1]} without gaps")
    return _table(path, labels[0], [classes[label] for label in labels])


def _parse_line(path: Path, number: int, line: str) -> tuple[int, str]:
    """(label, characters) of one `label ascii [ascii …]` line; the characters are one letter in either case or a
    digit."""
    cells = line.split()
    try:
        label, *codes = (int(cell) for cell in cells)
    except ValueError:
        raise DataError(path, f"line {number}: {line.strip()!r} is not `label ascii-code …`") from None
    chars = "".join(chr(code) if 0 <= code < 128 else "?" for code in codes)
    one_digit = chars.isdigit() and len(chars) == 1
    one_letter = chars.isalpha() and len(set(chars.upper())) == 1
    if not (one_digit or one_letter):
        raise DataError(path, f"line {number}: label {label} maps to {chars!r}, not one digit or one letter")
    return label, chars


def _table(path: Path, first: int, chars: list[str]) -> ClassTable:
    present = set("".join(chars))
    letter = np.full(len(chars), DIGIT, dtype=np.int64)
    case = np.full(len(chars), UNKNOWN, dtype=np.uint8)
    for i, c in enumerate(chars):
        if c.isdigit():
            continue
        letter[i] = ord(c[0].upper()) - ord("A")
        if len(set(c)) == 1 and c.swapcase() in present:  # one case here, the other in a class of its own
            case[i] = UPPER if c.isupper() else LOWER
    letters = letter[letter != DIGIT]
    if len(letters) and len(np.unique(letters * 3 + case[letter != DIGIT])) != len(letters):
        raise DataError(path, "a letter of the same case has two labels")
    return ClassTable(first, letter, case)
