"""Several `hcr tune` processes sharing one study in a real PostgreSQL server (tests/tuning/conftest.py starts it):
together they finish exactly the requested trials, and a worker killed mid-trial does not stop the others."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

PER_CLASS = 15
HEARTBEAT_S = 1  # a killed worker's trial is stale after 2 s


def start_worker(shared_data: Path, url: str, n_trials: int, folder: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "hcr", "tune", "--space", "cnn", "--trials", str(n_trials), "--epochs", "1",
               "--storage", url, "--study", "shared", "--no-retrain", "--heartbeat", str(HEARTBEAT_S),
               "--data-dir", str(shared_data), "--per-class", str(PER_CLASS),
               "--runs-dir", str(folder / "runs")]  # fmt: skip
    folder.mkdir(parents=True)
    log = (folder / "output.txt").open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def finish(worker: subprocess.Popen, folder: Path, timeout: float = 300) -> str:
    try:
        worker.wait(timeout=timeout)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    output = (folder / "output.txt").read_text()
    assert worker.returncode == 0, output
    return output


def trials_of(url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="shared", storage=url).get_trials(deepcopy=False)


def counted(trials: list[optuna.trial.FrozenTrial]) -> int:
    return sum(trial.state in (TrialState.COMPLETE, TrialState.PRUNED) for trial in trials)


def assert_every_failure_explained(trials, killed: set[int] = frozenset()) -> None:
    """A FAILED trial is either the one whose worker was killed, or one that stepped back from a full study."""
    for trial in trials:
        if trial.state == TrialState.FAIL:
            assert trial.number in killed or "not_run" in trial.user_attrs, trial


@pytest.mark.slow
def test_two_workers_finish_exactly_the_requested_trials_together(postgres_server, shared_data, tmp_path):
    url = postgres_server().replace("hcr@", "hcr:s3cret@")  # the server trusts 127.0.0.1; the password is a decoy
    n_trials = 4
    folders = [tmp_path / "a", tmp_path / "b"]
    workers = [start_worker(shared_data, url, n_trials, folder) for folder in folders]
    outputs = [finish(worker, folder) for worker, folder in zip(workers, folders, strict=True)]

    trials = trials_of(url)
    assert counted(trials) == n_trials
    assert not [trial for trial in trials if trial.state in (TrialState.RUNNING, TrialState.WAITING)]
    assert_every_failure_explained(trials)
    ran = {trial.user_attrs["worker"] for trial in trials if trial.state == TrialState.COMPLETE}
    assert len(ran) == 2, "both workers should have run trials of the shared study"
    for folder, output in zip(folders, outputs, strict=True):
        assert f": {n_trials} complete" in output  # the summary each worker prints at the end
        (tuning_dir,) = (folder / "runs").glob("*-tune-cnn")
        rows = (tuning_dir / "trials.csv").read_text().splitlines()[1:]
        assert len(rows) == len(trials)  # each worker's table is the whole study's
        for path in (folder / "runs").rglob("*"):  # run folders get shared: no file may hold the password
            if path.suffix in (".json", ".txt", ".csv"):
                assert "s3cret" not in path.read_text(), path
        assert "hcr:***@127.0.0.1" in (tuning_dir / "best_params.json").read_text()


@pytest.mark.slow
def test_a_worker_killed_mid_trial_leaves_a_failed_trial_and_the_other_finishes(postgres_server, shared_data, tmp_path):
    """The victim is killed in its first trial, then the survivor joins: started together, a slow-starting survivor
    could find the study already filled by the victim (a CI run under load did), and nothing would be tested."""
    url = postgres_server()
    n_trials = 4
    victim = start_worker(shared_data, url, n_trials, tmp_path / "victim")
    killed_trial = None
    deadline = time.monotonic() + 240
    try:
        while killed_trial is None and time.monotonic() < deadline and victim.poll() is None:
            trials = trials_of(url) if _study_exists(url) else []
            running = [trial for trial in trials if trial.state == TrialState.RUNNING]
            if running:
                os.killpg(victim.pid, signal.SIGKILL)  # mid-trial: no chance to tell the study anything
                killed_trial = running[0].number
            else:
                time.sleep(0.05)
    finally:
        if victim.poll() is None and killed_trial is None:
            os.killpg(victim.pid, signal.SIGKILL)
    assert killed_trial is not None, (tmp_path / "victim" / "output.txt").read_text()
    survivor = start_worker(shared_data, url, n_trials, tmp_path / "survivor")
    victim.wait()
    output = finish(survivor, tmp_path / "survivor")

    trials = trials_of(url)
    by_number = {trial.number: trial for trial in trials}
    assert by_number[killed_trial].state == TrialState.FAIL  # its heartbeat stopped, so it was marked failed
    assert counted(trials) == n_trials  # and the survivor ran a trial in its place
    assert not [trial for trial in trials if trial.state == TrialState.RUNNING]
    assert_every_failure_explained(trials, killed={killed_trial})
    assert f": {n_trials} complete" in output  # the summary the survivor prints at the end


def _study_exists(url: str) -> bool:
    try:
        return "shared" in optuna.study.get_all_study_names(url)
    except Exception:  # the first worker is still creating the schema
        return False
