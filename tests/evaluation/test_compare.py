"""`hcr compare` on two tiny real models: leaderboard, report, exported best model, and resuming."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hcr.configs import DataConfig
from hcr.errors import HcrError
from hcr.inference.predictor import Predictor
from hcr.inference.preprocess import PREPROCESS_VERSION
from hcr.pipelines.compare import DEPLOYABLE_SETTINGS, PRESETS, STATE_FILE, Preset, compare_models
from hcr.pipelines.compare.state import CompareState
from tests.evaluation.pages import embedded_files, parse_images

TINY = Preset("tiny", per_class=20, epoch_scale=0.0, min_epochs=1)  # 1 epoch on 20 images per letter


def test_presets_scale_each_recipe():
    assert [PRESETS["quick"].epochs(n) for n in (20, 40, 8)] == [5, 10, 2]
    assert [PRESETS["seed"].epochs(n) for n in (8, 40, 100)] == [20, 40, 60]
    assert PRESETS["seed"].per_class == 400  # the seed notebook's protocol
    assert PRESETS["quick"].per_class == 650  # time grows with images: quick samples a large pool per letter
    assert PRESETS["full"].per_class is None
    assert PRESETS["full"].epochs(20) == 20
    assert TINY.epochs(20) == 1
    assert set(PRESETS["quick"].tuning) == {"cnn"}  # a MobileNetV2 search does not fit in the quick budget
    assert set(PRESETS["seed"].tuning) == set(PRESETS["full"].tuning) == {"cnn", "mobilenetv2"}


def test_models_without_weights_are_skipped_not_fatal(tmp_path, monkeypatch):
    monkeypatch.delenv("HCR_MOBILENET_WEIGHTS", raising=False)
    with pytest.raises(HcrError, match=r"nothing to compare: mobilenetv2-frozen: .*weights"):
        compare_models(TINY, ["mobilenetv2-frozen"], out_dir=tmp_path)


def test_a_folder_with_another_comparison_is_refused(tmp_path, shared_data):
    compare_state = {"settings": {"preset": {"name": "seed"}, "data": {}}, "models": {}}
    (tmp_path / STATE_FILE).write_text(json.dumps(compare_state))
    with pytest.raises(HcrError, match="other settings"):
        compare_models(TINY, ["baseline-cnn"], data_dir=shared_data, out_dir=tmp_path)


def test_a_comparison_saved_before_a_data_setting_existed_resumes(tmp_path):
    data_config = DataConfig(datasets=("az",), printed_copies=0)
    saved = CompareState.open(tmp_path, TINY, data_config).saved
    del saved["settings"]["data"]["printed_copies"]  # as hcr wrote it before the setting existed
    (tmp_path / STATE_FILE).write_text(json.dumps(saved))
    assert CompareState.open(tmp_path, TINY, data_config).saved["settings"]["data"]["datasets"] == ["az"]
    with pytest.raises(HcrError, match="other settings"):  # the setting at another value is another comparison
        CompareState.open(tmp_path, TINY, DataConfig(datasets=("az",), printed_copies=2))


@pytest.mark.slow
def test_compare_two_tiny_models_then_resume(shared_data, tmp_path):
    out = tmp_path / "compare"
    first = compare_models(TINY, ["baseline-cnn"], data_dir=shared_data, out_dir=out)
    (baseline_run,) = [row.run for row in first.leaderboard]

    # killed after baseline's last checkpoint but before it was scored: no metrics.json
    (out / "runs" / baseline_run.rsplit("/", 1)[-1] / "metrics.json").unlink()
    result = compare_models(TINY, ["baseline-cnn", "regularized-cnn"], data_dir=shared_data, out_dir=out)
    runs = sorted(path.name for path in (out / "runs").iterdir())
    assert len(runs) == 2  # baseline resumed in its own folder, regularized trained; nothing started twice
    assert {row.model: row.run for row in result.leaderboard}["baseline-cnn"] == baseline_run

    # the leaderboard: both models, best validation accuracy first, numbers from the runs themselves
    with (out / "leaderboard.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [row["model"] for row in rows] == [row.model for row in result.leaderboard]
    assert {row["model"] for row in rows} == {"baseline-cnn", "regularized-cnn"}
    for row in rows:
        metrics = json.loads((out / "runs" / row["run"].rsplit("/", 1)[-1] / "metrics.json").read_text())
        assert float(row["val_accuracy"]) == pytest.approx(metrics["val"]["accuracy"])
        assert float(row["test_accuracy"]) == pytest.approx(metrics["test"]["accuracy"])
    assert float(rows[0]["val_accuracy"]) >= float(rows[1]["val_accuracy"])
    assert "| 1 | " + rows[0]["model"] + " |" in (out / "leaderboard.md").read_text()

    # by default, trained the way the shipped model was: its case, bars as I, letters preprocessed as files are
    shipped = json.loads((Path(Predictor().path_).parent / "model.json").read_text())["data"]
    for row in rows:
        trained_with = json.loads((out / "runs" / row["run"].rsplit("/", 1)[-1] / "config.json").read_text())["data"]
        assert {key: trained_with[key] for key in DEPLOYABLE_SETTINGS} == {
            key: shipped[key] for key in DEPLOYABLE_SETTINGS
        }

    # every model is scored on test letters drawn as files, and the exported one is held against the shipped model
    assert all(0 <= float(row["files_accuracy"]) <= 1 for row in rows)  # a NaN would fail too
    assert "files acc" in (out / "leaderboard.md").read_text()
    verdict = re.search(r"the exported model reads ([\d.]+)% and the shipped model ([\d.]+)%", result.against_shipped)
    assert verdict, result.against_shipped
    assert verdict.group(0) in result.report_path.read_text()
    worse = float(verdict.group(1)) < float(verdict.group(2))
    assert ("WORSE than the shipped model" in result.against_shipped) == worse  # said plainly when it is worse

    # the report embeds every figure written: EDA and each model's evaluation
    figures = sorted(out.glob("eda/*.png")) + sorted(out.glob("runs/*/evaluation/*.png"))
    assert len(figures) == 4 + 2 * 4 + 1  # EDA, each model's evaluation, the exported best one's risk–coverage
    embedded = embedded_files(parse_images(result.report_path.read_text()))
    assert embedded == {path.read_bytes() for path in figures}

    # the best model by validation accuracy is exported, loads in the predictor and reads letters
    from hcr.data import load_datasets

    exported = json.loads((out / "best" / "model.json").read_text())
    assert exported["source_run"] == Path(rows[0]["run"]).name
    assert exported["model"] == rows[0]["model"]
    x = load_datasets((), shared_data).x[:8]
    probabilities = Predictor(result.best_model_path).predict_arrays(x)
    assert probabilities.shape == (8, 26)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    card = result.model_card_path.read_text()
    assert card.startswith(f"# Model card: `{rows[0]['model']}`")
    assert "## Limits" in card
    assert str(tmp_path) not in card  # the card ships beside the model: no folder of this machine in it

    # run again: finished models are neither retrained nor re-evaluated, and the winner's export is kept (model.json
    # names its run and best checkpoint, which have not changed)
    before = {path: path.stat().st_mtime_ns for path in out.glob("runs/*/**/*") if path.is_file()}
    exported_at = (out / "best" / "model.onnx").stat().st_mtime_ns
    again = compare_models(TINY, ["baseline-cnn", "regularized-cnn"], data_dir=shared_data, out_dir=out)
    after = {path: path.stat().st_mtime_ns for path in out.glob("runs/*/**/*") if path.is_file()}
    assert after == before
    assert (out / "best" / "model.onnx").stat().st_mtime_ns == exported_at
    assert [row.model for row in again.leaderboard] == [row.model for row in result.leaderboard]
    state = json.loads((out / STATE_FILE).read_text())
    assert set(state["models"]) == {"baseline-cnn", "regularized-cnn"}

    # resumed by a newer hcr, whose preprocessing differs: the winner is exported again, not refused (it stopped a
    # three-seed comparison at its last step)
    written = json.loads((out / "best" / "model.json").read_text())
    (out / "best" / "model.json").write_text(json.dumps({**written, "preprocess_version": PREPROCESS_VERSION - 1}))
    upgraded = compare_models(TINY, ["baseline-cnn", "regularized-cnn"], data_dir=shared_data, out_dir=out)
    assert json.loads((out / "best" / "model.json").read_text())["preprocess_version"] == PREPROCESS_VERSION
    assert Predictor(upgraded.best_model_path).classes_ == Predictor(result.best_model_path).classes_


@pytest.mark.slow
def test_compare_over_two_seeds_ranks_by_the_mean_and_resumes_a_seed(shared_data, tmp_path):
    import statistics

    out = tmp_path / "compare"
    models = ["baseline-cnn", "compact-cnn"]
    result = compare_models(TINY, models, ["az"], data_dir=shared_data, out_dir=out, seeds=(0, 1))

    # each model trained once per training seed, on one split (the data settings' seed)
    runs = {}
    for path in (out / "runs").iterdir():
        saved = json.loads((path / "config.json").read_text())
        assert saved["data"]["seed"] == 0
        metrics = json.loads((path / "metrics.json").read_text())
        runs[saved["train"]["model"], saved["train"]["seed"]] = (str(path), metrics["val"]["accuracy"])
    assert set(runs) == {(model, seed) for model in models for seed in (0, 1)}
    splits = {(path / "split.npz").read_bytes() for path in (out / "runs").iterdir()}
    assert len(splits) == 1

    # the leaderboard: mean ± sd over the seeds, ranked by the mean, the run of the best seed
    with (out / "leaderboard.csv").open() as f:
        rows = {row["model"]: row for row in csv.DictReader(f)}
    for model in models:
        vals = [runs[model, seed][1] for seed in (0, 1)]
        assert float(rows[model]["val_accuracy"]) == pytest.approx(statistics.mean(vals))
        assert float(rows[model]["val_accuracy_sd"]) == pytest.approx(statistics.stdev(vals))
        assert rows[model]["seeds"] == "2"
        assert rows[model]["run"] == runs[model, max((0, 1), key=lambda seed: runs[model, seed][1])][0]
    means = [row.val_accuracy for row in result.leaderboard]
    assert means == sorted(means, reverse=True)
    markdown = (out / "leaderboard.md").read_text()
    table = [line for line in markdown.splitlines() if line.startswith(("| 1 |", "| 2 |"))]
    assert [line.count(" ± ") for line in table] == [2, 2]  # val and test of each model
    assert "mean ± sd (n − 1) over the training seeds 0, 1" in markdown
    report = result.report_path.read_text()
    assert "seed 0" in report
    assert "seed 1" in report
    assert " ± " in report
    best = result.leaderboard[0]
    assert json.loads((out / "best" / "model.json").read_text())["source_run"] == Path(best.run).name

    # killed before one seed's run was scored: only that run resumes, in its own folder
    (Path(runs["compact-cnn", 1][0]) / "metrics.json").unlink()
    again = compare_models(TINY, models, ["az"], data_dir=shared_data, out_dir=out, seeds=(0, 1))
    assert len(list((out / "runs").iterdir())) == 4
    assert (Path(runs["compact-cnn", 1][0]) / "metrics.json").is_file()
    assert [row.model for row in again.leaderboard] == [row.model for row in result.leaderboard]
    state = json.loads((out / STATE_FILE).read_text())
    assert set(state["models"]["compact-cnn"]["seeds"]) == {"0", "1"}


@pytest.mark.parametrize(("seeds", "message"), [((), "at least one"), ((0, 0), "given twice"), ((-1,), "0..")])
def test_bad_seeds_are_refused_before_any_work(seeds, message, tmp_path):
    with pytest.raises(HcrError, match=message):
        compare_models(TINY, ["baseline-cnn"], out_dir=tmp_path / "out", seeds=seeds)
    assert not (tmp_path / "out").exists()


def test_cli_refuses_seeds_that_are_not_integers(tmp_path):
    from typer.testing import CliRunner

    from hcr.cli import app

    outcome = CliRunner().invoke(app, ["compare", "--seeds", "0,one", "--out", str(tmp_path / "out")])
    assert isinstance(outcome.exception, HcrError)
    assert "--seeds must be comma-separated integers" in str(outcome.exception)


@pytest.mark.slow
def test_a_tuned_model_is_searched_once_then_trained(shared_data, tmp_path):
    preset = Preset("tiny-tuned", per_class=20, epoch_scale=0.0, min_epochs=1, tuning={"cnn": (2, 1)}, trial_steps=2)
    out = tmp_path / "compare"
    first = compare_models(preset, ["tuned-cnn", "mobilenetv2-finetune"], data_dir=shared_data, out_dir=out,
                           weights=tmp_path / "missing.h5")  # fmt: skip
    assert "mobilenetv2-finetune" in first.skipped  # no weights file: skipped, the comparison goes on
    (row,) = first.leaderboard
    assert row.model == "tuned-cnn"
    assert row.tune_seconds > 0
    (study,) = (out / "tuning").glob("*-tune-cnn")
    best_params = json.loads((study / "best_params.json").read_text())
    config = json.loads((out / "runs" / row.run.rsplit("/", 1)[-1] / "config.json").read_text())
    assert config["train"]["tuning"]["best_params"] == str((study / "best_params.json").resolve())
    assert config["train"]["learning_rate"] == best_params["settings"]["learning_rate"]
    # the preset's trials see 2 batches an epoch; the chosen settings then train on all of the train part
    trials = [json.loads(path.read_text())["train"] for path in (study / "trials").glob("*/config.json")]
    assert [trial["max_steps_per_epoch"] for trial in trials] == [2, 2]
    assert config["train"]["max_steps_per_epoch"] is None
    assert "tuned-cnn" in first.report_path.read_text()

    again = compare_models(preset, ["tuned-cnn"], data_dir=shared_data, out_dir=out)
    assert [path.name for path in (out / "tuning").iterdir()] == [study.name]  # not searched again
    assert again.leaderboard[0].run == row.run


@pytest.mark.slow
def test_cli_reports_an_unknown_model_on_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "hcr", "compare", "--models", "baseline-cnn,no-such-model",
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 2
    assert "unknown model 'no-such-model'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_compare_trains_with_the_data_settings_of_a_deployable_model(shared_data, tmp_path):
    """Issue 14: compare trained on the datasets' arrays as stored while the shipped model is trained on capitals
    first, preprocessed as files are; given those data settings (e.g. the shipped recipe file), it trains with them."""
    from hcr.configs import DataConfig

    settings = DataConfig(case="upper", capitals=True, canonical=True, test_fraction=0.2)
    result = compare_models(TINY, ["baseline-cnn"], data_dir=shared_data, out_dir=tmp_path, data_settings=settings)
    (row,) = result.leaderboard
    trained_on = json.loads((tmp_path / "runs" / row.run.rsplit("/", 1)[-1] / "config.json").read_text())["data"]
    assert (trained_on["case"], trained_on["capitals"], trained_on["canonical"]) == ("upper", True, True)
    assert trained_on["test_fraction"] == 0.2
    assert trained_on["per_class"] == TINY.per_class  # the preset's sample, as they set none


@pytest.mark.parametrize(
    "command", [["compare", "--models", "baseline-cnn"], ["tune", "--space", "cnn", "--trials", "1"]]
)
def test_compare_and_tune_read_the_data_settings_of_a_config_file(command, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[train]\nmodel = 'compact-cnn'\n[data]\ncase = 'lower'\n")
    from typer.testing import CliRunner

    from hcr.cli import app

    outcome = CliRunner().invoke(app, [*command, "--config", str(recipe), "--out" if command[0] == "compare" else
                                       "--runs-dir", str(tmp_path / "out")])  # fmt: skip
    assert isinstance(outcome.exception, HcrError), outcome.output
    assert str(outcome.exception).startswith(f"{recipe} [data]: case must be fold or upper")
    assert "[train] section is for hcr train" in outcome.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("options", "expected"),
    [([], None), (["--as-stored", "--no-capitals"], (False, False)), (["--canonical", "--capitals"], (True, True))],
)
def test_the_command_line_takes_the_shipped_models_data_settings_unless_told_otherwise(
    options, expected, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    import hcr.pipelines.compare as pipeline
    from hcr.cli import app

    given = []

    def stop(*args, data_settings, **kwargs):
        given.append(data_settings)
        raise HcrError("stopped before training")

    monkeypatch.setattr(pipeline, "compare_models", stop)
    CliRunner().invoke(app, ["compare", "--models", "baseline-cnn", "--out", str(tmp_path), *options])
    (settings,) = given
    shipped = pipeline.deployable_data_settings()
    assert settings.case == shipped["case"]
    assert (settings.canonical, settings.capitals) == (expected or (shipped["canonical"], shipped["capitals"]))
