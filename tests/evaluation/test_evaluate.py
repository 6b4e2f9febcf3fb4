"""`hcr evaluate` on a tiny real run: its own test split, another dataset, and a run whose data has changed."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hcr.errors import HcrError
from hcr.evaluation.evaluate import evaluate_run
from tests.realdata import AZ_CSV, N_AZ

FIGURES = {"confusion_matrix.png", "confusion_matrix_normalized.png", "learning_curves.png", "misclassified.png"}


@pytest.fixture(scope="module")
def tiny_run(shared_data, tmp_path_factory, session_parse_cache) -> Path:
    """baseline-cnn trained for 1 epoch on 20 real images per letter (78 test images): poor, but real."""
    from hcr.configs import DataConfig
    from hcr.training.config import resolve_config
    from hcr.training.fit import train

    root = tmp_path_factory.mktemp("tiny-run")
    with pytest.MonkeyPatch.context() as patch:  # module-scoped: the per-test fixtures are not set up yet
        patch.setenv("HCR_CACHE_DIR", str(session_parse_cache))
        result = train(resolve_config("baseline-cnn", epochs=1), DataConfig(data_dir=str(shared_data), per_class=20),
                       root / "runs")  # fmt: skip
    return result.run.path


@pytest.mark.slow
def test_evaluate_own_test_split_agrees_with_training(tiny_run):
    result = evaluate_run(tiny_run)
    assert result.out_dir == tiny_run / "evaluation"
    saved = json.loads((result.out_dir / "evaluation.json").read_text())
    assert saved == json.loads(json.dumps(result.summary))
    trained = json.loads((tiny_run / "metrics.json").read_text())["test"]
    # the training loop scored the same checkpoint on the same split through the same scorer: the same numbers
    assert saved["n"] == trained["n"] == 78
    assert saved["accuracy"] == pytest.approx(trained["accuracy"])
    assert saved["macro"]["f1"] == pytest.approx(trained["macro_f1"])
    # issue 12: both report accuracy and macro-F1 per source and per case, over every test image
    assert len(saved["per_source"]) > 1  # the default data is every dataset in ../shared/data
    for grouping in ("per_source", "per_case"):
        assert saved[grouping].keys() == trained[grouping].keys()
        assert sum(scores["n"] for scores in saved[grouping].values()) == saved["n"]
        for group, scores in saved[grouping].items():
            assert scores["accuracy"] == pytest.approx(trained[grouping][group]["accuracy"])
            assert scores["macro_f1"] == pytest.approx(trained[grouping][group]["macro_f1"])
    matrix = np.array(saved["confusion_matrix"])
    assert matrix.sum() == saved["n"]
    assert np.trace(matrix) / saved["n"] == pytest.approx(saved["accuracy"])
    assert sum(row["support"] for row in saved["per_letter"].values()) == saved["n"]
    assert saved["data"]["split"]["part"] == "test"
    assert saved["size"]["file_bytes"] == (tiny_run / "checkpoints" / "best.keras").stat().st_size
    assert saved["size"]["parameters"] > 100_000
    assert saved["speed"]["batch_images_per_second"] > 0
    assert saved["speed"]["single_image_ms"] > 0
    assert {path.name for path in result.figures} == FIGURES == set(saved["figures"])
    assert all((result.out_dir / name).stat().st_size > 10_000 for name in FIGURES)


@pytest.mark.slow
def test_macro_f1_is_one_figure_when_letters_are_missing_from_the_test_split(shared_data, tmp_path, monkeypatch):
    """EMNIST's official test part in the dev data holds no T–Z. A model that predicts one of them still must not
    have its macro-F1 averaged over letters the test cannot contain in one place and not in the other: the training
    loop's metrics.json and `hcr evaluate` (which the leaderboard uses) once gave 0.71 and 0.93 for the same run."""
    from hcr.configs import DataConfig
    from hcr.training.config import resolve_config
    from hcr.training.fit import train

    monkeypatch.setenv("HCR_CACHE_DIR", str(tmp_path / "parse-cache"))
    data = DataConfig(datasets=("emnist-letters",), data_dir=str(shared_data), split="official")  # 1,000 to train
    run = train(resolve_config("baseline-cnn", epochs=1), data, tmp_path / "runs").run.path
    saved = evaluate_run(run).summary
    assert "T" not in saved["per_letter"]  # the premise: letters are missing from this test split
    predicted = np.array(saved["confusion_matrix"]).sum(axis=0)
    assert predicted[19:].sum() > 0, "the tiny model predicted no T–Z: the test would prove nothing"
    trained = json.loads((run / "metrics.json").read_text())["test"]
    assert trained["macro_f1"] == pytest.approx(saved["macro"]["f1"])


@pytest.mark.slow
def test_evaluate_on_another_dataset(tiny_run):
    result = evaluate_run(tiny_run, [f"az:{AZ_CSV}"])
    assert result.out_dir.parent == tiny_run
    assert result.out_dir.name.startswith("evaluation-az-")
    assert result.summary["n"] == N_AZ  # every image of the dataset, not a split
    assert result.summary["data"]["sources"] == ["az"]
    assert result.summary["data"]["overlaps_training_sources"] == ["az"]  # flagged: it trained on part of it
    assert (result.out_dir / "evaluation.json").is_file()


@pytest.mark.slow
def test_evaluate_refuses_a_run_whose_data_changed(tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    config = json.loads((run / "config.json").read_text())
    config["data"]["per_class"] = 21  # other images than the split was made for
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(HcrError, match="fingerprint"):
        evaluate_run(run)


@pytest.mark.slow
def test_cli_prints_a_table_and_reports_bad_input_on_one_line(tiny_run, tmp_path):
    def hcr(*args):
        return subprocess.run([sys.executable, "-m", "hcr", "evaluate", *args], capture_output=True, text=True,
                              timeout=300)  # fmt: skip

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    ok = hcr(str(run))
    assert ok.returncode == 0, ok.stderr
    assert "accuracy" in ok.stdout
    assert "macro P / R / F1" in ok.stdout
    assert (run / "evaluation" / "evaluation.json").is_file()
    missing = hcr(str(tmp_path / "no-such-run"))
    assert missing.returncode == 2
    assert "not a run folder" in missing.stderr
    assert "Traceback" not in missing.stderr
