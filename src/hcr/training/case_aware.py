"""`hcr train --case aware`: train 52 cases (hcr.models.case_aware), save a best model folded to 26 letters.

The training loop stays the one in hcr.training.fit; this module holds what differs there: the targets (the case
when it is known, both cases when it is not), the loss and the letter accuracy that picks the best epoch, and, after
training, α chosen on validation and folded into best.keras. Everything downstream (scoring, `hcr evaluate`,
`hcr export`, `hcr.inference`) then sees a 26-letter model, as from any other run.

    hcr train --model compact-cnn --case aware --canonical
"""

import logging

import keras
import numpy as np
from keras import ops

from hcr.atomic import atomic_path
from hcr.data.capitals import bar_mask
from hcr.data.dataset import LetterData
from hcr.labels import index_of
from hcr.models.case_aware import (
    CASE_CLASSES,
    N_LETTERS,
    case_targets,
    fold_probabilities,
    folded_model,
    partial_label_loss,
)
from hcr.runs import RunDir

logger = logging.getLogger(__name__)

ALPHAS = tuple(round(0.05 * k, 2) for k in range(1, 21))  # 0.05 … 1.0: the weights of lower case tried
# Validation bars (I and L images that are bars) may read I this much less often than at the smallest α: a capital
# reader's bar is an I, and lower-case shapes gain only while that holds.
BAR_SLACK = 0.01


def targets(data: LetterData) -> np.ndarray:
    """int64 [N] targets for partial_label_loss (hcr.models.case_aware.case_targets)."""
    return case_targets(data.y, data.case)


def num_classes(n_letter_classes: int = N_LETTERS) -> int:
    """Outputs of a case-aware model: 52, plus any class after the letters (a not-a-letter class)."""
    return CASE_CLASSES + n_letter_classes - N_LETTERS


def _letter_accuracy(y_true, y_pred):
    """1 where the most likely class, cases added up, is the target's letter: what picks the best epoch."""
    t = ops.cast(ops.reshape(y_true, (-1,)), "int32")
    letter = ops.where(t < 0, -1 - t, ops.where(t < N_LETTERS, t, t - N_LETTERS))  # classes after 52 shift by 26
    folded = ops.concatenate(
        [y_pred[:, :N_LETTERS] + y_pred[:, N_LETTERS:CASE_CLASSES], y_pred[:, CASE_CLASSES:]], axis=1
    )  # [N, 26 + k]
    return ops.cast(ops.equal(ops.cast(ops.argmax(folded, axis=1), "int32"), letter), "float32")


@keras.saving.register_keras_serializable(package="hcr")
class LetterAccuracy(keras.metrics.MeanMetricWrapper):
    """The share of images whose letter is read right, cases added up; higher is better (as Keras's Accuracy says
    with `_direction`, which early stopping and the LR schedule read to know which way to monitor)."""

    def __init__(self, name: str = "accuracy", dtype=None) -> None:
        super().__init__(fn=_letter_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def compile_options() -> dict:
    """loss and metrics for Model.compile; the metric is named accuracy so that val_accuracy picks the best epoch
    as in every other run."""
    return {
        "loss": partial_label_loss,
        "metrics": [LetterAccuracy()],
    }


def choose_alpha(p: np.ndarray, y: np.ndarray, bars: np.ndarray) -> tuple[float, dict[float, dict[str, float]]]:
    """The α with the best validation accuracy (letters; a bar's letter is I) among those that read the validation
    bars as I within BAR_SLACK of the smallest α; ties go to the smaller α (capitals first). Also every α's scores.

    `p` [N, 52 + k] probabilities, `y` [N] letters 0..25 (+k), `bars` bool [N]: I and L images that are bars."""
    truth = np.where(bars, index_of("I"), y)
    scores = {}
    for alpha in ALPHAS:
        predicted = fold_probabilities(p, alpha).argmax(axis=1)
        scores[alpha] = {
            "accuracy": float((predicted == truth).mean()),
            "bars_read_i": float((predicted[bars] == index_of("I")).mean()) if bars.any() else 1.0,
        }
    floor = scores[ALPHAS[0]]["bars_read_i"] - BAR_SLACK
    allowed = [alpha for alpha in ALPHAS if scores[alpha]["bars_read_i"] >= floor]
    return max(allowed, key=lambda alpha: (scores[alpha]["accuracy"], -alpha)), scores


def fold_best_model(run: RunDir, x_val: np.ndarray, data_val: LetterData) -> dict:
    """Replace the run's 52-class best.keras by its 26-letter fold with α chosen on validation; what was chosen.

    `x_val` as the model reads it [N, 28, 28, 1]; `data_val` the same images as LetterData (their letters and the
    uint8 images that say which are bars)."""
    model = run.load_model(run.best_model_path)
    p = model.predict(x_val, batch_size=512, verbose=0)  # [N, 52 + k]
    bars = np.isin(data_val.y, [index_of("I"), index_of("L")]) & bar_mask(data_val.x)
    alpha, scores = choose_alpha(p, data_val.y, bars)
    logger.info("case-aware: lower case weighted α=%.2f (validation accuracy %.4f)", alpha, scores[alpha]["accuracy"])
    with atomic_path(run.best_model_path) as tmp:
        folded_model(model, alpha).save(tmp)
    return {"alpha": alpha, "n_val_bars": int(bars.sum()), "by_alpha": {str(a): s for a, s in scores.items()}}
