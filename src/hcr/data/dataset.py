"""`LetterData`: the one in-memory form every loader returns and every later stage consumes."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hcr.data.case import UNKNOWN
from hcr.labels import NUM_CLASSES

IMAGE_SIDE = 28
NO_WRITER = -1


@dataclass(frozen=True)
class LetterData:
    """Images with labels, tagged with the source each came from and the source's own train/test split.

    Conventions at rest: `x` uint8 [N, 28, 28], upright, ink bright on a dark background; `y` int64 [N] in
    0..25 (0 is A). `official_test[i]` is True where image i's source put it in its test split; sources without
    an official split are listed in `sources_without_split` and have it all False. `case` is uint8 [N] in
    hcr.data.case's UNKNOWN, UPPER, LOWER (all UNKNOWN when not given). `writer` is int64 [N]: the writer's id where
    the source knows it (NIST SD19 with its by_write folder), NO_WRITER (-1) elsewhere; writer-disjoint splits need it.

    `skipped` counts the images a loader left out ("emnist-byclass: digits" → 57,918), `duplicates` the exact
    copies removed when sources were combined ("emnist-letters = emnist-byclass" → 1,560): kept so that `inspect`,
    a run's config and the report can say what the data is.
    """

    x: np.ndarray  # uint8 [N, 28, 28]
    y: np.ndarray  # int64 [N]
    source: np.ndarray  # uint8 [N], index into `sources`
    sources: tuple[str, ...]
    official_test: np.ndarray  # bool [N]
    sources_without_split: tuple[str, ...] = ()
    case: np.ndarray | None = None  # uint8 [N]; None becomes all UNKNOWN
    writer: np.ndarray | None = None  # int64 [N]; None becomes all NO_WRITER
    skipped: Mapping[str, int] = field(default_factory=dict)
    duplicates: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.x.shape != (n, IMAGE_SIDE, IMAGE_SIDE) or self.x.dtype != np.uint8:
            raise ValueError(f"x must be uint8 [{n}, 28, 28], got {self.x.dtype} {self.x.shape}")
        if self.case is None:
            object.__setattr__(self, "case", np.full(n, UNKNOWN, dtype=np.uint8))
        if self.writer is None:
            object.__setattr__(self, "writer", np.full(n, NO_WRITER, dtype=np.int64))
        if any(a.shape != (n,) for a in (self.source, self.official_test, self.case, self.writer)):
            raise ValueError("source, official_test, case and writer must have one entry per image")

    @classmethod
    def single_source(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        name: str,
        official_test: np.ndarray | None = None,
        case: np.ndarray | None = None,
        skipped: Mapping[str, int] | None = None,
        writer: np.ndarray | None = None,
    ) -> "LetterData":
        n = len(y)
        return cls(
            x=x,
            y=np.asarray(y, dtype=np.int64),
            source=np.zeros(n, dtype=np.uint8),
            sources=(name,),
            official_test=np.zeros(n, dtype=bool) if official_test is None else official_test,
            sources_without_split=(name,) if official_test is None else (),
            case=None if case is None else np.asarray(case, dtype=np.uint8),
            writer=None if writer is None else np.asarray(writer, dtype=np.int64),
            skipped=dict(skipped or {}),
        )

    def __len__(self) -> int:
        return len(self.y)

    def take(self, indices: np.ndarray) -> "LetterData":
        """The images at `indices`, keeping the source bookkeeping."""
        return LetterData(
            x=self.x[indices],
            y=self.y[indices],
            source=self.source[indices],
            sources=self.sources,
            official_test=self.official_test[indices],
            sources_without_split=self.sources_without_split,
            case=self.case[indices],
            writer=self.writer[indices],
            skipped=self.skipped,
            duplicates=self.duplicates,
        )

    @property
    def has_writers(self) -> bool:
        return bool((self.writer != NO_WRITER).any())

    @property
    def duplicates_removed(self) -> int:
        return sum(self.duplicates.values())

    def class_counts(self) -> np.ndarray:
        """Images per class, int64 [26]."""
        return np.bincount(self.y, minlength=NUM_CLASSES)


def concat(parts: Sequence[LetterData]) -> LetterData:
    """Combine several sources into one dataset; source indices are renumbered."""
    if len(parts) == 1:
        return parts[0]
    sources: list[str] = []
    source_ids = []
    for part in parts:
        offset = len(sources)
        sources.extend(part.sources)
        source_ids.append(part.source + offset)
    if len(set(sources)) != len(sources):
        raise ValueError(f"the same source is listed twice: {sources}")
    return LetterData(
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        source=np.concatenate(source_ids).astype(np.uint8),
        sources=tuple(sources),
        official_test=np.concatenate([p.official_test for p in parts]),
        sources_without_split=tuple(s for p in parts for s in p.sources_without_split),
        case=np.concatenate([p.case for p in parts]),
        writer=np.concatenate([p.writer for p in parts]),
        skipped={k: v for p in parts for k, v in p.skipped.items()},
        duplicates={k: v for p in parts for k, v in p.duplicates.items()},
    )
