"""A folder of images, one sub-folder per letter (`root/A/*.png`, `root/b/*.jpg`, …), any size or polarity.

Each image goes through the same preprocessing as prediction (hcr.inference.preprocess), so a model trained on
your folder sees images exactly as it will at prediction time. Unreadable or blank images are skipped and
counted; the load goes on.
"""

import logging
from pathlib import Path

import numpy as np

from hcr.console import track
from hcr.data.dataset import LetterData
from hcr.errors import DataError
from hcr.files import is_file_entry
from hcr.inference.preprocess import ImageError, open_image, to_letter_array
from hcr.labels import index_of

log = logging.getLogger(__name__)


def list_image_files(root: Path) -> list[tuple[Path, int]]:
    """(file, label) for every non-hidden file in the letter sub-folders, sorted for a stable order."""
    if not root.is_dir():
        raise DataError(root, "folder not found")
    files: list[tuple[Path, int]] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            label = index_of(sub.name)
        except ValueError:
            log.warning("%s: ignoring sub-folder '%s' (not a letter A–Z)", root, sub.name)
            continue
        files += [(f, label) for f in sorted(sub.rglob("*")) if is_file_entry(f) and not f.name.startswith(".")]
    if not files:
        raise DataError(root, "no images found: expected one sub-folder per letter (A/, B/, …) holding images")
    return files


def load_image_folder(root: Path, files: list[tuple[Path, int]] | None = None) -> LetterData:
    files = list_image_files(root) if files is None else files
    images, labels, skipped = [], [], []
    for path, label in track(files, f"Reading images in {root.name}"):
        try:
            images.append(to_letter_array(open_image(path)))
            labels.append(label)
        except ImageError as e:
            skipped.append(f"{path}: {e}" if str(path) not in str(e) else str(e))
    if skipped:
        log.warning(
            "%s: skipped %d of %d files that are not readable letter images; first: %s",
            root,
            len(skipped),
            len(files),
            skipped[0],
        )
    if not images:
        raise DataError(root, f"none of the {len(files)} files is a readable letter image")
    return LetterData.single_source(np.stack(images), np.array(labels), f"folder:{root}")
