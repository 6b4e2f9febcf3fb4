"""`hcr predict` and `hcr export` as a user runs them: real processes, real exit codes, stdout kept for results."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from hcr.data import load_datasets
from hcr.inference.predictor import Predictor
from tests.realdata import AZ_CSV


def _hcr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """Real letters as a user keeps them: nested folders, several formats (a phone's HEIC too), and a file that is
    not an image."""
    data = load_datasets([f"az:{AZ_CSV}"])
    root = tmp_path_factory.mktemp("images")
    (root / "scans" / "more").mkdir(parents=True)
    names = ["a.png", "scans/b.jpg", "scans/more/c.bmp", "scans/more/d.webp"]
    for name, label in zip(names, range(4), strict=True):
        letter = 255 - data.x[np.flatnonzero(data.y == label)[0]]
        Image.fromarray(letter).resize((200, 200), Image.Resampling.BICUBIC).save(root / name)
    (root / "scans" / "notes.txt").write_text("not a letter")
    photo = Image.fromarray(255 - data.x[np.flatnonzero(data.y == 4)[0]]).resize((200, 200)).convert("RGB")
    (root / "phone").mkdir()
    pillow_heif.from_pillow(photo).save(root / "phone" / "e.heic", quality=90)  # as an iPhone saves a photo
    return root


def test_json_for_a_folder_read_recursively(onnx_model_dir, image_dir):
    result = _hcr("predict", str(image_dir), "--model", str(onnx_model_dir / "model.onnx"), "--json", "--top-k", "5")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert sorted(r["path"] for r in records) == sorted(
        str(image_dir / n) for n in ["a.png", "scans/b.jpg", "scans/more/c.bmp", "scans/more/d.webp", "phone/e.heic"]
    )  # notes.txt is not an image extension: a folder scan leaves it out; a phone's HEIC photo is one
    predictor = Predictor(onnx_model_dir)
    for record, (_, expected) in zip(records, predictor.predict_files([r["path"] for r in records], 5), strict=True):
        assert record["letter"] == expected.letter
        assert record["confidence"] == pytest.approx(expected.confidence, abs=1e-5)
        assert record["status"] == expected.status
        assert [t["letter"] for t in record["top_k"]] == [letter for letter, _ in expected.top_k]


def test_csv_and_table(onnx_model_dir, image_dir):
    files = [str(image_dir / "a.png"), str(image_dir / "scans" / "b.jpg")]
    result = _hcr("predict", *files, "--model", str(onnx_model_dir), "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["path"] for row in rows] == files
    for row in rows:
        assert row["letter"] in Predictor(onnx_model_dir).classes_
        assert 0 < float(row["confidence"]) <= 1
        assert row["status"] in ("ok", "low-confidence")
        assert len(row["top_k"].split()) == 3
    table = _hcr("predict", *files, "--model", str(onnx_model_dir))
    assert table.returncode == 0, table.stderr
    # a long path folds over lines (never cut short), wherever the temporary folder's name makes it break
    assert "a.png" in "".join(line.split("│")[1].strip() for line in table.stdout.splitlines() if "│" in line)
    assert rows[0]["letter"] in table.stdout


@pytest.mark.parametrize(
    ("model_arg", "message"),
    [
        ("missing/model.onnx", "model not found"),
        ("junk", "model.json: missing"),
        ("letter.png", "letter.png: not a model"),  # an image given as the model: not "model.json: missing"
    ],
)
def test_bad_model_is_one_clear_line(tmp_path, image_dir, model_arg, message):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "model.onnx").write_bytes(b"not onnx")
    shutil.copy(image_dir / "a.png", tmp_path / "letter.png")
    result = _hcr("predict", str(image_dir / "a.png"), "--model", str(tmp_path / model_arg))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_predict_never_imports_tensorflow(onnx_model_dir, image_dir):
    """The whole command runs in a fresh process; afterwards neither TensorFlow nor Keras has been imported."""
    code = (
        "import sys\nfrom hcr.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "print(f'exit={code} heavy={heavy}', file=sys.stderr)\n"
    )
    args = ["predict", str(image_dir), "--model", str(onnx_model_dir), "--json"]
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert "exit=0 heavy=[]" in result.stderr, result.stderr
    assert len(json.loads(result.stdout)) == 5


@pytest.mark.slow
def test_export_cli_writes_into_the_chosen_folder(onnx_model_dir, onnx_model_run, tmp_path):
    """Re-export the fixture's run with the CLI: same model, same verified metadata, in --out."""
    result = _hcr("export", str(onnx_model_run), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "max |Δp|" in result.stdout
    metadata = json.loads((tmp_path / "out" / "model.json").read_text())
    assert metadata["source_run"] == onnx_model_run.name
    assert metadata["verification"]["max_abs_diff"] <= 1e-4
    assert Predictor(tmp_path / "out").classes_ == Predictor(onnx_model_dir).classes_


@pytest.mark.parametrize("command", ["export", "evaluate"])
def test_a_folder_that_is_not_a_run_is_refused_before_tensorflow_loads(command, tmp_path):
    """A new user waited 7 s to hear that a folder was no run: TensorFlow was loaded first. Here it cannot load."""
    blocker = tmp_path / "blocker"
    (blocker / "tensorflow").mkdir(parents=True)
    (blocker / "tensorflow" / "__init__.py").write_text("raise ImportError('TensorFlow was loaded')\n")
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
    for folder, why in ((tmp_path / "empty", "no config.json"), (tmp_path / "no-such-run", "no such folder")):
        result = subprocess.run(
            [sys.executable, "-m", "hcr", command, str(folder)], capture_output=True, text=True, timeout=180, env=env
        )
        assert result.returncode == 2, result.stderr
        assert f"not a run folder ({why})" in result.stderr


def test_save_inputs_writes_the_image_the_model_saw(image_dir, tmp_path):
    from hcr.inference.preprocess import open_image, to_letter_array

    (tmp_path / "other").mkdir()  # a second a.png in another folder must not overwrite the first one's image
    shutil.copy(image_dir / "scans" / "b.jpg", tmp_path / "other" / "a.png")
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")  # white paper, no ink: nothing to save
    (tmp_path / "broken.png").write_bytes(b"not an image")
    files = [image_dir / "a.png", tmp_path / "other" / "a.png", image_dir / "scans" / "more" / "c.bmp"]
    out = tmp_path / "seen" / "nested"
    result = _hcr("predict", *map(str, [*files, tmp_path / "blank.png", tmp_path / "broken.png"]), "--save-inputs",
                  str(out), "--json")  # fmt: skip
    assert result.returncode == 2  # the blank and the broken file fail; the others are still read
    assert len(json.loads(result.stdout)) == 5  # stdout stays pure JSON
    assert "saved 3 model inputs" in result.stderr
    assert "2 files had none" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["1-a.png", "2-a.png", "3-c.png"]
    for saved, source in zip(sorted(out.iterdir()), files, strict=True):
        with Image.open(saved) as image:
            assert image.mode == "L"
            assert image.size == (28, 28)
            np.testing.assert_array_equal(np.asarray(image), to_letter_array(open_image(source)))


def test_save_inputs_refuses_a_file_as_its_folder(image_dir, tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    result = _hcr("predict", str(image_dir / "a.png"), "--save-inputs", str(tmp_path / "taken"))
    assert result.returncode == 2
    assert "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["predict", "read"])
def test_standard_input_is_refused_with_what_to_do(command, image_dir):
    """`-` (read the image from standard input, as many tools do) was reported as a file not found."""
    result = _hcr(command, "-", str(image_dir / "a.png"))
    assert result.returncode == 2
    assert "standard input" in result.stderr
    assert "Traceback" not in result.stderr
