"""What a run adds to the datasets' letters: rendered copies and not-a-letter examples for training, and the held-out
hard inputs its low-confidence threshold is calibrated and reported on.

hcr train --model compact-cnn -d az -d emnist-byclass --case upper --canonical --rendered-copies 1 --out-of-scope 0.1

Only the training split is rendered or joined by not-a-letter examples: validation picks the best epoch and test
scores the run on the datasets' letters as before, so runs with and without these options compare on the same
images. Export calibrates on validation read three ways (as files, as rendered files, and not-a-letter inputs never
trained on); reporting does the same on test. No Keras here: the work is numpy, Pillow and the preprocessing.
"""

import logging

import numpy as np

from hcr.configs import DataConfig
from hcr.data import LetterData
from hcr.data.out_of_scope import digit_pools, out_of_scope_examples
from hcr.data.printed import printed_letters
from hcr.data.rendered import rendered_copies
from hcr.data.splits import Split
from hcr.errors import DataError
from hcr.inference.preprocess import to_letter_arrays
from hcr.labels import CLASSES, NOT_A_LETTER, NUM_CLASSES

logger = logging.getLogger(__name__)

STREAMS = {"train": 0, "val": 1, "test": 2}  # rendered from the same seed, each split draws its own files
OUT_OF_SCOPE_STREAM = 10  # added to a split's stream for its not-a-letter examples
PRINTED_STREAM = 20  # ...and for the rendered copies of its printed letters
HELD_OUT_SHARE = 0.1  # not-a-letter examples held out for a split, as a share of its letters


def model_classes(data_config: DataConfig) -> tuple[str, ...]:
    """The classes a run's model answers, in the order of its outputs: the letters, then not-a-letter if trained."""
    return (*CLASSES, NOT_A_LETTER) if data_config.out_of_scope > 0 else CLASSES


def training_additions(data: LetterData, split: Split, data_config: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [M, 28, 28], int64 [M] labels): the training split's rendered copies, letters printed in the training
    fonts (with a rendered copy each when copies are rendered), then not-a-letter examples (label NUM_CLASSES)
    numbering `out_of_scope` × the letters trained on (every addition included)."""
    x_train, y_train = data.x[split.train], data.y[split.train]
    xs, ys = [np.zeros((0, 28, 28), np.uint8)], [np.zeros(0, np.int64)]
    if data_config.rendered_copies:
        rendered, origin = rendered_copies(
            x_train, data_config.rendered_copies, data_config.seed, stream=STREAMS["train"]
        )
        xs.append(rendered)
        ys.append(y_train[origin])
        logger.info("rendered copies: %d training letters drawn as files and read back", len(rendered))
    if data_config.printed_copies:
        printed, labels = printed_letters(data_config.printed_copies, data_config.seed, data_config.case)
        xs.append(printed)
        ys.append(labels)
        if data_config.rendered_copies:  # printed letters photographed and scanned too, once each
            rendered, origin = rendered_copies(printed, 1, data_config.seed, stream=STREAMS["train"] + PRINTED_STREAM)
            xs.append(rendered)
            ys.append(labels[origin])
    if data_config.out_of_scope:
        digits, _ = digit_pools(data_config.data_dir, data_config.seed)
        n = round(data_config.out_of_scope * (len(x_train) + sum(len(x) for x in xs)))
        x_out, _ = out_of_scope_examples(
            n, x_train, digits, data_config.seed, stream=STREAMS["train"] + OUT_OF_SCOPE_STREAM
        )
        xs.append(x_out)
        ys.append(np.full(len(x_out), NUM_CLASSES, np.int64))
        logger.info("out of scope: %d not-a-letter examples", len(x_out))
    return np.concatenate(xs), np.concatenate(ys)


def held_out_examples(
    letters: np.ndarray, y: np.ndarray, part: str, data_config: DataConfig
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Name → (uint8 [M, 28, 28] as `hcr predict` sees it, int64 [M] labels) for a held-out `part` ("val" or
    "test") whose letters as the datasets store them are `letters` (uint8 [N, 28, 28], labels `y`):
    - "letters as files": each letter saved as a clean file and preprocessed (what export calibrated on before);
    - "rendered letters": each drawn once as a degraded file (hcr.data.rendered) — the hard inputs;
    - "not a letter": held-out digits (never trained on; each part its own half), scribbles, pairs of this part's
      letters and empty boxes, label NUM_CLASSES; digits are left out if the data has no EMNIST ByClass."""
    stream = STREAMS[part]
    rendered, origin = rendered_copies(letters, 1, data_config.seed, stream=stream)
    try:
        _, held_out = digit_pools(data_config.data_dir, data_config.seed)
    except DataError:
        held_out = np.zeros((0, 28, 28), np.uint8)
    half = len(held_out) // 2
    digits = held_out[:half] if part == "val" else held_out[half:]
    n = max(1, round(HELD_OUT_SHARE * len(letters)))
    x_out, _ = out_of_scope_examples(n, letters, digits, data_config.seed, stream=stream + OUT_OF_SCOPE_STREAM)
    return {
        "letters as files": (to_letter_arrays(letters), y),
        "rendered letters": (rendered, y[origin]),
        "not a letter": (x_out, np.full(len(x_out), NUM_CLASSES, np.int64)),
    }
