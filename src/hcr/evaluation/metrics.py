"""Scores of a classifier from its predicted probabilities: what `hcr evaluate` reports and `hcr compare` ranks.

Everything here works on plain arrays (`y_true` int [N] in 0..25, `y_prob` float [N, 26]), so it is the same for a
Keras model, an ONNX model or a table of someone else's predictions.
"""

from typing import Any

import numpy as np

from hcr.errors import MissingExtraError
from hcr.labels import CLASSES, NUM_CLASSES

N_CONFUSED_PAIRS = 10


def score_predictions(y_true: np.ndarray, y_prob: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro and weighted precision/recall/F1, the per-letter report and the most confused pairs.

    Averages run over the letters present in `y_true`: a dataset without T–Z (EMNIST's official test subset in
    the dev data) is not penalised for letters it cannot contain; a prediction of such a letter still counts as
    an error against the true letter's recall and against accuracy."""
    try:
        from sklearn.metrics import accuracy_score, classification_report
    except ImportError:
        raise MissingExtraError("train", "scikit-learn") from None
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_prob).argmax(axis=1)
    present = np.unique(y_true)
    report = classification_report(
        y_true,
        y_pred,
        labels=present,
        target_names=[CLASSES[i] for i in present],
        output_dict=True,
        zero_division=0,
    )
    matrix = confusion(y_true, y_pred)
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro": _averages(report["macro avg"]),
        "weighted": _averages(report["weighted avg"]),
        "per_letter": {
            CLASSES[i]: {**_averages(report[CLASSES[i]]), "support": int(report[CLASSES[i]]["support"])}
            for i in present
        },
        "confused_pairs": confused_pairs(matrix),
        "confusion_matrix": matrix.tolist(),
    }


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 over the letters present in `y_true`, as score_predictions averages it: the one macro-F1 hcr reports
    (a run's metrics.json, `hcr evaluate`, the leaderboard). Averaging over the letters predicted too would count
    every letter a test split cannot contain as an F1 of 0."""
    try:
        from sklearn.metrics import f1_score
    except ImportError:
        raise MissingExtraError("train", "scikit-learn") from None
    return float(f1_score(y_true, y_pred, labels=np.unique(y_true), average="macro", zero_division=0))


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """int64 [26, 26]: row = true letter, column = predicted letter; every letter kept, so figures line up."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=np.arange(NUM_CLASSES))


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """float [26, 26]: each row divided by its letter's count (the recall on the diagonal); empty rows stay 0."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def confused_pairs(matrix: np.ndarray, n_pairs: int = N_CONFUSED_PAIRS) -> list[dict[str, Any]]:
    """The largest off-diagonal cells: which true letter is most often read as which other letter."""
    off_diagonal = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(off_diagonal, 0)
    totals = np.asarray(matrix).sum(axis=1)
    order = np.argsort(-off_diagonal, axis=None, kind="stable")[:n_pairs]  # ties: A before B
    pairs = []
    for true, predicted in zip(*np.unravel_index(order, off_diagonal.shape), strict=True):
        count = int(off_diagonal[true, predicted])
        if count == 0:
            break
        pairs.append(
            {"true": CLASSES[true], "predicted": CLASSES[predicted], "count": count, "rate": count / int(totals[true])}
        )
    return pairs


def _averages(row: dict[str, float]) -> dict[str, float]:
    return {"precision": float(row["precision"]), "recall": float(row["recall"]), "f1": float(row["f1-score"])}
