"""The Python API as a notebook uses it: `import hcr`, then hcr.Recognizer, hcr.load_dataset, hcr.train.

The Recognizer is the shipped model; its answers are checked against the Predictor's for the same image given as a
file, so each way of handing it an image is shown to reach the same preprocessing."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import hcr
from hcr.errors import HcrError, InputError
from hcr.inference.predictor import DEFAULT_MODEL_DIR, Predictor
from hcr.inference.reading import read_line
from hcr.labels import NOT_A_LETTER, letter_of
from tests.lines import compose_line, real_letters
from tests.onnx_models import bar, bar_model
from tests.realdata import SHARED_DATA


@pytest.fixture(scope="module")
def recognizer() -> "hcr.Recognizer":
    return hcr.Recognizer()


@pytest.fixture(scope="module")
def letters() -> tuple[np.ndarray, np.ndarray]:
    """Eight real Kaggle capitals, uint8 [8, 28, 28] bright ink on black, and their labels."""
    data = real_letters("az")
    picks = np.random.default_rng(0).choice(len(data), 8, replace=False)
    return data.x[picks], data.y[picks]


def _python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_hcr_loads_nothing_heavy_and_the_api_never_loads_tensorflow():
    heavy = "sorted(m for m in ('onnxruntime', 'tensorflow', 'keras') if m in sys.modules)"
    names = "hcr.Recognizer, hcr.load_dataset, hcr.train, hcr.tune, hcr.compare, hcr.evaluate, hcr.export"
    code = f"import sys, hcr\nprint({heavy})\n{names}\nprint({heavy})"
    assert _python(code).splitlines() == ["[]", "['onnxruntime']"]


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Recogniser"):
        hcr.Recogniser  # noqa: B018
    assert {"Recognizer", "load_dataset", "train", "tune", "compare", "evaluate", "export"} <= set(dir(hcr))


def test_every_way_of_giving_one_image_reads_the_same(recognizer, letters, tmp_path):
    """A file, a PIL image, a uint8 array (28×28 or larger, either polarity), a float array in 0..1, and a float
    array of whole 0..255 levels: one preprocessing, one answer."""
    x, _ = letters
    letter = x[0]
    photo = np.asarray(Image.fromarray(255 - letter).resize((140, 140), Image.Resampling.BICUBIC))
    path = tmp_path / "letter.png"
    Image.fromarray(letter).save(path)
    (_, expected), *_ = Predictor().predict_files([path])
    for given in (path, str(path), Image.fromarray(letter), letter, letter / 255.0, letter.astype(np.float32)):
        prediction = recognizer.predict(given)
        assert (prediction.letter, prediction.status) == (expected.letter, expected.status)
        assert prediction.confidence == pytest.approx(expected.confidence, abs=1e-6)
    assert recognizer.predict(photo).letter == expected.letter  # dark on light, larger: the same letter


def test_deep_arrays_read_as_their_8_bit_copy(recognizer, letters):
    """A scan read with its full depth (tifffile, OpenCV's IMREAD_UNCHANGED): 16 bits, 12 bits stored in 16, 32-bit
    integers, whole float levels beyond 255. Refused before ("must lie in 0..255") while the same pixels saved as a
    16-bit PNG read fine: scaled now as such a file is, by the array's own largest value."""
    x, _ = letters
    photo = np.asarray(Image.fromarray(255 - x[1]).resize((120, 120), Image.Resampling.BICUBIC))
    expected = recognizer.predict(photo)
    levels = photo.astype(np.int64)
    for deep in (levels * 257, levels * 16, levels * 4096, (levels * 16).astype(np.float32)):
        for dtype in (np.uint16, np.int32) if deep.max() < 65536 and deep.dtype != np.float32 else (deep.dtype,):
            prediction = recognizer.predict(deep.astype(dtype))
            assert (prediction.letter, prediction.status) == (expected.letter, expected.status), dtype
            assert prediction.confidence == pytest.approx(expected.confidence, abs=0.02)
    batch = recognizer.predict((x.astype(np.uint16) * 257)[:4])
    assert [p.letter for p in batch] == [p.letter for p in recognizer.predict(x[:4])]


def test_a_batch_reads_as_its_images_do_alone(recognizer, letters):
    x, y = letters
    batch = recognizer.predict(x, top_k=5)
    assert [p.letter for p in batch] == [recognizer.predict(one).letter for one in x]
    assert all(len(p.top_k) == 5 for p in batch)
    assert np.mean([p.letter == letter_of(label) for p, label in zip(batch, y, strict=True)]) >= 0.75
    mixed = recognizer.predict([x[0], Image.fromarray(x[1]), x[2] / 255.0])
    assert [p.letter for p in mixed] == [p.letter for p in batch[:3]]
    assert recognizer.predict([]) == []


def test_blank_and_unreadable_images_are_results(recognizer, tmp_path):
    blank, broken = recognizer.predict([np.zeros((28, 28), np.uint8), tmp_path / "missing.png"])
    assert (blank.status, blank.letter) == ("blank", None)
    assert broken.status == "error"
    assert "not found" in broken.message


BAD_ARRAYS = {
    "float above 1, not whole levels": (np.full((28, 28), 1.5), "0..1"),
    "float with NaN": (np.where(np.eye(28) > 0, np.nan, 0.5), "NaN"),
    "negative integers": (np.full((28, 28), -3, np.int64), "0..255"),
    "negative 16-bit-range levels": (np.full((28, 28), -4000, np.int32), "0..255"),
    "booleans": (np.ones((28, 28), bool), "bool"),
    "strings": (np.full((28, 28), "a"), "numbers"),
    "two channels": (np.zeros((50, 50, 2), np.uint8), "[H, W]"),
    "rank 4": (np.zeros((2, 28, 28, 1), np.uint8), "[H, W]"),
    "rank 1": (np.zeros(784, np.uint8), "[H, W]"),
    "empty": (np.zeros((0, 28), np.uint8), "empty"),
}


@pytest.mark.parametrize("name", sorted(BAD_ARRAYS))
def test_a_bad_array_is_one_clear_input_error(recognizer, name):
    array, words = BAD_ARRAYS[name]
    with pytest.raises(InputError, match=re.escape(words)):
        recognizer.predict(array)
    assert isinstance(InputError("x"), HcrError)  # the CLI's one-line errors, for callers that catch those


def test_something_that_is_no_image_is_an_input_error(recognizer):
    with pytest.raises(InputError, match="int"):
        recognizer.predict(3)
    for top_k in (0, "3", 2.5, None, True):
        with pytest.raises(InputError, match="top_k"):
            recognizer.predict(np.zeros((28, 28), np.uint8), top_k=top_k)


def test_an_image_with_a_channel_axis_is_one_image(recognizer, letters):
    """[H, W, 1] (as many imaging libraries give a grey image) was taken for a batch of H images one pixel wide, all
    blank; an RGB or RGBA array is one colour image, read as its PIL image is."""
    x, _ = letters
    photo = np.asarray(Image.fromarray(255 - x[0]).resize((140, 140), Image.Resampling.BICUBIC))
    expected = recognizer.predict(photo)
    colour = np.asarray(Image.fromarray(photo).convert("RGB"))
    for given in (photo[..., None], colour, np.asarray(Image.fromarray(colour).convert("RGBA"))):
        prediction = recognizer.predict(given)
        assert (prediction.letter, prediction.status) == (expected.letter, expected.status)
        assert prediction.confidence == pytest.approx(expected.confidence, abs=1e-4)


def test_read_a_line(recognizer, letters):
    x, _ = letters
    line = compose_line(x[:5], np.random.default_rng(1))
    reading = recognizer.read(np.asarray(line.image))
    assert reading.text == read_line(line.image, recognizer).text
    assert len(reading.characters) == 5


def test_a_batch_of_fields_is_read_whole_with_a_status_for_each(recognizer, letters, tmp_path):
    """A forms shop reads hundreds of field images at once: a list gives a reading for each, in order, and an empty
    field or a broken file is that field's status (`blank`, `error`, with the reason), as `hcr read` and `.predict`
    report them. `.read` raised on the first such field, its message naming no file, and took no list."""
    x, _ = letters
    line = compose_line(x[:4], np.random.default_rng(2))
    empty, broken = tmp_path / "empty.png", tmp_path / "broken.png"
    Image.new("L", (300, 80), 245).save(empty)
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    readings = recognizer.read([line.image, empty, broken, np.asarray(line.image)])
    assert [r.status for r in readings[1:3]] == ["blank", "error"]
    assert readings[1].text == readings[2].text == ""
    assert "blank" in readings[1].message
    assert "corrupt" in readings[2].message
    assert readings[0].text == readings[3].text == read_line(line.image, recognizer).text
    assert readings[0].status in ("ok", "low-confidence")
    assert readings[0].message is None
    alone = recognizer.read(empty)
    assert (alone.status, alone.text, alone.characters) == ("blank", "", [])
    assert recognizer.read([]) == []


def test_not_a_letter_reaches_the_api(tmp_path):
    prediction = hcr.Recognizer(bar_model(tmp_path / "bars")).predict(bar(vertical=False))
    assert (prediction.letter, prediction.status) == (None, NOT_A_LETTER)


def test_from_run_needs_an_exported_run(tmp_path):
    with pytest.raises(HcrError, match="no such run folder"):
        hcr.Recognizer.from_run(tmp_path / "nowhere")
    run = tmp_path / "20260101-000000-compact-cnn-abc123"
    run.mkdir()
    with pytest.raises(HcrError, match=f"not exported yet.*hcr export {run}"):
        hcr.Recognizer.from_run(run)
    for name in ("model.onnx", "model.json"):
        shutil.copy(DEFAULT_MODEL_DIR / name, run / name)
    assert hcr.Recognizer.from_run(str(run)).classes_ == Predictor().classes_


def test_load_dataset(shared_data):
    data = hcr.load_dataset("az", SHARED_DATA)
    assert data.x.dtype == np.uint8
    assert data.x.shape[1:] == (28, 28)
    assert len(data) == len(data.y) > 0


def test_train_refuses_unknown_settings_before_loading_tensorflow(tmp_path):
    with pytest.raises(HcrError, match=r"learning_rat\b"):
        hcr.train("baseline-cnn", "az", out=tmp_path, learning_rat=0.1)


def test_tune_refuses_training_settings_it_does_not_take(tmp_path):
    """A search draws its own training settings; only data settings (and the seed) may be given."""
    with pytest.raises(HcrError, match=r"unknown tuning settings: learning_rate$"):
        hcr.tune("cnn", "az", out=tmp_path, learning_rate=0.1)
    assert not list(tmp_path.iterdir())  # refused before anything was written


@pytest.mark.parametrize("step", [hcr.evaluate, hcr.export], ids=["evaluate", "export"])
def test_evaluate_and_export_need_a_run_folder(step, tmp_path):
    with pytest.raises(HcrError, match="not a run folder"):
        step(tmp_path)


def test_compare_refuses_an_unknown_preset(tmp_path):
    with pytest.raises(HcrError, match="unknown preset 'fast'"):
        hcr.compare(["baseline-cnn"], preset="fast", out=tmp_path)


@pytest.mark.slow
def test_train_on_arrays(tmp_path):
    """Arrays become a pixel CSV in the runs folder (the run names it, so it can be resumed), then a real run."""
    data = real_letters("az")
    picks = np.concatenate([np.flatnonzero(data.y == label)[:12] for label in range(26)])
    result = hcr.train("baseline-cnn", (data.x[picks], data.y[picks]), epochs=1, out=tmp_path, batch_size=32)
    assert result.run.path.parent == tmp_path
    (csv,) = tmp_path.glob("arrays-*.csv")
    assert str(csv) in (result.run.path / "config.json").read_text()
    assert 0.0 <= result.metrics["test"]["accuracy"] <= 1.0
