"""Fine-tuning on cached cut-point activations: the frozen lower blocks of a transfer model run once per image, and
only the trainable blocks and the head (hcr.models.transfer.Cut.upper) run at every step.

Fine-tuning MobileNetV2's top 10 blocks at 96 px used to push every letter through all 16 blocks at every epoch,
although the lower 6 never change; their forward pass, at the high resolutions, is about half of a training step
(the other half is the trainable blocks' forward and backward pass: epochs are ~2× faster, docs/transfer.md). Their
output for one letter is small (6×6×24 float32 = 3.4 KB at 96 px), so it is computed once and kept in memory.

Augmentation cannot be applied to cached activations, so with `augment` the cache holds, per training image, the
original and `augmented_copies` augmented copies, and each pass over the training part reads the next version of
every image (pass p: version p mod K). The lower blocks then run K times per training image, once, instead of once
an epoch. A cache larger than a quarter of the memory available when training starts (CACHE_MEMORY_SHARE: many
unfrozen blocks, a large input side, a huge pool) is not built: the model then trains the slow way, and a log line
says why. A fixed 2 GiB cap refused the 2.4 GB that the whole pool needs fine-tuned deep (`--preset full`) on a
24 GiB machine, where it fits five times over.
"""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import keras
import numpy as np
import psutil

from hcr.configs import TrainConfig
from hcr.console import console
from hcr.models.augment import build_augmenter
from hcr.models.transfer import Cut
from hcr.training.inputs import ImagePool

if TYPE_CHECKING:
    import tensorflow as tf

logger = logging.getLogger(__name__)

CACHE_MEMORY_SHARE = 0.25  # of the memory available: the model, its gradients and the data need the rest


def available_memory() -> int:
    """Bytes the system can give a process now without swapping: free memory and the page cache it can reclaim
    (Linux's MemAvailable). Free pages alone undercount it on a machine that has just read its datasets."""
    return psutil.virtual_memory().available


def versions(config: TrainConfig) -> int:
    """How many versions of each training image the cache holds: the original, and augmented copies if augmenting."""
    return 1 + config.augmented_copies if config.augment else 1


def fits_in_memory(cut: Cut, n_train: int, n_val: int, config: TrainConfig) -> bool:
    """Whether the cache for `n_train` training and `n_val` validation images stays within CACHE_MEMORY_SHARE of the
    memory available."""
    needed = (versions(config) * n_train + n_val) * cut.bytes_per_image
    budget = CACHE_MEMORY_SHARE * available_memory()
    if needed > budget:
        logger.warning(
            "not caching activations at the cut: %.1f GB needed (%d bytes an image), over %.1f GB (a quarter of "
            "the memory available); each epoch runs the whole model (fewer unfrozen blocks or a smaller input side "
            "would fit)",
            needed / 1e9, cut.bytes_per_image, budget / 1e9,
        )  # fmt: skip
        return False
    return True


@dataclass(frozen=True)
class CutCache:
    """The lower part's activations: `train` [K, N, h, w, c] (version 0 the originals), `val` [M, h, w, c]."""

    train: np.ndarray
    val: np.ndarray

    @classmethod
    def build(
        cls, cut: Cut, pool: ImagePool, train_indices: np.ndarray, val_indices: np.ndarray, config: TrainConfig
    ) -> "CutCache":
        """Run `cut.lower` over the pool's training images (each version) and validation images, in batches."""
        augmenter = (
            build_augmenter(config.rotation_degrees, config.shift, config.zoom, config.seed, config.pen_width)
            if config.augment
            else None
        )
        shape = cut.lower.output_shape[1:]
        with console.status(
            f"Caching activations at the cut ({'×'.join(map(str, shape))}) for {versions(config)} version(s) of "
            f"{len(train_indices):,} training and {len(val_indices):,} validation images…"
        ):
            train = [cut.lower.predict(pool.scoring_batches(train_indices), verbose=0)]
            for _ in range(versions(config) - 1):
                augmented = pool.scoring_batches(train_indices).map(lambda x, y: (augmenter(x, training=True), y))
                train.append(cut.lower.predict(augmented, verbose=0))
            val = cut.lower.predict(pool.scoring_batches(val_indices), verbose=0)
        return cls(np.stack(train), val)

    def training_batches(self, y_train: np.ndarray, config: TrainConfig) -> "tf.data.Dataset":
        """Shuffled, endless (activations [B, h, w, c], labels [B]) batches; pass p over the training part reads
        version p mod K of every image (hcr.training.inputs.ImagePool.training_batches, over the cache)."""
        import tensorflow as tf

        n_versions, n = self.train.shape[:2]
        activations = tf.convert_to_tensor(self.train.reshape(n_versions * n, *self.train.shape[2:]))
        labels = tf.convert_to_tensor(y_train, dtype=tf.int64)

        def gathered(position: "tf.Tensor", picked: "tf.Tensor") -> tuple["tf.Tensor", "tf.Tensor"]:
            version = (position // n) % n_versions  # the pass over the training part each index belongs to
            return tf.gather(activations, version * n + picked), tf.gather(labels, picked)

        return (
            tf.data.Dataset.from_tensor_slices(np.arange(n, dtype=np.int64))
            .shuffle(n, seed=config.seed, reshuffle_each_iteration=True)
            .repeat()
            .enumerate()
            .batch(config.batch_size)
            .map(gathered, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )


def restore_upper(upper: keras.Model, saved: keras.Model) -> None:
    """Put a checkpointed upper part's weights and optimizer state (Adam's moments, step, learning rate) into
    `upper`, a fresh model's, compiled: the checkpoint is a model of its own, whose layers are not the fresh model's."""
    upper.set_weights(saved.get_weights())
    upper.optimizer.build(upper.trainable_variables)
    for mine, theirs in zip(upper.optimizer.variables, saved.optimizer.variables, strict=True):
        mine.assign(theirs)
