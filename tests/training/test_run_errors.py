"""The exit-code contract on damaged run folders and bad paths: every case is bad input (exit 2), reported on one
line that names the file or setting at fault, never a traceback or an 'internal error' (exit 1).

Each case damages a copy of a real interrupted run (tests/conftest.py: interrupted_run) and runs the real CLI."""

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _junk(path: Path) -> None:
    path.write_bytes(b"this is not what hcr wrote\n")


def _remove(path: Path) -> None:
    path.unlink()


def _edit_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        saved = json.loads(path.read_text())
        change(saved)
        path.write_text(json.dumps(saved))

    return edit


CONFIG, STATE, SPLIT, HISTORY = "config.json", "checkpoints/state.json", "split.npz", "history.csv"
LAST, BEST, METRICS = "checkpoints/last-0001.keras", "checkpoints/best.keras", "metrics.json"

# case → (the file damaged, how[, the file the message must name, if not that one])
RESUME_CASES = {
    "config-truncated": (CONFIG, _truncate),
    "config-junk": (CONFIG, _junk),
    "config-not-an-object": (CONFIG, lambda path: path.write_text("[1, 2]")),
    "config-without-train": (CONFIG, _edit_json(lambda saved: saved.pop("train"))),
    "config-unknown-setting": (CONFIG, _edit_json(lambda saved: saved["train"].update(optimiser="sgd"))),
    "config-nan-learning-rate": (CONFIG, _edit_json(lambda saved: saved["train"].update(learning_rate=float("nan")))),
    "state-truncated": (STATE, _truncate),
    "state-junk": (STATE, _junk),
    "state-empty-object": (STATE, lambda path: path.write_text("{}")),
    "state-names-a-missing-checkpoint": (
        STATE,
        _edit_json(lambda saved: saved.update(last_model="last-0009.keras")),
        "checkpoints/last-0009.keras",
    ),
    "checkpoint-missing": (LAST, _remove),
    "checkpoint-truncated": (LAST, _truncate),
    "checkpoint-junk": (LAST, _junk),
    "split-missing": (SPLIT, _remove),
    "split-truncated": (SPLIT, _truncate),
    "split-junk": (SPLIT, _junk),
    "history-missing": (HISTORY, _remove),
    "history-junk": (HISTORY, lambda path: path.write_text("epoch,loss\n1,lots\n")),
    "history-short": (HISTORY, lambda path: path.write_text(path.read_text().splitlines()[0] + "\n")),
}
EVALUATE_CASES = {
    "evaluate-best-truncated": (BEST, _truncate),
    "evaluate-best-junk": (BEST, _junk),
    "evaluate-config-junk": (CONFIG, _junk),
    "evaluate-split-junk": (SPLIT, _junk),
    "evaluate-history-junk": (HISTORY, lambda path: path.write_text("epoch,loss\n1,lots\n")),
}
EXPORT_CASES = {
    "export-best-truncated": (BEST, _truncate),
    "export-best-junk": (BEST, _junk),
    "export-split-truncated": (SPLIT, _truncate),
}


def _hcr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=300)


def _assert_one_line_error(result: subprocess.CompletedProcess, names: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    # one line, and nothing before it: every file and path is checked before the data is loaded, so a bad one is
    # reported in a second, not after a minute of loading the pool
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert names in line, line


@pytest.fixture
def run_copy(interrupted_run, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(interrupted_run, run)
    return run


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_resuming_a_damaged_run_is_bad_input_naming_the_file(case, run_copy):
    relative, damage, *named = RESUME_CASES[case]
    damage(run_copy / relative)
    _assert_one_line_error(_hcr("train", "--resume", str(run_copy)), str(run_copy / (named or [relative])[0]))


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(EVALUATE_CASES))
def test_evaluating_a_damaged_run_is_bad_input_naming_the_file(case, run_copy):
    relative, damage = EVALUATE_CASES[case]
    damage(run_copy / relative)
    _assert_one_line_error(_hcr("evaluate", str(run_copy)), str(run_copy / relative))


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(EXPORT_CASES))
def test_exporting_a_damaged_run_is_bad_input_naming_the_file(case, run_copy, tmp_path):
    relative, damage = EXPORT_CASES[case]
    damage(run_copy / relative)
    _assert_one_line_error(_hcr("export", str(run_copy), "--out", str(tmp_path / "out")), str(run_copy / relative))


@pytest.mark.slow
@pytest.mark.parametrize("where", ["a-file", "below-a-file", "read-only"])
def test_an_output_folder_that_cannot_be_made_is_bad_input(where, run_copy, tmp_path, shared_data):
    """`--out`/`--runs-dir` that is a file, lies below one, or is on a file system that refuses it (/sys refuses
    new folders even to root, where permission bits would not)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    out = {"a-file": a_file, "below-a-file": a_file / "out", "read-only": Path("/sys/hcr-test-out")}[where]
    _assert_one_line_error(_hcr("export", str(run_copy), "--out", str(out)), str(out))
    train = _hcr("train", "--model", "baseline-cnn", "--data-dir", str(shared_data), "--per-class", "10",
                 "--epochs", "1", "--runs-dir", str(out))  # fmt: skip
    _assert_one_line_error(train, str(out))
    compare = _hcr("compare", "--models", "baseline-cnn", "--data-dir", str(shared_data), "--out", str(out))
    _assert_one_line_error(compare, str(out))


@pytest.mark.slow
def test_a_damaged_comparison_state_is_bad_input_naming_it(shared_data, tmp_path):
    (tmp_path / "compare_state.json").write_text('{"settings": ')
    result = _hcr("compare", "--models", "baseline-cnn", "--data-dir", str(shared_data), "--out", str(tmp_path))
    _assert_one_line_error(result, str(tmp_path / "compare_state.json"))
