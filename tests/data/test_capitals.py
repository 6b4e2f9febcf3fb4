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
    """The default pool: every dataset in ../shared/data."""
    return load_datasets((), shared_data)


@pytest.mark.parametrize("points", [[(14, 3), (14, 24)], [(10, 3), (18, 24)], [(18, 4), (9, 23)]])
def test_a_bar_at_any_slant_is_a_bar(points):
    assert elongation(_stroke(points)) < BAR_ELONGATION


def test_a_capital_l_with_its_foot_is_not_a_bar():
    assert elongation(_stroke([(9, 3), (9, 23), (20, 23)])) > 0.3


def test_most_real_capital_ls_keep_their_foot(real_data):
    az_l = (real_data.source == real_data.sources.index("az")) & (real_data.y == index_of("L"))
    assert bar_mask(real_data.x[az_l]).mean() < 0.05


def test_l_bars_of_lower_or_unknown_case_become_i_in_every_emnist_source(real_data):
    """ByClass's l (lower case) and ByMerge's merged L hold far more bars than EMNIST Letters: all become I."""
    relabelled, n = with_capital_labels(real_data)
    changed = relabelled.y != real_data.y
    assert n == changed.sum() == len(bar_l_indices(real_data))
    per_source = {name: int((changed & (real_data.source == i)).sum()) for i, name in enumerate(real_data.sources)}
    assert per_source["emnist-byclass"] > 500
    assert per_source["emnist-bymerge"] > 500
    assert per_source["emnist-letters"] > 100
    assert per_source["az"] == per_source["nist-sd19"] == 0  # capitals only
    assert set(real_data.case[changed]) <= {LOWER, UNKNOWN}
    assert np.all(relabelled.y[changed] == index_of("I"))
    assert np.all(real_data.y[changed] == index_of("L"))


def test_a_capital_l_is_never_relabelled_even_when_written_as_a_bar(real_data):
    capital_l = (real_data.case == UPPER) & (real_data.y == index_of("L"))
    relabelled, _ = with_capital_labels(real_data)
    assert bar_mask(real_data.x[capital_l]).any()  # a few capital Ls are written without a visible foot
    assert np.all(relabelled.y[capital_l] == index_of("L"))
