"""Training-time augmentation: random rotation, shift and zoom, as in the seed, with strengths as parameters.

Applied in the input pipeline (never inside the model), so saved and exported models hold no random layers.
"""

import keras
from keras import layers


def build_augmenter(rotation_degrees: float = 10.0, shift: float = 0.1, zoom: float = 0.1, seed: int = 0):
    """A Keras pipeline that maps a batch [N, 28, 28, 1] to randomly transformed copies; labels don't change."""
    return keras.Sequential(
        [
            layers.RandomRotation(rotation_degrees / 360.0, fill_mode="constant", seed=seed),
            layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed + 1),
            layers.RandomZoom(zoom, zoom, fill_mode="constant", seed=seed + 2),
        ],
        name="augment",
    )
