"""The 26 classes and the one mapping between class index and letter, shared by every stage.

A model trained with out-of-scope examples (digits, scribbles, several glyphs) has one more output, NOT_A_LETTER,
after Z: its model.json lists `classes` as A..Z then "not-a-letter" (class index 26)."""

import string

CLASSES: tuple[str, ...] = tuple(string.ascii_uppercase)
NUM_CLASSES = len(CLASSES)
# the class a model trained with out-of-scope examples (--out-of-scope) answers for a digit, a scribble, two letters
# or an empty box: index NUM_CLASSES, after the letters, in model.json's `classes`
NOT_A_LETTER = "not-a-letter"


def letter_of(index: int) -> str:
    """Letter for a class index 0..25 (0 is A)."""
    return CLASSES[index]


def index_of(letter: str) -> int:
    """Class index for a letter, either case; raises ValueError for anything else."""
    upper = letter.upper()
    if len(upper) != 1 or upper not in CLASSES:
        raise ValueError(f"{letter!r} is not a letter A–Z")
    return CLASSES.index(upper)
