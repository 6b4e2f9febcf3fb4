"""Case-aware training: 52 classes (A–Z, then a–z) learned from images whose case may be unknown, folded to 26.

Why: a capitals-first reader must read a bar as I, yet read lower-case letters as their letter. Folding the cases
into one label makes a bar I or L by the labels' coin toss; dropping lower case (`--case upper`) leaves lower-case
shapes unread. A model that keeps the cases apart learns both; EMNIST Letters and ByMerge's merged classes do not say
an image's case, so such an image's target is the set {upper, lower} of its letter and the loss is
−log(p_upper + p_lower) (a partial-label loss: the model decides which case the image looks like). At export the 52
probabilities are folded inside the Keras graph as p(letter) ∝ p(upper) + α·p(lower), α < 1, so ONNX and
`hcr.inference` still see 26 outputs and a shape both cases share (a bar: I or l) goes to the capital.

Measured against `--case fold --capitals` (bench/case_training.py, same split, epochs and images), it lost on every
count: no α, not even one per letter, keeps bars reading I (≥ 94 %) with lower case above 86 %, and handwriting-font
lower case stayed at 70–76 % against 84 %. So `hcr train` does not offer it; these parts stay for that bench.

Targets are int: 0..C-1 a class of the model's own (C = 52, or more: classes after the 52, such as a not-a-letter
class, are plain targets and pass through the fold unchanged); −1 − letter for a letter of unknown case.

    python -m bench.case_training train case52
"""

import keras
import numpy as np
from keras import ops

from hcr.data.case import LOWER, UPPER

N_LETTERS = 26
CASE_CLASSES = 2 * N_LETTERS  # A–Z then a–z


def case_targets(y: np.ndarray, case: np.ndarray) -> np.ndarray:
    """int64 [N] targets for `partial_label_loss` from 26-letter labels (and, for a 27th class, any label ≥ 26 as
    it is) and hcr.data.case values: capitals → 0..25, lower case → 26..51, unknown case → −1 − letter.

    A label ≥ 26 (a not-a-letter class) becomes 52 + (label − 26): a class after the 52, not a letter with a case."""
    y = np.asarray(y, dtype=np.int64)
    letter = y < N_LETTERS
    targets = np.where(case == UPPER, y, np.where(case == LOWER, y + N_LETTERS, -1 - y))
    return np.where(letter, targets, y + N_LETTERS)


@keras.saving.register_keras_serializable(package="hcr")
def partial_label_loss(y_true, y_pred):
    """Per-image −log p(target set): p(class) for a plain target, p(upper) + p(lower) of the letter for −1 − letter.

    `y_pred` are softmax probabilities [N, C]; clipped so that a confident mistake costs a large finite loss."""
    t = ops.cast(ops.reshape(y_true, (-1,)), "int32")  # [N]
    either = t < 0
    first = ops.where(either, -1 - t, t)  # the capital, or the plain target
    second = ops.where(either, first + N_LETTERS, first)  # its lower case (the plain target again, unused)
    p_first = ops.take_along_axis(y_pred, ops.expand_dims(first, 1), axis=1)[:, 0]
    p_second = ops.take_along_axis(y_pred, ops.expand_dims(second, 1), axis=1)[:, 0]
    p = ops.where(either, p_first + p_second, p_first)
    return -ops.log(ops.clip(p, keras.config.epsilon(), 1.0))


@keras.saving.register_keras_serializable(package="hcr")
class CaseFold(keras.layers.Layer):
    """[N, 52 + k] probabilities → [N, 26 + k]: p(letter) ∝ p(upper) + α·p(lower); classes after the 52 kept."""

    def __init__(self, alpha: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, p):
        letters = p[:, :N_LETTERS] + self.alpha * p[:, N_LETTERS:CASE_CLASSES]  # [N, 26]
        extra = p.shape[-1] - CASE_CLASSES  # classes after the letters: none, or a not-a-letter class
        folded = ops.concatenate([letters, p[:, CASE_CLASSES:]], axis=1) if extra else letters  # [N, 26 + k]
        return folded / ops.sum(folded, axis=1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] - N_LETTERS)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


def fold_probabilities(p: np.ndarray, alpha: float) -> np.ndarray:
    """CaseFold in numpy, for choosing α on validation without building a graph per α."""
    letters = p[:, :N_LETTERS] + alpha * p[:, N_LETTERS:CASE_CLASSES]
    folded = np.concatenate([letters, p[:, CASE_CLASSES:]], axis=1)
    return folded / folded.sum(axis=1, keepdims=True)


def folded_model(model: keras.Model, alpha: float) -> keras.Model:
    """The case-aware `model` with CaseFold on top: what is exported, so inference sees 26 (+k) outputs."""
    inputs = keras.Input(model.input_shape[1:], name="image")
    return keras.Model(inputs, CaseFold(alpha, name="case_fold")(model(inputs, training=False)), name=model.name)
