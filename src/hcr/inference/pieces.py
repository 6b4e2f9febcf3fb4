"""Pieces of ink on their way to becoming letters: connected components of an ink mask, by their labels, with the
box round them; joined, or cut at columns or along bent paths, as `hcr read` sorts out which ink is whose
(hcr.inference.segment, hcr.inference.form_fields)."""

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

Box = tuple[int, int, int, int]  # (left, top, right, bottom), right and bottom exclusive, as Pillow's crop takes


@dataclass
class Piece:
    """Connected components (by their label in the label image), on the way to becoming one letter."""

    labels: set[int]
    left: int
    top: int
    right: int
    bottom: int
    area: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def labelled(mask: np.ndarray) -> tuple[np.ndarray, list[Piece]]:
    """The label image of the mask's 8-connected components (diagonal strokes hold) and a piece for each."""
    labels, n_labels = ndimage.label(mask, structure=np.ones((3, 3)))
    areas = np.bincount(labels.ravel(), minlength=n_labels + 1)
    return labels, [
        Piece({i + 1}, s[1].start, s[0].start, s[1].stop, s[0].stop, int(areas[i + 1]))
        for i, s in enumerate(ndimage.find_objects(labels))
    ]


def gap(a: Piece, b: Piece) -> int:
    """Blank columns between two pieces; negative when their columns overlap (by that many)."""
    return max(a.left, b.left) - min(a.right, b.right)


def union(a: Piece, b: Piece) -> Piece:
    return Piece(
        a.labels | b.labels,
        min(a.left, b.left),
        min(a.top, b.top),
        max(a.right, b.right),
        max(a.bottom, b.bottom),
        a.area + b.area,
    )


def cut(piece: Piece, labels: np.ndarray, cuts: list[int] | list[np.ndarray]) -> list[Piece]:
    """The piece cut, left to right, each part given a new label in `labels`: before each of these columns (counted
    from its left), or along each of these paths (int [h]: the column each row is cut before, as a cut between
    letters that lean into each other bends)."""
    window = (slice(piece.top, piece.bottom), slice(piece.left, piece.right))
    blob = np.isin(labels[window], list(piece.labels))  # [h, w]
    columns = np.arange(piece.width)
    parts = []
    for start, stop in itertools.pairwise([0, *cuts, piece.width]):
        inside = (columns >= np.reshape(start, (-1, 1))) & (columns < np.reshape(stop, (-1, 1)))  # [h or 1, w]
        part = blob & inside
        if part.any():
            new_label = int(labels.max()) + 1
            labels[window][part] = new_label
            parts.append(bounded({new_label}, part, piece.top, piece.left))
    return parts


def bounded(piece_labels: set[int], mask: np.ndarray, top: int, left: int) -> Piece:
    """A piece for the pixels of `mask` (a window whose corner is at top, left), with its tight box."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    bottom, right = top + int(rows[-1]) + 1, left + int(cols[-1]) + 1
    return Piece(piece_labels, left + int(cols[0]), top + int(rows[0]), right, bottom, int(mask.sum()))
