"""What `fit` feeds the model: batches cut from the uint8 pool and made float32 one batch at a time.

A million-image pool is 0.8 GB as uint8 and 3.1 GB as float32 [N, 28, 28, 1]; a float32 copy of it (and of its
train part) used to be made before training. Here the pool stays uint8:
a tf.data pipeline shuffles indices (8 bytes an image, not 784), gathers each batch from the pool and converts it
exactly as `hcr.inference.preprocess.to_model_input` does (cast, ÷ 255, a channel axis). Measured against
`model.fit` on in-memory float32 arrays in bench/train_pipeline.py.

TensorFlow copies a numpy array it is given (measured: each conversion of the pool added its size to RSS), so the
pool becomes a tensor once (`ImagePool`) and every pipeline (training, validation, scoring) gathers from that copy.
"""

import math
from typing import TYPE_CHECKING

import numpy as np

from hcr.configs import TrainConfig
from hcr.models.augment import build_augmenter

if TYPE_CHECKING:
    import tensorflow as tf


def steps_per_epoch(n_images: int, config: TrainConfig) -> int:
    """Batches in one epoch: the whole train part, or `max_steps_per_epoch` when that is fewer (a huge pool)."""
    steps = math.ceil(n_images / config.batch_size)
    return min(steps, config.max_steps_per_epoch) if config.max_steps_per_epoch else steps


class ImagePool:
    """The uint8 images [N, 28, 28] and int64 labels [N] as tensors, made once; batches of any part are cut from it."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        import tensorflow as tf

        self.images = tf.convert_to_tensor(x, dtype=tf.uint8)
        self.labels = tf.convert_to_tensor(y, dtype=tf.int64)

    def training_batches(self, indices: np.ndarray, config: TrainConfig) -> "tf.data.Dataset":
        """Shuffled, endless (float32 [B, 28, 28, 1], int64 [B]) batches of the images at `indices`; augmented if
        `config.augment`. Endless because an epoch is `steps_per_epoch` batches: with a cap, the next epoch goes on
        through the same shuffled pass instead of showing its first images again; the pass is reshuffled when done."""
        import tensorflow as tf

        batches = (
            tf.data.Dataset.from_tensor_slices(np.asarray(indices, dtype=np.int64))
            .shuffle(len(indices), seed=config.seed, reshuffle_each_iteration=True)
            .batch(config.batch_size)
            .repeat()
            .map(self._gathered, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        )
        if config.augment:
            augmenter = build_augmenter(
                config.rotation_degrees, config.shift, config.zoom, config.seed, config.pen_width
            )
            batches = batches.map(lambda batch, labels: (augmenter(batch, training=True), labels))  # sequential: seeded
        return batches.prefetch(tf.data.AUTOTUNE)

    def scoring_batches(self, indices: np.ndarray, batch_size: int = 512) -> "tf.data.Dataset":
        """(float32 [B, 28, 28, 1], int64 [B]) batches of the images at `indices`, in order: validation and test are
        scored without a float32 copy of them either."""
        import tensorflow as tf

        return (
            tf.data.Dataset.from_tensor_slices(np.asarray(indices, dtype=np.int64))
            .batch(batch_size)
            .map(self._gathered, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    def _gathered(self, picked: "tf.Tensor") -> tuple["tf.Tensor", "tf.Tensor"]:
        """One batch as the model takes it: to_model_input's conversion, in TensorFlow (the same IEEE division, so
        the same floats)."""
        import tensorflow as tf

        batch = tf.cast(tf.gather(self.images, picked), tf.float32) / 255.0  # [B, 28, 28] float32 in 0..1
        return batch[..., tf.newaxis], tf.gather(self.labels, picked)  # [B, 28, 28, 1]
