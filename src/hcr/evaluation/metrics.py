"""Scores of a classifier from its predicted probabilities: the one scorer behind a run's metrics.json, what
`hcr evaluate` reports and what `hcr compare` ranks.

Everything here works on plain arrays (`y_true` int [N] in 0..25, `y_prob` float [N, 26], and per image the name of
its group: its source, its case), so it is the same for a Keras model, an ONNX model or a table of someone else's
predictions. Scores per source and per case say what one average hides: a model can read Kaggle's clean capitals
and EMNIST's lower case very differently.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hcr.data.case import CASE_NAMES
from hcr.errors import MissingExtraError
from hcr.labels import CLASSES, NUM_CLASSES

if TYPE_CHECKING:
    from hcr.data.dataset import LetterData

N_CONFUSED_PAIRS = 10


def score_predictions(
    y_true: np.ndarray, y_prob: np.ndarray, groups: Mapping[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """Accuracy, macro and weighted precision/recall/F1, the per-letter report and the most confused pairs; and for
    each of `groups` (name → the group of every image, e.g. groups_of(data)) accuracy and macro-F1 per group, under
    "per_<name>".

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
        **{f"per_{name}": _per_group(y_true, y_pred, labels) for name, labels in (groups or {}).items()},
    }


def groups_of(data: "LetterData") -> dict[str, np.ndarray]:
    """The groups every image of `data` belongs to: its source (a dataset's name) and its case (upper, lower, or
    unknown where the source does not say)."""
    return {
        "source": np.asarray(data.sources, dtype=object)[data.source],
        "case": np.asarray(CASE_NAMES, dtype=object)[data.case],
    }


def headline(scores: dict[str, Any]) -> dict[str, Any]:
    """The part of score_predictions' result a run's metrics.json keeps for each of its splits."""
    return {
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro"]["f1"],
        "n": scores["n"],
        **{key: value for key, value in scores.items() if key.startswith("per_") and key != "per_letter"},
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


def _per_group(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, Any]]:
    """{group: accuracy, macro-F1 (over the letters the group holds) and image count}, groups in sorted order."""
    labels = np.asarray(labels)
    scores = {}
    for group in sorted(set(labels.tolist())):
        members = labels == group
        scores[str(group)] = {
            "accuracy": float(np.mean(y_true[members] == y_pred[members])),
            "macro_f1": macro_f1(y_true[members], y_pred[members]),
            "n": int(members.sum()),
        }
    return scores


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
