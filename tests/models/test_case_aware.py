"""Case-aware training: targets from real case tags, the partial-label loss, and the fold back to 26 letters."""

import keras
import numpy as np
import pytest

from hcr.data.case import LOWER, UNKNOWN, UPPER
from hcr.data.sources import load_datasets
from hcr.labels import index_of
from hcr.models.case_aware import (
    CASE_CLASSES,
    CaseFold,
    case_targets,
    fold_probabilities,
    folded_model,
    partial_label_loss,
)


@pytest.fixture(scope="module")
def byclass_and_letters(shared_data):
    """Real images of all three cases: ByClass knows each letter's case, EMNIST Letters does not."""
    return load_datasets(("emnist-byclass", "emnist-letters"), shared_data)


def test_targets_keep_known_case_and_mark_unknown_case_as_either(byclass_and_letters):
    data = byclass_and_letters
    t = case_targets(data.y, data.case)
    upper, lower, unknown = data.case == UPPER, data.case == LOWER, data.case == UNKNOWN
    assert upper.any()
    assert lower.any()
    assert unknown.any()
    assert np.array_equal(t[upper], data.y[upper])
    assert np.array_equal(t[lower], data.y[lower] + 26)
    assert np.array_equal(-1 - t[unknown], data.y[unknown])


def test_a_not_a_letter_class_stays_a_class_after_the_52():
    assert case_targets(np.array([26]), np.array([UNKNOWN])).tolist() == [CASE_CLASSES]


def test_an_unknown_case_target_is_paid_by_either_case():
    a_upper, a_lower = np.eye(52, dtype="float32")[[0, 26]] * 0.98 + 0.02 / 52  # confident A, confident a
    either_a = np.array([-1 - index_of("A")] * 2)
    loss = keras.ops.convert_to_numpy(partial_label_loss(either_a, np.stack([a_upper, a_lower])))
    assert np.allclose(loss, loss[0])
    assert loss[0] < 0.03
    known = keras.ops.convert_to_numpy(partial_label_loss(np.array([26]), a_upper[None]))
    assert known[0] > 3  # "lower-case a" is not satisfied by a capital A


def test_the_fold_prefers_the_capital_when_cases_tie():
    """A bar: as likely an I as an l. Folded with α < 1 it reads I, and the probabilities still sum to 1."""
    p = np.full((1, 52), 0.01 / 50, dtype="float32")
    p[0, index_of("I")], p[0, 26 + index_of("L")] = 0.45, 0.54
    folded = keras.ops.convert_to_numpy(CaseFold(0.5)(p))
    assert folded.shape == (1, 26)
    assert folded.argmax() == index_of("I")
    assert np.isclose(folded.sum(), 1)
    assert np.allclose(folded, fold_probabilities(p, 0.5))
    assert fold_probabilities(p, 1.0).argmax() == index_of("L")


def test_the_folded_model_has_26_outputs_and_survives_a_save(tmp_path):
    from hcr.models import create_model

    model = create_model("compact-cnn", num_classes=52)
    folded = folded_model(model, 0.4)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype="float32")
    assert folded.predict(x, verbose=0).shape == (3, 26)
    folded.save(tmp_path / "folded.keras")
    again = keras.models.load_model(tmp_path / "folded.keras")
    assert np.allclose(again.predict(x, verbose=0), folded.predict(x, verbose=0), atol=1e-6)
