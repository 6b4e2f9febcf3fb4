"""EMNIST Letters in the three forms users have: gzip IDX (official), raw IDX, and the CSV variant.

All three store images transposed and labels as 1..26 (each class mixes upper and lower case: 1 = A/a).
Loaders return upright images and labels 0..25, and keep the official train/test split.
Official archive: https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip (`hcr data download emnist-letters`).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hcr.data.dataset import IMAGE_SIDE, LetterData
from hcr.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from hcr.data.locate import find_file
from hcr.data.pixel_csv import check_label_range, read_pixel_csv
from hcr.errors import DataError

NAME = "emnist-letters"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class EmnistFiles:
    """The files of one EMNIST Letters copy: per split, (images, labels) for IDX or (csv, None) for CSV."""

    format: str  # "idx.gz", "idx" or "csv"
    files: dict[str, tuple[Path, Path | None]]

    def paths(self) -> list[Path]:
        return [p for pair in self.files.values() for p in pair if p is not None]


def find_emnist_files(folder: Path) -> EmnistFiles | None:
    """Locate EMNIST Letters in `folder` or up to two levels below (the official zip nests them in gzip/)."""
    for fmt, images_name, labels_name in (
        ("idx.gz", "emnist-letters-{split}-images-idx3-ubyte.gz", "emnist-letters-{split}-labels-idx1-ubyte.gz"),
        ("idx", "emnist-letters-{split}-images-idx3-ubyte", "emnist-letters-{split}-labels-idx1-ubyte"),
        ("csv", "emnist-letters-{split}.csv", None),
    ):
        files: dict[str, tuple[Path, Path | None]] = {}
        for split in SPLITS:
            images = find_file(folder, images_name.format(split=split))
            if images is None:
                continue
            labels = None
            if labels_name is not None:
                labels = images.parent / labels_name.format(split=split)
                if not labels.exists():
                    raise DataError(labels, f"missing: {images.name} has no labels file beside it")
            files[split] = (images, labels)
        if files:
            return EmnistFiles(fmt, files)
    return None


def load_emnist(files: EmnistFiles) -> LetterData:
    xs, ys, tests = [], [], []
    for split, (images_path, labels_path) in files.files.items():
        if labels_path is None:
            x, y = _read_csv_split(images_path)
        else:
            x, y = _read_idx_split(images_path, labels_path)
        xs.append(x)
        ys.append(y)
        tests.append(np.full(len(y), split == "test"))
    return LetterData.single_source(np.concatenate(xs), np.concatenate(ys), NAME, np.concatenate(tests))


def _read_idx_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, IMAGES_MAGIC, (IMAGE_SIDE, IMAGE_SIDE))
    labels = read_idx(labels_path, LABELS_MAGIC, ()).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(images_path, f"{len(images)} images but {labels_path.name} has {len(labels)} labels")
    check_label_range(labels_path, labels, 1, 26)
    return _upright(images), labels - 1


def _read_csv_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    labels, pixels = read_pixel_csv(path)
    check_label_range(path, labels, 1, 26)
    return _upright(pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)), labels - 1


def _upright(images: np.ndarray) -> np.ndarray:
    """EMNIST stores each image transposed; swap the axes back."""
    return np.ascontiguousarray(images.transpose(0, 2, 1))  # [N, 28, 28]
