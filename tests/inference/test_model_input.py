"""The model-input conversions shared by training and prediction, on real letters."""

import numpy as np

from hcr.data import load_datasets
from hcr.inference.preprocess import to_model_input
from tests.realdata import AZ_CSV


def test_cnn_input_is_the_letter_scaled_to_0_1():
    x = load_datasets([f"az:{AZ_CSV}"]).x[:50]
    tensor = to_model_input(x)
    assert tensor.shape == (50, 28, 28, 1)
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[..., 0] * 255.0, x, atol=1e-3)
