"""The second look at unsure answers (hcr.inference.second_look), on real letters."""

import numpy as np
import pytest
from PIL import Image

from hcr.inference.second_look import check_settings, copies, default_settings, looked_again
from tests.lines import real_letters


@pytest.fixture(scope="module")
def letters() -> np.ndarray:
    data = real_letters("az")
    return data.x[np.random.default_rng(0).choice(len(data), 40, replace=False)]  # uint8 [40, 28, 28]


@pytest.mark.parametrize("angle", [-8.0, 5.0, 12.0])
def test_copies_are_the_letter_tilted_as_pillow_tilts_it(letters, angle):
    made = copies(letters, [0.0, angle])
    assert made.shape == (2, len(letters), 28, 28)
    assert made.dtype == np.uint8
    np.testing.assert_array_equal(made[0], letters)  # no tilt: the letter itself
    tilted = np.stack([np.asarray(Image.fromarray(x).rotate(angle, Image.Resampling.BILINEAR)) for x in letters])
    assert np.abs(made[1].astype(int) - tilted).max() <= 1  # within a grey level of Pillow's bilinear rotate
    assert not np.array_equal(made[1], letters)


def test_only_unsure_answers_are_looked_at_again_and_averaged(letters):
    settings = {"below": 0.8, "tilts": [-4.0, 4.0, 8.0]}
    probabilities = np.zeros((len(letters), 27), np.float32)
    probabilities[:, 0] = np.linspace(0.5, 1.0, len(letters))  # some less sure than 0.8
    probabilities[:, 26] = 1.0 - probabilities[:, 0]
    calls = []

    def read(x: np.ndarray) -> np.ndarray:
        calls.append(x.copy())
        out = np.zeros((len(x), 27), np.float32)
        out[:, 1] = 1.0  # every copy reads as B for sure
        return out

    out = looked_again(probabilities, letters, read, 26, settings)
    unsure = probabilities[:, 0] < 0.8
    assert len(calls) == 1  # one call of the model for every copy ...
    np.testing.assert_array_equal(
        calls[0], copies(letters[unsure], settings["tilts"]).reshape(-1, 28, 28)
    )  # ... of each
    assert np.array_equal(out[~unsure], probabilities[~unsure])
    np.testing.assert_allclose(out[unsure, 0], probabilities[unsure, 0] / 4)
    np.testing.assert_allclose(out[unsure, 1], 3 / 4)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
    assert looked_again(probabilities, letters, read, 26, None) is probabilities  # a model exported without it


@pytest.mark.parametrize(
    "settings",
    [
        None,
        {"below": 0.8},
        {"below": 0.8, "tilts": [4.0], "scales": [1.1]},
        {"below": 1.5, "tilts": [4.0]},
        {"below": True, "tilts": [4.0]},
        {"below": 0.8, "tilts": [90.0]},
        {"below": 0.8, "tilts": "4"},
        {"below": 0.8, "tilts": [False]},
    ],
)
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError, match="second_look"):
        check_settings(settings)


def test_the_default_settings_are_valid():
    check_settings(default_settings())
