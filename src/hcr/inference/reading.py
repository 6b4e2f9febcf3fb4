"""Read a line of separate handwritten capitals (a name or a word on a form) into a string.

    hcr read line.png

Each letter the segmenter cuts goes through the same Predictor, and so the same preprocessing, as a single-letter
image: a line is read exactly as well as its letters are.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from hcr.inference.preprocess import ImageError, open_image
from hcr.inference.segment import Box, segment_line

if TYPE_CHECKING:
    from hcr.inference.predictor import Predictor


@dataclass(frozen=True)
class ReadCharacter:
    letter: str
    confidence: float  # probability of `letter`
    status: str  # "ok" | "low-confidence" (below the model's calibrated threshold)
    top_k: list[tuple[str, float]]
    box: Box  # (left, top, right, bottom) of its ink in the image
    space_before: bool  # a word gap separates it from the character on its left


@dataclass(frozen=True)
class LineReading:
    text: str  # the letters, with a space at each word gap
    characters: list[ReadCharacter]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "characters": [
                {
                    "letter": c.letter,
                    "confidence": round(c.confidence, 6),
                    "status": c.status,
                    "top_k": [{"letter": letter, "probability": round(p, 6)} for letter, p in c.top_k],
                    "box": list(c.box),
                    "space_before": c.space_before,
                }
                for c in self.characters
            ],
        }


def read_line(image: Image.Image, predictor: "Predictor", top_k: int = 3) -> LineReading:
    """The string written on a one-line image; raises BlankImageError when there is no ink."""
    characters = []
    for glyph in segment_line(image):
        prediction = predictor.predict_image(Image.fromarray(glyph.crop), top_k)
        assert prediction.letter is not None, prediction.message  # a crop holds ink at full strength: never blank
        characters.append(
            ReadCharacter(
                prediction.letter,
                prediction.confidence,
                prediction.status,
                prediction.top_k,
                glyph.box,
                glyph.space_before,
            )
        )
    text = "".join(" " * c.space_before + c.letter for c in characters)
    return LineReading(text, characters)


def read_files(
    paths: Iterable[Path], predictor: "Predictor", top_k: int = 3
) -> Iterator[tuple[Path, LineReading | ImageError]]:
    """(path, reading) for each image file, in order; an unreadable or blank file gives its error and the rest go on."""
    for path in paths:
        try:
            yield Path(path), read_line(open_image(path), predictor, top_k)
        except ImageError as e:
            yield Path(path), e
