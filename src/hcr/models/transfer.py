"""The interface of a transfer model (ModelEntry.transfer set): a pretrained `backbone` and a trainable `head`, and
the backbone's features computed once.

Training uses these instead of reaching into a model's layers, so how a transfer model is put together
(hcr.models.mobilenet: two nested Keras models named "backbone" and "head") stays the model module's business.
Running a frozen MobileNetV2 over every image at every epoch would cost minutes per epoch on 2 cores; its output
never changes, so a head can train on cached features in seconds instead.
"""

from dataclasses import dataclass

import keras
import numpy as np

from hcr.console import console
from hcr.models.mobilenet import compose, split_backbone

FEATURE_BATCH = 256
UPPER_NAME = "upper"


def backbone(model: keras.Model) -> keras.Model:
    """The pretrained part: letters [N, 28, 28, 1] → features [N, n_features]."""
    return model.get_layer("backbone")


def head(model: keras.Model) -> keras.Model:
    """The part that classifies features: [N, n_features] → probabilities [N, 26]."""
    return model.get_layer("head")


def with_head(model: keras.Model, new_head: keras.Model) -> keras.Model:
    """`model`'s backbone under `new_head` (a head trained on its own, e.g. restored from a checkpoint)."""
    return compose(backbone(model), new_head, model.name)


def extract_features(model: keras.Model, x: np.ndarray, what: str) -> np.ndarray:
    """float32 [N, n_features]: the frozen backbone's output for every image `x` [N, 28, 28, 1], in batches."""
    part = backbone(model)
    with console.status(f"Computing {part.output_shape[-1]} backbone features for {len(x):,} {what} images…"):
        return part.predict(x, batch_size=FEATURE_BATCH, verbose=0)


@dataclass(frozen=True)
class Cut:
    """A fine-tuned model cut at its first trainable layer. The parts share the model's layers, so training `upper`
    trains the model itself: after training, the model is lower and upper recomposed, unchanged in structure."""

    lower: keras.Model  # frozen: letters [N, 28, 28, 1] → activations at the cut [N, h, w, c]
    middle: keras.Model  # the trainable blocks: activations → features [N, n_features]
    upper: keras.Model  # middle then head: activations → probabilities

    @property
    def bytes_per_image(self) -> int:
        """float32 bytes of one image's activations at the cut (at 96 px, 10 blocks unfrozen: 6×6×24 → 3,456)."""
        return 4 * int(np.prod(self.lower.output_shape[1:]))


def cut(model: keras.Model) -> Cut | None:
    """`model`'s backbone cut before its first trainable layer, and the head above it; None when no layer of the
    backbone trains (0 blocks unfrozen: only the head trains, on features)."""
    if not backbone(model).trainable_weights:
        return None
    lower, middle = split_backbone(backbone(model))
    inputs = keras.Input(middle.input_shape[1:])
    return Cut(lower, middle, keras.Model(inputs, head(model)(middle(inputs)), name=UPPER_NAME))


def is_upper(model: keras.Model) -> bool:
    """Whether `model` (a checkpoint) is the upper part of a cut, not a whole model."""
    return model.name == UPPER_NAME
