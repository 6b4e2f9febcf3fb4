"""Turn `--dataset` values and a data dir into one combined `LetterData`, through the parse cache.

A dataset is named `az`, `emnist-letters`, `emnist-byclass`, `emnist-bymerge`, `emnist-balanced`, `nist-sd19` or
`folder:PATH`; `NAME:PATH` points at a copy outside the data dir. With no names, every dataset found in the data dir
is used, in that order (dev protocol v2, docs/dev-protocol.md). Combined sources lose the exact copies they share
(dedup.py) before anything is split; the first dataset named keeps each copy.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hcr.data import az, emnist, sd19
from hcr.data.cache import cached_load
from hcr.data.dataset import LetterData, concat
from hcr.data.dedup import deduplicate
from hcr.data.folder import list_image_files, load_image_folder
from hcr.data.locate import find_file
from hcr.errors import DataError, HcrError
from hcr.inference.preprocess import PREPROCESS_VERSION
from hcr.paths import resolve_data_dir

FOLDER = "folder"
KINDS = (az.NAME, *emnist.EMNIST_SPLITS, sd19.NAME, FOLDER)


@dataclass(frozen=True)
class DatasetSpec:
    kind: str  # one of KINDS
    path: Path | None = None  # an explicit location; None means "look in the data dir"

    @classmethod
    def parse(cls, text: str) -> "DatasetSpec":
        kind, _, path = text.partition(":")
        if kind not in KINDS:
            raise HcrError(f"unknown dataset '{text}': use {', '.join(KINDS[:-1])} or folder:PATH")
        if kind == FOLDER and not path:
            raise HcrError("folder datasets need a path: folder:PATH")
        return cls(kind, Path(path).expanduser() if path else None)

    def __str__(self) -> str:
        return self.kind if self.path is None else f"{self.kind}:{self.path}"


def shareable_name(text: str) -> str:
    """A --dataset value as files that leave this machine record it (model.json, a model card): NAME:PATH by the
    file's or folder's name, which says what it was without saying where it lay."""
    spec = DatasetSpec.parse(text)
    return str(spec) if spec.path is None else f"{spec.kind}:{spec.path.name}"


def discover_datasets(data_dir: Path) -> list[DatasetSpec]:
    """Every dataset present in `data_dir`, in KINDS order (folders of images are never guessed: name them)."""
    if not data_dir.is_dir():
        raise DataError(data_dir, "data folder not found (set --data-dir or HCR_DATA_DIR)")
    found = []
    if find_file(data_dir, az.FILE_NAME):
        found.append(DatasetSpec(az.NAME))
    found += [
        DatasetSpec(name) for name, split in emnist.EMNIST_SPLITS.items() if emnist.find_emnist_files(data_dir, split)
    ]
    if sd19.find_by_class(data_dir):
        found.append(DatasetSpec(sd19.NAME))
    if not found:
        raise DataError(
            data_dir,
            f"no dataset found: run `hcr data download emnist-letters`, or put '{az.FILE_NAME}' "
            f"from {az.KAGGLE_URL} there",
        )
    return found


def load_dataset(spec: DatasetSpec, data_dir: Path) -> LetterData:
    location = spec.path or data_dir
    if spec.kind == az.NAME:
        path = find_file(location, az.FILE_NAME) if location.is_dir() else location  # a FIFO too: refused when read
        if path is None:
            raise DataError(location, f"'{az.FILE_NAME}' not found; download it from {az.KAGGLE_URL}")
        return cached_load(az.NAME, path, [path], lambda: az.load_az_csv(path))
    if spec.kind in emnist.EMNIST_SPLITS:
        return _load_emnist(emnist.EMNIST_SPLITS[spec.kind], location)
    if spec.kind == sd19.NAME:
        return _load_sd19(location)
    files_and_labels = list_image_files(location)
    paths = [p for p, _ in files_and_labels]
    return cached_load(
        FOLDER,
        location,
        paths,
        lambda: load_image_folder(location, files_and_labels),
        version=f"preprocess-{PREPROCESS_VERSION}",
    )


def _load_emnist(split: emnist.EmnistSplit, location: Path) -> LetterData:
    folder = location.parent if location.is_file() else location
    files = emnist.find_emnist_files(folder, split)
    if files is None:
        hint = "run `hcr data download emnist-letters`" if split == emnist.LETTERS else f"see {emnist.ARCHIVE_URL}"
        raise DataError(folder, f"no {split.name} files found ({split.name}-test-images-idx3-ubyte.gz …); {hint}")
    return cached_load(split.name, folder, files.paths(), lambda: emnist.load_emnist(files))


def _load_sd19(location: Path) -> LetterData:
    root = sd19.find_by_class(location)
    if root is None:
        raise DataError(location, "no NIST SD19 by_class folder found (by_class/41/train_41/*.png …)")
    files = sd19.list_sd19_files(root)
    version = f"sd19-convert-{sd19.CONVERT_VERSION}-{files.stamp}"  # the files' stamp, taken while listing them
    return cached_load(sd19.NAME, root, [root], lambda: sd19.load_sd19(files), version=version)


def load_datasets(datasets: Sequence[str] = (), data_dir: Path | str | None = None) -> LetterData:
    """All the named datasets combined; every dataset found in the data dir when none is named."""
    data_dir = resolve_data_dir(data_dir)
    specs = [DatasetSpec.parse(d) for d in datasets] if datasets else discover_datasets(data_dir)
    kinds = [spec.kind for spec in specs if spec.kind != FOLDER]  # a folder source is named after its path
    if len(set(specs)) != len(specs) or len(set(kinds)) != len(kinds):
        raise HcrError(f"a dataset is named twice: {', '.join(map(str, specs))}")
    return deduplicate(concat([load_dataset(spec, data_dir) for spec in specs]))
