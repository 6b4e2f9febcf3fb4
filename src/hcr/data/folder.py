"""A folder of images, one sub-folder per letter (`root/A/*.png`, `root/b/*.jpg`, …), any size or polarity.

Each image goes through the same preprocessing as prediction (hcr.inference.preprocess), so a model trained on
your folder sees images exactly as it will at prediction time. Unreadable or blank images are skipped and
counted; the load goes on.
"""

import logging
import os
from pathlib import Path

import numpy as np

from hcr.console import track
from hcr.data.dataset import LetterData
from hcr.errors import DataError
from hcr.files import is_file_entry
from hcr.inference.preprocess import ImageError, open_image, to_letter_array
from hcr.labels import index_of, letter_of

log = logging.getLogger(__name__)


def list_image_files(root: Path) -> list[tuple[Path, int]]:
    """(file, label) for every non-hidden file in the letter sub-folders, sorted for a stable order. A folder that
    cannot be read is reported, like an unreadable file, and so is a letter whose folders hold no file at all."""
    files: list[tuple[Path, int]] = []
    errors: list[OSError] = []
    empty: dict[int, str] = {}
    for sub, label in _letter_folders(root):
        found, sub_errors = _files_under(sub)
        files += [(f, label) for f in found]
        errors += sub_errors
        if not found:
            empty[label] = "folder not readable" if sub_errors else "empty folder"
    if errors:
        _warn_unreadable_folders(root, errors)
    if not files:
        raise DataError(root, "no images found: expected one sub-folder per letter (A/, B/, …) holding images")
    with_files = {label for _, label in files}
    _warn_no_images(root, {label: why for label, why in empty.items() if label not in with_files})
    return files


def _letter_folders(root: Path) -> list[tuple[Path, int]]:
    """(sub-folder, label) for each non-hidden sub-folder named after a letter; others are ignored with a warning."""
    if not root.is_dir():
        raise DataError(root, "folder not found")
    try:
        subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as e:
        raise DataError(root, f"cannot read the folder ({e.strerror or e})") from None
    folders = []
    for sub in subs:
        try:
            folders.append((sub, index_of(sub.name)))
        except ValueError:
            log.warning("%s: ignoring sub-folder '%s' (not a letter A–Z)", root, sub.name)
    return folders


def _files_under(folder: Path) -> tuple[list[Path], list[OSError]]:
    """The non-hidden files below `folder` (hidden folders skipped), sorted, and the errors of the folders that
    could not be listed: pathlib's rglob drops those without a word, so os.walk reports them here."""
    found: list[Path] = []
    errors: list[OSError] = []
    for parent, folders, names in os.walk(folder, onerror=errors.append):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [path for name in names if not name.startswith(".") and is_file_entry(path := Path(parent, name))]
    return sorted(found), errors


def _warn_unreadable_folders(root: Path, errors: list[OSError]) -> None:
    """Report folders that could not be listed the way unreadable files are: counted, the first one named."""
    more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
    plural = "s" if len(errors) > 1 else ""
    first = errors[0]
    log.warning(
        "%s: skipped %d folder%s that cannot be read: %s (%s)%s",
        root,
        len(errors),
        plural,
        first.filename,
        first.strerror or first,
        more,
    )


def _warn_no_images(root: Path, reasons: dict[int, str]) -> None:
    """One warning per reason, naming the letters that have a folder but will have no image to learn from."""
    by_reason: dict[str, list[str]] = {}
    for label in sorted(reasons):
        by_reason.setdefault(reasons[label], []).append(letter_of(label))
    for reason, letters in by_reason.items():
        log.warning(
            "%s: 0 images for letter%s %s (%s)", root, "s" if len(letters) > 1 else "", ", ".join(letters), reason
        )


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
    lost = {label for _, label in files} - set(labels)
    _warn_no_images(root, dict.fromkeys(lost, "no file is a readable letter image"))
    return LetterData.single_source(np.stack(images), np.array(labels), f"folder:{root}")
