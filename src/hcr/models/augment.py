"""Training-time augmentation: random rotation, shift and zoom, as in the seed, with strengths as parameters, and
random pen width.

Applied in the input pipeline (never inside the model), so saved and exported models hold no random layers.
"""

import keras
from keras import layers, ops


class RandomPenWidth(layers.Layer):
    """Makes the strokes of a random share of the letters about one pixel thicker or thinner (half of each).

    People's pens vary more than the datasets' do, and preprocessing evens out only pens far outside the usual
    range: a model that has only seen the datasets' strokes loses 1–2 points on letters written with a thick felt
    pen or a fine one. The change is a grey dilation or erosion at twice the letter's scale, so ±0.5 px a side."""

    def __init__(self, probability: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.probability = probability
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training: bool = True):
        if not training or not self.probability:
            return images
        _, height, width, _ = images.shape  # [N, 28, 28, 1]
        doubled = ops.image.resize(images, (2 * height, 2 * width), interpolation="bilinear")
        thick = ops.nn.average_pool(ops.nn.max_pool(doubled, 3, 1, "same"), 2, 2, "valid")
        thin = ops.nn.average_pool(-ops.nn.max_pool(-doubled, 3, 1, "same"), 2, 2, "valid")
        draw = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator)
        return ops.where(draw < self.probability / 2, thick, ops.where(draw < self.probability, thin, images))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "probability": self.probability, "seed": self.seed}


def build_augmenter(
    rotation_degrees: float = 10.0, shift: float = 0.1, zoom: float = 0.1, seed: int = 0, pen: float = 0.0
):
    """A Keras pipeline that maps a batch [N, 28, 28, 1] to randomly transformed copies; labels don't change.
    `pen` is the share of letters whose pen width changes (RandomPenWidth)."""
    pen_width = [RandomPenWidth(pen, seed=seed + 3)] if pen else []
    return keras.Sequential(
        [
            *pen_width,
            layers.RandomRotation(rotation_degrees / 360.0, fill_mode="constant", seed=seed),
            layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed + 1),
            layers.RandomZoom(zoom, zoom, fill_mode="constant", seed=seed + 2),
        ],
        name="augment",
    )
