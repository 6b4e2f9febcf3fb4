"""Training letters drawn as files and read back (hcr.data.rendered), and not-a-letter inputs (hcr.data.out_of_scope),
on real letters and digits."""

import numpy as np
import pytest

from hcr.data import load_datasets
from hcr.data import rendered as rendered_module
from hcr.data.emnist import BYCLASS, find_emnist_files, load_emnist_digits
from hcr.data.out_of_scope import EXCLUDED_DIGITS, KINDS, digit_pools, out_of_scope_examples
from hcr.data.rendered import read_back_all, rendered_copies


@pytest.fixture(scope="module")
def letters(shared_data) -> np.ndarray:
    """24 real Kaggle A–Z capitals, as stored (uint8 [24, 28, 28])."""
    return load_datasets(["az"], shared_data).x[::250][:24]


def test_rendered_copies_are_letter_arrays_that_a_seed_fixes(letters):
    x, origin = rendered_copies(letters, 2, seed=3, processes=1)
    assert x.dtype == np.uint8
    assert x.shape[1:] == (28, 28)
    assert len(x) == len(origin) > 1.5 * len(letters)  # a few read as blank and are left out, not many
    assert origin.dtype == np.int64
    assert origin.min() >= 0
    assert origin.max() < len(letters)
    assert x.reshape(len(x), -1).any(axis=1).all()  # no blank kept
    again, origin_again = rendered_copies(letters, 2, seed=3, processes=1)
    np.testing.assert_array_equal(again, x)
    np.testing.assert_array_equal(origin_again, origin)
    other, _ = rendered_copies(letters, 2, seed=4, processes=1)
    assert other.shape != x.shape or not np.array_equal(other, x)


def test_the_files_do_not_depend_on_how_the_work_is_split(letters, monkeypatch):
    """Each image draws from its own generator, so chunks and worker processes change nothing."""
    one = read_back_all(letters, seed=0, stream=0, processes=1)
    monkeypatch.setattr(rendered_module, "CHUNK", 5)
    np.testing.assert_array_equal(read_back_all(letters, seed=0, stream=0, processes=2), one)


def test_the_cache_returns_what_was_rendered(letters, parse_cache_dir):
    first = rendered_copies(letters, 1, seed=0, processes=1)
    assert list(parse_cache_dir.glob("rendered-*.npz"))
    cached = rendered_copies(letters, 1, seed=0, processes=1)
    np.testing.assert_array_equal(cached[0], first[0])


def test_digits_come_from_byclass_without_0_and_1(shared_data):
    x, digit = load_emnist_digits(find_emnist_files(shared_data / "emnist-byclass", BYCLASS))
    assert x.shape == (57_918, 28, 28)
    assert set(np.unique(digit)) == set(range(10))
    train, held_out = digit_pools(shared_data, seed=0)
    assert len(train) + len(held_out) == int((~np.isin(digit, EXCLUDED_DIGITS)).sum())
    seen = {image.tobytes() for image in train[:2000]}
    assert not any(image.tobytes() in seen for image in held_out)


def test_out_of_scope_examples_hold_every_kind(shared_data, letters):
    digits, _ = digit_pools(shared_data, seed=0)
    x, kind = out_of_scope_examples(60, letters, digits[:100], seed=0, stream=10, processes=1)
    assert x.dtype == np.uint8
    assert x.shape == (len(kind), 28, 28)
    assert 50 <= len(x) <= 60
    assert set(np.unique(kind)) == set(range(len(KINDS)))
    again, _ = out_of_scope_examples(60, letters, digits[:100], seed=0, stream=10, processes=1)
    np.testing.assert_array_equal(again, x)


def test_without_digits_the_other_kinds_fill_in(letters):
    _, kind = out_of_scope_examples(20, letters, np.zeros((0, 28, 28), np.uint8), seed=0, stream=10, processes=1)
    assert len(kind)
    assert 0 not in kind
