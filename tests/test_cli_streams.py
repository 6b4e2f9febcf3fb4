"""Results and listings go to stdout, progress and logs to stderr, for every command family — so `hcr models | grep
cnn` works and a script can read a command's result — and no command prints TensorFlow's start-up chatter."""

import json
import re
import shutil
import subprocess
import sys
import time

import pytest

TF_CHATTER = re.compile(r"oneDNN|absl|cpu_feature_guard|^[IW]\d{4} ", re.MULTILINE)


def _hcr(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=timeout)


def _without_tensorflow(*args: str) -> subprocess.CompletedProcess:
    """`hcr ARGS` in a process that reports on stderr whether it imported TensorFlow or Keras."""
    code = (
        "import sys\nfrom hcr.cli import main\nsys.argv = ['hcr', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print(f'exit={code} heavy={heavy}', file=sys.stderr)\n"
    )
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_version_goes_to_stdout():
    from hcr import __version__

    result = _hcr("--version", timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"hcr {__version__}"


def test_models_are_listed_on_stdout_without_tensorflow():
    from hcr.models import list_models

    started = time.perf_counter()
    result = _without_tensorflow("models")
    seconds = time.perf_counter() - started
    assert "exit=0 heavy=[]" in result.stderr, result.stderr
    listed = [name for name in list_models() if re.search(rf"^\W*{re.escape(name)}\b", result.stdout, re.MULTILINE)]
    assert listed == list_models()
    assert seconds < 5, f"`hcr models` took {seconds:.1f} s"


def test_an_unknown_model_is_refused_without_tensorflow():
    result = _without_tensorflow("train", "--model", "resnet")
    assert "exit=2 heavy=[]" in result.stderr, result.stderr
    assert "unknown model 'resnet'; available: baseline-cnn" in result.stderr
    assert result.stdout == ""


@pytest.mark.slow
def test_train_prints_its_result_on_stdout_and_epochs_on_stderr(shared_data, tmp_path):
    result = _hcr("train", "--model", "baseline-cnn", "--data-dir", str(shared_data), "--per-class", "10",
                  "--epochs", "1", "--runs-dir", str(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    (run,) = tmp_path.iterdir()
    lines = result.stdout.splitlines()
    assert lines[0] == f"run folder: {run}"
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"validation accuracy {metrics['val']['accuracy']:.4f}" in lines[1]
    assert "epoch 1/1" in result.stderr
    assert not TF_CHATTER.search(result.stderr), result.stderr


@pytest.mark.slow
def test_a_training_error_is_the_only_line_on_stderr(tmp_path):
    """The data dir is checked after TensorFlow has loaded: nothing of TensorFlow's comes before the error."""
    result = _hcr("train", "--model", "baseline-cnn", "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")


@pytest.mark.slow
def test_evaluate_and_export_print_their_results_on_stdout(interrupted_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(interrupted_run, run)
    evaluated = _hcr("evaluate", str(run))
    assert evaluated.returncode == 0, evaluated.stderr
    summary = json.loads((run / "evaluation" / "evaluation.json").read_text())
    assert f"{summary['accuracy']:.2%} of {summary['n']:,} images" in evaluated.stdout
    assert "macro P / R / F1" in evaluated.stdout
    assert not TF_CHATTER.search(evaluated.stderr), evaluated.stderr
    exported = _hcr("export", str(run), "--out", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    assert f"wrote {tmp_path / 'out' / 'model.onnx'}" in " ".join(exported.stdout.split())
    assert "max |Δp|" in exported.stdout
    assert not TF_CHATTER.search(exported.stderr), exported.stderr


@pytest.mark.slow
def test_inspect_prints_its_counts_on_stdout(shared_data, tmp_path):
    result = _hcr("data", "inspect", "--data-dir", str(shared_data), "--per-class", "10", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "Images per letter" in result.stdout
    sources = "az, emnist-letters, emnist-byclass, emnist-bymerge, nist-sd19"
    assert f"{summary['n_images']:,} images from {sources}" in " ".join(result.stdout.split())


@pytest.mark.slow
def test_tune_prints_its_result_on_stdout(shared_data, tmp_path):
    from typer.testing import CliRunner

    from hcr.cli import app

    outcome = CliRunner().invoke(app, ["tune", "--space", "cnn", "--trials", "1", "--epochs", "1", "--no-retrain",
                                       "--data-dir", str(shared_data), "--per-class", "10",
                                       "--runs-dir", str(tmp_path)])  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    (folder,) = tmp_path.glob("*-tune-cnn")
    assert f"tuning folder: {folder}" in outcome.stdout
    assert "Best trial #0" in outcome.stdout


@pytest.mark.slow
def test_compare_prints_its_leaderboard_on_stdout(shared_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from hcr.cli import app
    from hcr.pipelines.compare import PRESETS, Preset

    monkeypatch.setitem(PRESETS, "quick", Preset("tiny", per_class=10, epoch_scale=0.0, min_epochs=1))
    outcome = CliRunner().invoke(app, ["compare", "--models", "baseline-cnn", "--data-dir", str(shared_data),
                                       "--out", str(tmp_path / "compare")])  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert re.search(r"^\s*1\s+baseline-cnn\s", outcome.stdout, re.MULTILINE), outcome.stdout
    assert f"report: {tmp_path / 'compare' / 'report.html'}" in outcome.stdout


def test_an_unresolvable_host_is_named(tmp_path):
    result = _hcr("serve", "--host", "no-such-host.invalid", "--port", "0", timeout=120)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "cannot resolve host 'no-such-host.invalid'" in line
    assert "Unknown error" not in line
