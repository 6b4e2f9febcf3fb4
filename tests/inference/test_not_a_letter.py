"""A model trained with out-of-scope examples has a 27th class, not-a-letter: an image it wins on is reported as
not a letter, with the reason, by the predictor, `hcr predict` and `hcr read`, never turned into a letter. A model of
the 26 letters only works as before.

The model is tests.bar_model's hand-made one: a vertical bar is an I, a horizontal bar (a dash) is not a letter.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from hcr.errors import HcrError
from hcr.inference.predictor import Predictor
from hcr.inference.reading import read_line
from hcr.labels import CLASSES, NOT_A_LETTER
from tests.onnx_models import bar, bar_model, bars_line


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return bar_model(tmp_path_factory.mktemp("bars") / "model")


@pytest.fixture(scope="module")
def predictor(model_dir) -> Predictor:
    return Predictor(model_dir)


def test_a_letter_is_still_a_letter(predictor):
    prediction = predictor.predict_image(bar(vertical=True))
    assert prediction.letter == "I"
    assert prediction.status in ("ok", "low-confidence")
    assert prediction.top_k[0] == ("I", prediction.confidence)


def test_not_a_letter_is_reported_with_its_reason(predictor):
    prediction = predictor.predict_image(bar(vertical=False), top_k=3)
    assert prediction.status == NOT_A_LETTER
    assert prediction.letter is None
    assert "not one letter" in prediction.message
    probabilities = predictor.predict_arrays(prediction.model_input[np.newaxis])[0]
    best = np.argsort(probabilities[:26])[::-1][:3]  # letters only, as the model ranks them
    assert prediction.top_k == [(CLASSES[i], pytest.approx(probabilities[i])) for i in best]
    assert prediction.confidence == prediction.top_k[0][1]  # the likeliest letter's, below not-a-letter's
    assert prediction.confidence < probabilities[26]


def test_top_k_never_lists_not_a_letter(predictor):
    prediction = predictor.predict_image(bar(vertical=True), top_k=27)
    assert [letter for letter, _ in prediction.top_k] == ["I", *[c for c in CLASSES if c != "I"]]
    assert predictor.letters_ == CLASSES


def test_the_same_model_without_the_27th_class_reads_a_letter(tmp_path):
    predictor = Predictor(bar_model(tmp_path / "m", not_a_letter=False))
    prediction = predictor.predict_image(bar(vertical=False))
    assert prediction.letter == "H"
    assert prediction.status in ("ok", "low-confidence")


def test_a_26_output_model_cannot_claim_the_27th_class(tmp_path):
    folder = bar_model(tmp_path / "m", not_a_letter=False)
    metadata = json.loads((folder / "model.json").read_text())
    metadata["classes"] = [*CLASSES, NOT_A_LETTER]
    (folder / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(HcrError, match=r"not \[N, 27\]"):
        Predictor(folder)


def test_not_a_letter_must_be_the_last_class(tmp_path):
    folder = bar_model(tmp_path / "m")
    metadata = json.loads((folder / "model.json").read_text())
    metadata["classes"] = [NOT_A_LETTER, *CLASSES]
    (folder / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(HcrError, match="not-a-letter"):
        Predictor(folder)


def test_a_line_shows_not_a_letter_as_a_question_mark(predictor):
    reading = read_line(bars_line("|-|"), predictor)
    assert reading.text == "I?I"
    unread = reading.characters[1]
    assert (unread.letter, unread.status) == (None, NOT_A_LETTER)
    assert "not one letter" in unread.message
    assert reading.status == "low-confidence"  # not every character could be read as a letter
    record = reading.to_dict()["characters"][1]
    assert (record["letter"], record["status"]) == (None, NOT_A_LETTER)
    assert "not one letter" in record["message"]


def _hcr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=180)


def test_read_cli_writes_a_question_mark_and_says_why(model_dir, tmp_path):
    path = tmp_path / "line.png"
    bars_line("|-|").save(path)
    result = _hcr("read", str(path), "--model", str(model_dir), "--json")
    assert result.returncode == 0, result.stderr
    (record,) = json.loads(result.stdout)
    assert record["text"] == "I?I"
    assert [c["status"] for c in record["characters"]][1] == NOT_A_LETTER
    assert "not one letter" in record["characters"][1]["message"]
    table = _hcr("read", str(path), "--model", str(model_dir))
    assert table.returncode == 0, table.stderr
    assert "I?I" in table.stdout


def test_predict_cli_counts_not_a_letter_apart(model_dir, tmp_path):
    letter, dash = tmp_path / "letter.png", tmp_path / "dash.png"
    bar(vertical=True).save(letter)
    bar(vertical=False).save(dash)
    result = _hcr("predict", str(letter), str(dash), "--model", str(model_dir), "--json")
    assert result.returncode == 2, result.stderr  # as for a blank image: a file that gave no letter
    assert "1 of 2 files failed (0 blank, 1 not a letter, 0 unreadable)" in result.stderr
    records = {r["path"]: r for r in json.loads(result.stdout)}
    assert records[str(dash)]["status"] == NOT_A_LETTER
    assert records[str(dash)]["letter"] is None
    assert "not one letter" in records[str(dash)]["message"]
    assert records[str(letter)]["letter"] == "I"
    table = _hcr("predict", str(dash), "--model", str(model_dir))
    assert NOT_A_LETTER in table.stdout


def test_not_a_letter_needs_the_sureness_calibrated_at_export(model_dir, tmp_path):
    """A model that refuses real letters (the first one trained this way refused 1.75 % of test letters) is held to
    the not-a-letter threshold in model.json: below it the likeliest letter is answered, flagged as unsure."""
    import shutil

    dash = Predictor(model_dir).predict_image(bar(vertical=False))
    sureness = float(Predictor(model_dir).predict_arrays(dash.model_input[np.newaxis])[0, 26])
    strict = tmp_path / "strict"
    shutil.copytree(model_dir, strict)
    metadata = json.loads((strict / "model.json").read_text())
    metadata["not_a_letter"] = {"threshold": sureness + 1e-6}
    (strict / "model.json").write_text(json.dumps(metadata))

    answer = Predictor(strict).predict_image(bar(vertical=False))
    assert answer.status == "low-confidence"
    assert answer.letter == dash.top_k[0][0]
    metadata["not_a_letter"] = {"threshold": sureness}
    (strict / "model.json").write_text(json.dumps(metadata))
    assert Predictor(strict).predict_image(bar(vertical=False)).status == NOT_A_LETTER


def test_the_refusal_threshold_keeps_its_budget_of_real_letters():
    from hcr.evaluation.flagging import LETTERS_REFUSED_BUDGET, not_a_letter_threshold

    rng = np.random.default_rng(0)
    letters = np.where(rng.random(10_000) < 0.02, rng.random(10_000), 0.0)  # 2 % of letters lean to "no letter"
    not_letters = rng.uniform(0.3, 1.0, 1_000)
    chosen = not_a_letter_threshold(letters, not_letters)
    assert chosen["letters_refused"] <= LETTERS_REFUSED_BUDGET
    assert chosen["letters_refused"] == (letters >= chosen["threshold"]).mean()
    assert chosen["not_letters_caught"] == (not_letters >= chosen["threshold"]).mean() > 0
