"""The model-input conversions shared by training and prediction, on real letters."""

import numpy as np
from PIL import Image

from hcr.data import load_datasets
from hcr.inference.preprocess import to_model_input, to_rgb_input
from tests.realdata import AZ_CSV


def test_cnn_input_is_the_letter_scaled_to_0_1():
    x = load_datasets([f"az:{AZ_CSV}"]).x[:50]
    tensor = to_model_input(x)
    assert tensor.shape == (50, 28, 28, 1)
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[..., 0] * 255.0, x, atol=1e-3)


def test_rgb_input_is_the_same_letter_resized_on_three_channels():
    x = load_datasets([f"az:{AZ_CSV}"]).x[:20]
    tensor = to_rgb_input(x, 96)
    assert tensor.shape == (20, 96, 96, 3)
    assert tensor.dtype == np.float32
    assert tensor.min() >= 0.0
    assert tensor.max() <= 1.0
    np.testing.assert_array_equal(tensor[..., 0], tensor[..., 2])
    for letter, big in zip(x, tensor, strict=True):  # shrinking it back gives the original letter
        small = Image.fromarray((big[..., 0] * 255).astype(np.uint8)).resize((28, 28), Image.Resampling.BOX)
        assert np.corrcoef(np.asarray(small, dtype=float).ravel(), letter.ravel())[0, 1] > 0.95
