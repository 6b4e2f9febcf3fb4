"""Scores on hand-made predictions, checked against values worked out by hand from the definitions."""

import numpy as np
import pytest

from hcr.data import load_datasets
from hcr.data.case import CASE_NAMES
from hcr.evaluation.metrics import confused_pairs, groups_of, headline, macro_f1, normalize_rows, score_predictions
from hcr.evaluation.speed import measure_speed
from hcr.labels import NUM_CLASSES, index_of


def _probabilities(predicted: list[int], confidence: float = 0.7) -> np.ndarray:
    """Rows whose argmax is `predicted`, the rest of the mass spread evenly."""
    y_prob = np.full((len(predicted), NUM_CLASSES), (1 - confidence) / (NUM_CLASSES - 1))
    y_prob[np.arange(len(predicted)), predicted] = confidence
    return y_prob


A, B, C, Z = (index_of(letter) for letter in "ABCZ")


def test_scores_match_hand_computed_values():
    #            A  A  A  B  B  C  C
    y_true = [A, A, A, B, B, C, C]
    y_pred = [A, A, B, B, C, C, Z]  # one A read as B, one B as C, one C as Z (a letter absent from y_true)
    scores = score_predictions(np.array(y_true), _probabilities(y_pred))

    # by hand: A: TP 2, FP 0, FN 1 → P 1, R 2/3 · B: TP 1, FP 1, FN 1 → P 1/2, R 1/2 · C: TP 1, FP 1, FN 1 → 1/2, 1/2
    p = {"A": 1.0, "B": 0.5, "C": 0.5}
    r = {"A": 2 / 3, "B": 0.5, "C": 0.5}
    f1 = {k: 2 * p[k] * r[k] / (p[k] + r[k]) for k in p}  # A 0.8, B 0.5, C 0.5
    support = {"A": 3, "B": 2, "C": 2}

    assert scores["n"] == 7
    assert scores["accuracy"] == pytest.approx(4 / 7)
    assert set(scores["per_letter"]) == {"A", "B", "C"}  # Z is not in the data: no row, not in the averages
    for letter in p:
        row = scores["per_letter"][letter]
        assert row["precision"] == pytest.approx(p[letter])
        assert row["recall"] == pytest.approx(r[letter])
        assert row["f1"] == pytest.approx(f1[letter])
        assert row["support"] == support[letter]
    assert scores["macro"]["precision"] == pytest.approx(2 / 3)
    assert scores["macro"]["recall"] == pytest.approx((2 / 3 + 0.5 + 0.5) / 3)
    assert scores["macro"]["f1"] == pytest.approx((0.8 + 0.5 + 0.5) / 3)
    assert scores["weighted"]["precision"] == pytest.approx((3 * 1 + 2 * 0.5 + 2 * 0.5) / 7)
    assert scores["weighted"]["recall"] == pytest.approx(4 / 7)  # weighted recall is accuracy
    assert scores["weighted"]["f1"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 2 * 0.5) / 7)

    matrix = np.array(scores["confusion_matrix"])
    assert matrix.shape == (26, 26)
    assert matrix.sum() == 7
    assert matrix[A, A] == 2
    assert matrix[A, B] == 1
    assert matrix[B, C] == 1
    assert matrix[C, Z] == 1
    # three mistakes of one image each: ties in the order of the letters
    assert scores["confused_pairs"] == [
        {"true": "A", "predicted": "B", "count": 1, "rate": pytest.approx(1 / 3)},
        {"true": "B", "predicted": "C", "count": 1, "rate": pytest.approx(1 / 2)},
        {"true": "C", "predicted": "Z", "count": 1, "rate": pytest.approx(1 / 2)},
    ]


def test_perfect_predictions():
    y = np.arange(26).repeat(2)
    scores = score_predictions(y, _probabilities(list(y)))
    assert scores["accuracy"] == 1.0
    assert scores["macro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert scores["confused_pairs"] == []


def test_confused_pairs_are_ranked_by_count():
    matrix = np.zeros((26, 26), int)
    matrix[index_of("I"), index_of("I")] = 10
    matrix[index_of("I"), index_of("L")] = 6
    matrix[index_of("L"), index_of("L")] = 12
    matrix[index_of("L"), index_of("I")] = 3
    matrix[index_of("Q"), index_of("G")] = 4
    pairs = confused_pairs(matrix, n_pairs=2)
    assert [(p["true"], p["predicted"], p["count"]) for p in pairs] == [("I", "L", 6), ("Q", "G", 4)]
    assert pairs[0]["rate"] == pytest.approx(6 / 16)


def test_row_normalization_keeps_empty_rows_empty():
    matrix = np.zeros((26, 26), int)
    matrix[0, 0], matrix[0, 1], matrix[2, 2] = 3, 1, 5
    normalized = normalize_rows(matrix)
    assert normalized[0, 0] == pytest.approx(0.75)
    assert normalized[0, 1] == pytest.approx(0.25)
    assert normalized[2].sum() == pytest.approx(1.0)
    assert not normalized[1].any()  # a letter with no images: a row of zeros, not NaN


def test_speed_times_batches_and_single_images():
    calls = []

    def predict(x):
        calls.append(len(x))
        return np.zeros((len(x), 26), np.float32)

    speed = measure_speed(predict, np.zeros((600, 28, 28), np.uint8), batch_size=256, n_single=5)
    assert calls == [256, 1, 256, 256, 88, 1, 1, 1, 1, 1]  # warm-up of each shape, the batches, the single images
    assert speed["batch_images"] == 600
    assert speed["single_image_calls"] == 5
    assert speed["batch_images_per_second"] > 0
    assert speed["single_image_ms"] > 0


def test_scores_per_source_and_per_case_on_real_letters(shared_data):
    """Issue 12: accuracy and macro-F1 per source and per case. On 600 real letters from two sources (EMNIST Letters
    and ByClass, whose images say their case), a classifier right on every EMNIST Letters image and wrong on every
    ByClass one must score 1 and 0 per source, and per case what each case's share of EMNIST Letters images says."""
    data = load_datasets(["emnist-letters", "emnist-byclass"], shared_data)
    data = data.take(np.sort(np.random.default_rng(0).choice(len(data), 600, replace=False)))
    from_letters = data.source == data.sources.index("emnist-letters")
    y_pred = np.where(from_letters, data.y, (data.y + 1) % NUM_CLASSES)
    scores = score_predictions(data.y, _probabilities(list(y_pred)), groups_of(data))

    per_source = scores["per_source"]
    assert set(per_source) == {"emnist-letters", "emnist-byclass"}
    assert per_source["emnist-letters"] == {"accuracy": 1.0, "macro_f1": 1.0, "n": int(from_letters.sum())}
    assert per_source["emnist-byclass"]["accuracy"] == per_source["emnist-byclass"]["macro_f1"] == 0.0
    assert per_source["emnist-byclass"]["n"] == 600 - from_letters.sum()

    per_case = scores["per_case"]
    assert {"upper", "lower"} <= set(per_case) <= set(CASE_NAMES)  # ByClass says the case of every image
    for name, case_scores in per_case.items():
        members = data.case == CASE_NAMES.index(name)
        assert case_scores["n"] == members.sum()
        assert case_scores["accuracy"] == pytest.approx(from_letters[members].mean())
        assert case_scores["macro_f1"] == pytest.approx(macro_f1(data.y[members], y_pred[members]))

    # a run's metrics.json keeps this part of the same result (hcr.training.fit scores through score_predictions)
    kept = headline(scores)
    assert kept == {"accuracy": scores["accuracy"], "macro_f1": scores["macro"]["f1"], "n": 600,
                    "per_source": per_source, "per_case": per_case}  # fmt: skip
