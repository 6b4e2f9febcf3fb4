"""Letters printed in the training fonts: what they are, and that no font is both trained on and scored."""

import numpy as np
import pytest

from hcr.data import printed
from hcr.errors import DataError
from hcr.labels import CLASSES


def test_training_and_held_out_fonts_are_whole_families_apart():
    training, held_out = printed.training_fonts(), printed.held_out_fonts()
    assert {printed.family(font) for font in training} == set(printed.TRAINING_FAMILIES)  # `make fonts` installs all
    assert held_out, "the benchmark needs fonts no model trains on"
    assert not {printed.family(font) for font in training} & {printed.family(font) for font in held_out}
    # the faces printed forms use most are the ones held out: a model is scored on faces it never saw
    assert {"Liberation Serif", "Liberation Sans", "FreeSerif"} <= {printed.family(font) for font in held_out}


def test_printed_letters_are_each_letter_as_predict_reads_it():
    x, y = printed.printed_letters(1, seed=0, case="upper")
    n_fonts = len(printed.training_fonts())
    assert x.shape == (len(y), 28, 28)
    assert x.dtype == np.uint8
    assert len(y) == 26 * n_fonts  # every capital of every training font
    assert np.bincount(y, minlength=26).tolist() == [n_fonts] * 26
    boxes = [_ink_box(letter) for letter in x]
    assert all(max(h, w) == 22 for h, w in boxes)  # the preprocessing's convention: the long side 22 px
    i_widths = [w for (h, w), label in zip(boxes, y, strict=True) if CLASSES[label] == "I"]
    m_widths = [w for (h, w), label in zip(boxes, y, strict=True) if CLASSES[label] == "M"]
    assert np.median(i_widths) < 0.6 * np.median(m_widths)  # the glyphs asked for, not a missing glyph's box

    both, labels = printed.printed_letters(1, seed=0, case="fold")
    assert len(labels) == 2 * len(y) - n_fonts  # small letters too, labelled as their letter, all but l (a bar)
    assert np.bincount(labels, minlength=26)[CLASSES.index("L")] == n_fonts
    again, _ = printed.printed_letters(1, seed=0, case="fold")
    assert np.array_equal(both, again)


def test_printing_without_the_fonts_says_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setattr(printed, "FONT_DIRS", (tmp_path,))
    with pytest.raises(DataError, match="make fonts"):
        printed.printed_letters(1, seed=0, case="upper")


def _ink_box(letter: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(letter.any(axis=1)), np.flatnonzero(letter.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
