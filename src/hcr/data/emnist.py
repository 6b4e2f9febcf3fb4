"""EMNIST's splits (Letters, ByClass, ByMerge, Balanced) in the three forms users have: gzip IDX (official), raw IDX,
and the CSV variant (Kaggle's `crawford/emnist`: `emnist-<split>-{train,test}.csv`, label then 784 pixels).

All forms store images transposed, and labels as indices into the split's mapping file
(`emnist-<split>-mapping.txt`, see emnist_mapping.py). Loaders return upright images, labels 0..25 and each image's
case; digit classes (ByClass, ByMerge, Balanced) are skipped and counted, and the official train/test split is kept.
Official archive: https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip (`hcr data download emnist-letters`).
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hcr.data.dataset import IMAGE_SIDE, LetterData
from hcr.data.emnist_mapping import DIGIT, ClassTable, letters_table, read_mapping
from hcr.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from hcr.data.locate import find_file
from hcr.data.pixel_csv import check_label_range, read_pixel_csv
from hcr.errors import DataError

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
ARCHIVE_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"  # every split, official


@dataclass(frozen=True)
class EmnistSplit:
    """One of EMNIST's splits, named as its files are (`emnist-byclass-…`); `n_classes` is how many lines its mapping
    file has, checked so that another split's mapping file is not used by mistake."""

    name: str
    n_classes: int
    mapping_required: bool = True  # Letters' mapping is fixed, and the official download does not extract it


LETTERS = EmnistSplit("emnist-letters", 26, mapping_required=False)
BYCLASS = EmnistSplit("emnist-byclass", 62)
BYMERGE = EmnistSplit("emnist-bymerge", 47)
BALANCED = EmnistSplit("emnist-balanced", 47)
EMNIST_SPLITS = {s.name: s for s in (LETTERS, BYCLASS, BYMERGE, BALANCED)}
NAME = LETTERS.name  # the EMNIST split `hcr data download` fetches and discovery finds


@dataclass(frozen=True)
class EmnistFiles:
    """The files of one EMNIST copy: per split, (images, labels) for IDX or (csv, None) for CSV; and the mapping."""

    split: EmnistSplit
    format: str  # "idx.gz", "idx" or "csv"
    files: dict[str, tuple[Path, Path | None]]
    mapping: Path | None

    def paths(self) -> list[Path]:
        found = [p for pair in self.files.values() for p in pair if p is not None]
        return found + ([self.mapping] if self.mapping else [])


def find_emnist_files(folder: Path, split: EmnistSplit = LETTERS) -> EmnistFiles | None:
    """Locate an EMNIST split in `folder` or up to two levels below (the official zip nests them in gzip/)."""
    stem = split.name
    for fmt, images_name, labels_name in (
        ("idx.gz", f"{stem}-{{part}}-images-idx3-ubyte.gz", f"{stem}-{{part}}-labels-idx1-ubyte.gz"),
        ("idx", f"{stem}-{{part}}-images-idx3-ubyte", f"{stem}-{{part}}-labels-idx1-ubyte"),
        ("csv", f"{stem}-{{part}}.csv", None),
    ):
        files: dict[str, tuple[Path, Path | None]] = {}
        for part in SPLITS:
            images = find_file(folder, images_name.format(part=part))
            if images is None:
                continue
            labels = None
            if labels_name is not None:
                labels = images.parent / labels_name.format(part=part)
                if not labels.exists():
                    raise DataError(labels, f"missing: {images.name} has no labels file beside it")
            files[part] = (images, labels)
        if files:
            beside = next(iter(files.values()))[0].parent / f"{stem}-mapping.txt"
            mapping = beside if beside.is_file() else find_file(folder, beside.name)
            return EmnistFiles(split, fmt, files, mapping)
    return None


def load_emnist(files: EmnistFiles) -> LetterData:
    """The split's letters, upright, labelled 0..25 with their case; digits skipped and counted."""
    table = _class_table(files)
    xs, ys, cases, tests = [], [], [], []
    n_digits = 0
    for part, (images_path, labels_path) in files.files.items():
        if labels_path is None:
            x, labels = _read_csv_part(images_path)
        else:
            x, labels = _read_idx_part(images_path, labels_path)
        check_label_range(labels_path or images_path, labels, table.first, table.last)
        letter = table.letter[labels - table.first]
        keep = letter != DIGIT
        n_digits += int((~keep).sum())
        xs.append(_upright(x[keep]))
        ys.append(letter[keep])
        cases.append(table.case[labels[keep] - table.first])
        tests.append(np.full(int(keep.sum()), part == "test"))
    skipped = {f"{files.split.name}: digits": n_digits} if n_digits else {}
    if n_digits:
        log.info("%s: skipped %d digit images (hcr reads letters)", files.split.name, n_digits)
    y = np.concatenate(ys)
    if len(y) == 0:
        raise DataError(files.paths()[0], "no letter images: every label is a digit class")
    return LetterData.single_source(
        np.concatenate(xs), y, files.split.name, np.concatenate(tests), np.concatenate(cases), skipped
    )


def load_emnist_digits(files: EmnistFiles) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [M, 28, 28] the digit images the letter loader skips, upright; int64 [M] each one's digit 0..9): real
    handwriting that is no letter, for a model that must say so. Every split holding digits numbers them 0..9 first
    (ByClass, Balanced, ByMerge's mapping `0 48` … `9 57`)."""
    table = _class_table(files)
    xs, digits = [], []
    for images_path, labels_path in files.files.values():
        x, labels = _read_csv_part(images_path) if labels_path is None else _read_idx_part(images_path, labels_path)
        check_label_range(labels_path or images_path, labels, table.first, table.last)
        digit = table.letter[labels - table.first] == DIGIT
        xs.append(_upright(x[digit]))
        digits.append(labels[digit] - table.first)
    return np.concatenate(xs), np.concatenate(digits).astype(np.int64)


def _class_table(files: EmnistFiles) -> ClassTable:
    split = files.split
    if files.mapping is None:
        if split.mapping_required:
            where = next(iter(files.files.values()))[0].parent
            raise DataError(where, f"missing: {split.name}-mapping.txt (it says which class each label is)")
        return letters_table()
    table = read_mapping(files.mapping)
    if len(table.letter) != split.n_classes:
        raise DataError(
            files.mapping,
            f"lists {len(table.letter)} classes but {split.name} has {split.n_classes}; is it another split's mapping?",
        )
    return table


def _read_idx_part(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, IMAGES_MAGIC, (IMAGE_SIDE, IMAGE_SIDE))
    labels = read_idx(labels_path, LABELS_MAGIC, ()).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(images_path, f"{len(images)} images but {labels_path.name} has {len(labels)} labels")
    return images, labels


def _read_csv_part(path: Path) -> tuple[np.ndarray, np.ndarray]:
    labels, pixels = read_pixel_csv(path)
    return pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE), labels


def _upright(images: np.ndarray) -> np.ndarray:
    """EMNIST stores each image transposed; swap the axes back."""
    return np.ascontiguousarray(images.transpose(0, 2, 1))  # [N, 28, 28]
