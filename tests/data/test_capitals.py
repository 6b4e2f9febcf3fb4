"""Block-capital labels: lower-case-l bars (lower or unknown case, any dataset) become I; capitals keep their labels."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hcr.data.capitals import BAR_ELONGATION, bar_l_indices, bar_mask, elongation, with_capital_labels
from hcr.data.case import LOWER, UNKNOWN, UPPER
from hcr.data.sources import load_datasets
from hcr.labels import index_of


def _stroke(points: list[tuple[int, int]], width: int = 3) -> np.ndarray:
    image = Image.new("L", (28, 28))
    ImageDraw.Draw(image).line(points, fill=255, width=width)
    return np.asarray(image)


@pytest.fixture(scope="module")
def real_data(shared_data):
    return load_datasets((), shared_data)


@pytest.mark.parametrize("points", [[(14, 3), (14, 24)], [(10, 3), (18, 24)], [(18, 4), (9, 23)]])
def test_a_bar_at_any_slant_is_a_bar(points):
    assert elongation(_stroke(points)) < BAR_ELONGATION


def test_a_capital_l_with_its_foot_is_not_a_bar():
    assert elongation(_stroke([(9, 3), (9, 23), (20, 23)])) > 0.3


def test_only_l_bars_of_unknown_case_are_relabelled_in_the_default_data(real_data):
    relabelled, n = with_capital_labels(real_data)
    changed = relabelled.y != real_data.y
    emnist = real_data.source == real_data.sources.index("emnist-letters")
    assert n == changed.sum() > 100  # the dev data holds hundreds of lower-case l bars
    assert np.all(real_data.y[changed] == index_of("L"))
    assert np.all(relabelled.y[changed] == index_of("I"))
    assert np.all(emnist[changed])  # Kaggle A–Z is all capitals: never touched
    assert np.all(bar_mask(real_data.x[changed]))


def test_most_real_capital_ls_keep_their_foot(real_data):
    az_l = (real_data.source == real_data.sources.index("az")) & (real_data.y == index_of("L"))
    assert bar_mask(real_data.x[az_l]).mean() < 0.05


@pytest.fixture(scope="module")
def every_source(shared_data):
    return load_datasets(("az", "emnist-letters", "emnist-byclass", "emnist-bymerge", "nist-sd19"), shared_data)


def test_l_bars_of_lower_or_unknown_case_become_i_in_every_emnist_source(every_source):
    """ByClass's l (lower case) and ByMerge's merged L hold far more bars than EMNIST Letters: all become I."""
    relabelled, n = with_capital_labels(every_source)
    changed = relabelled.y != every_source.y
    assert n == changed.sum() == len(bar_l_indices(every_source))
    per_source = {
        name: int((changed & (every_source.source == i)).sum()) for i, name in enumerate(every_source.sources)
    }
    assert per_source["emnist-byclass"] > 500
    assert per_source["emnist-bymerge"] > 500
    assert per_source["emnist-letters"] > 100
    assert per_source["az"] == per_source["nist-sd19"] == 0  # capitals only
    assert set(every_source.case[changed]) <= {LOWER, UNKNOWN}
    assert np.all(relabelled.y[changed] == index_of("I"))
    assert np.all(every_source.y[changed] == index_of("L"))


def test_a_capital_l_is_never_relabelled_even_when_written_as_a_bar(every_source):
    capital_l = (every_source.case == UPPER) & (every_source.y == index_of("L"))
    relabelled, _ = with_capital_labels(every_source)
    assert bar_mask(every_source.x[capital_l]).any()  # a few capital Ls are written without a visible foot
    assert np.all(relabelled.y[capital_l] == index_of("L"))
