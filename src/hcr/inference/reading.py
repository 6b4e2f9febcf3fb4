"""Read lines of separate handwritten capitals (a name, a word, an address on a form) into a string.

    hcr read line.png

Each letter the segmenter cuts goes through the same Predictor, and so the same preprocessing, as a single-letter
image: a line is read exactly as well as its letters are.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hcr.inference.pieces import Box
from hcr.inference.predictor import Prediction, Predictor, load_letter
from hcr.inference.preprocess import BlankImageError, ImageError, open_image
from hcr.inference.segment import segment_line

UNREAD = "?"  # stands in the text for a character that is no letter (a digit, a mark): never guessed as one


@dataclass(frozen=True)
class ReadCharacter(Prediction):
    """One character of a line: its Prediction (as the same image alone would get), and where it is."""

    box: Box  # (left, top, right, bottom) of its ink in the image
    space_before: bool  # a word gap separates it from the character on its left
    line: int  # which line of the image it is on, 0 the top one

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "box": list(self.box), "space_before": self.space_before, "line": self.line}


@dataclass(frozen=True)
class LineReading:
    text: str  # the letters, UNREAD for a character that is not one, a space at each word gap, a newline between lines
    characters: list[ReadCharacter]
    failed: str | None = None  # "blank" (no writing) or "error" (not a readable image): no text, and `message` says why
    message: str | None = None

    @classmethod
    def of_error(cls, error: ImageError) -> "LineReading":
        """The reading of an image that holds no writing (status "blank") or cannot be read ("error")."""
        return cls("", [], "blank" if isinstance(error, BlankImageError) else "error", str(error))

    @property
    def status(self) -> str:
        """The line's one-word verdict: "low-confidence" unless every character was read as a letter above the
        model's threshold (an unsure letter, or a ? for no letter, makes the text worth a look); "blank" or "error"
        for an image with nothing to read."""
        if self.failed:
            return self.failed
        return "ok" if all(c.status == "ok" for c in self.characters) else "low-confidence"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a line, the one `hcr read --json` and the HTTP API give."""
        characters = [c.to_dict() for c in self.characters]
        return {"text": self.text, "status": self.status, "message": self.message, "characters": characters}


def read_line(image: Image.Image, predictor: Predictor, top_k: int = 3) -> LineReading:
    """The string written on an image of one or more lines; raises BlankImageError when there is no ink (read_image
    makes that a reading)."""
    glyphs = segment_line(image, score=lambda crops: _letter_scores(crops, predictor))
    characters = []
    for glyph, prediction in zip(
        glyphs, predictor.predict_loaded([load_letter(Image.fromarray(g.crop)) for g in glyphs], top_k), strict=True
    ):
        assert prediction.status not in ("blank", "error"), prediction.message  # a crop holds ink at full strength
        as_predicted = {field.name: getattr(prediction, field.name) for field in fields(prediction)}
        characters.append(
            ReadCharacter(**as_predicted, box=glyph.box, space_before=glyph.space_before, line=glyph.line)
        )
    return LineReading(compose_text([c.to_dict() for c in characters]), characters)


def _letter_scores(crops: list[np.ndarray], predictor: Predictor) -> np.ndarray:
    """How surely each crop reads as one letter: its top letter's probability, a tenth of it where the model
    refuses the crop as not-a-letter (two letters in one crop, usually)."""
    predictions = predictor.predict_loaded([load_letter(Image.fromarray(crop)) for crop in crops], top_k=1)
    return np.array([p.confidence * (1.0 if p.letter is not None else 0.1) for p in predictions])


def compose_text(characters: list[dict[str, Any]], shown: Callable[[dict[str, Any]], str] | None = None) -> str:
    """The text of a reading's characters (their to_dict form): each one `shown` (default: its letter, or UNREAD),
    a space at each word gap, a newline where a line ends. One definition for the API's text and the CLI's table."""
    parts = []
    for previous, c in zip([None, *characters], characters, strict=False):
        if previous is not None and c["line"] != previous["line"]:
            parts.append("\n")
        elif c["space_before"]:
            parts.append(" ")
        parts.append(shown(c) if shown else c["letter"] or UNREAD)
    return "".join(parts)


def read_files(paths: Iterable[Path], predictor: Predictor, top_k: int = 3) -> Iterator[tuple[Path, LineReading]]:
    """(path, reading) for each image file, in order; an unreadable or blank file is a reading that says so (status
    "error" or "blank"), and the rest go on."""
    for path in paths:
        yield Path(path), read_image(path, predictor, top_k)


def read_image(source: Image.Image | Path, predictor: Predictor, top_k: int = 3) -> LineReading:
    """The reading of one image or image file; one with nothing to read is a reading that says so, never an error."""
    try:
        return read_line(source if isinstance(source, Image.Image) else open_image(source), predictor, top_k)
    except ImageError as e:
        return LineReading.of_error(e)
