"""The Predictor on a real exported model: files in batches, the same answers one by one, honest statuses."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from hcr.data import load_datasets
from hcr.errors import HcrError
from hcr.inference import predictor as predictor_module
from hcr.inference.predictor import Predictor
from hcr.inference.preprocess import open_image, to_letter_array
from hcr.labels import CLASSES
from tests.realdata import AZ_CSV


@pytest.fixture(scope="module")
def az_letters():
    """Three real Kaggle A–Z letters of each class."""
    data = load_datasets([f"az:{AZ_CSV}"])
    picks = np.concatenate([np.flatnonzero(data.y == label)[:3] for label in range(26)])
    return data.x[picks], data.y[picks]


@pytest.fixture(scope="module")
def predictor(onnx_model_dir):
    return Predictor(onnx_model_dir / "model.onnx")


def test_loads_the_model_and_its_metadata(predictor, onnx_model_dir):
    metadata = json.loads((onnx_model_dir / "model.json").read_text())
    assert predictor.classes_ == CLASSES
    assert predictor.metadata_ == metadata
    assert predictor.threshold_ == metadata["low_confidence"]["threshold"]
    assert Predictor(onnx_model_dir).classes_ == CLASSES  # the folder works as well as the file


def test_predict_arrays_gives_probabilities(predictor, az_letters):
    x, y = az_letters
    probabilities = predictor.predict_arrays(x)
    assert probabilities.shape == (len(x), 26)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities.argmax(axis=1) == y).mean() > 3 / 26  # a 1-epoch model, but clearly above chance
    assert predictor.predict_arrays(x[:0]).shape == (0, 26)


def test_files_in_a_batch_read_as_each_image_alone(predictor, az_letters, tmp_path):
    x, _ = az_letters
    paths = []
    for i, letter in enumerate(x):
        paths.append(tmp_path / f"{i:03d}.png")
        Image.fromarray(255 - letter).resize((96, 96), Image.Resampling.BICUBIC).save(paths[-1])
    results = list(predictor.predict_files(paths, top_k=4))
    assert [path for path, _ in results] == paths
    for path, prediction in results:
        alone = predictor.predict_image(open_image(path), top_k=4)
        assert prediction.letter == alone.letter
        assert prediction.confidence == pytest.approx(alone.confidence, abs=1e-6)
        np.testing.assert_array_equal(prediction.model_input, to_letter_array(open_image(path)))
        assert len(prediction.top_k) == 4
        assert prediction.top_k[0] == (prediction.letter, prediction.confidence)
        assert [p for _, p in prediction.top_k] == sorted((p for _, p in prediction.top_k), reverse=True)
        expected = "ok" if prediction.confidence >= predictor.threshold_ else "low-confidence"
        assert prediction.status == expected
        assert prediction.message is None


def test_blank_image_is_reported_not_raised(predictor):
    prediction = predictor.predict_image(Image.new("L", (200, 200), 255))
    assert prediction.status == "blank"
    assert prediction.letter is None
    assert "blank" in prediction.message


def test_a_file_that_fails_in_an_unforeseen_way_is_its_own_error_not_the_end_of_the_batch(
    predictor, az_letters, tmp_path, monkeypatch
):
    """A Lab TIFF and a large 16-bit PNG (fixed since) raised ValueError deep in preprocessing: `hcr predict` stopped
    with an internal error and printed nothing for the good files beside them, and the server answered 500."""
    x, _ = az_letters
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    for path, letter in zip(paths, x, strict=False):
        Image.fromarray(255 - letter).save(path)
    real = predictor_module.to_letter_array

    def fails_on_the_second(image):
        if image.size == (28, 28) and np.array_equal(np.asarray(image), 255 - x[1]):
            raise ValueError("image has wrong mode")
        return real(image)

    monkeypatch.setattr(predictor_module, "to_letter_array", fails_on_the_second)
    results = [prediction for _, prediction in predictor.predict_files(paths)]
    assert [r.status for r in results][::2] == [predictor.predict_image(open_image(p)).status for p in paths[::2]]
    assert results[1].status == "error"
    assert results[1].message == "could not be processed (ValueError: image has wrong mode)"


def test_a_prediction_prints_without_its_pixels(predictor, az_letters):
    """Its repr printed the 28×28 array the model saw: 28 lines of numbers in a notebook for one letter."""
    shown = repr(predictor.predict_loaded([az_letters[0][0]])[0])
    assert "letter=" in shown
    assert "model_input" not in shown


def test_without_a_path_the_shipped_model_is_used(monkeypatch, onnx_model_dir, tmp_path):
    monkeypatch.setattr(predictor_module, "DEFAULT_MODEL_DIR", onnx_model_dir)
    assert Predictor().metadata_ == Predictor(onnx_model_dir).metadata_
    monkeypatch.setattr(predictor_module, "DEFAULT_MODEL_DIR", tmp_path)  # a package with no model in it yet
    with pytest.raises(HcrError, match="--model"):
        Predictor()


def test_refuses_a_model_that_does_not_match_its_metadata(onnx_model_dir, tmp_path):
    with pytest.raises(HcrError, match="model not found"):
        Predictor(tmp_path / "nothing.onnx")
    copy = tmp_path / "copy"
    shutil.copytree(onnx_model_dir, copy)
    metadata = json.loads((copy / "model.json").read_text())
    (copy / "model.json").write_text(json.dumps({**metadata, "preprocess_version": -1}))
    with pytest.raises(HcrError, match="preprocessing version -1"):
        Predictor(copy / "model.onnx")
    (copy / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(HcrError, match="sha256"):
        Predictor(copy / "model.onnx")
    (copy / "model.json").unlink()
    with pytest.raises(HcrError, match=r"model\.json"):
        Predictor(copy / "model.onnx")
