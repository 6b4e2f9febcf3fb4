"""A run folder describes itself: what was trained on what, how it went, and the model it produced.

    runs/<utc-stamp>-<model>/
        config.json  env.json  command.txt  split.npz  history.csv  metrics.json  run.lock
        checkpoints/best.keras  checkpoints/last-NNNN.keras  checkpoints/state.json
    runs/<utc-stamp>-tune-<search>/   (hcr tune)
        tuning.json  study.db  trials/  trials.csv  best_params.json  *.png
Every file is written atomically (temporary name, then rename), so a crash never leaves half a file. Every file is
read through this class too, so a missing, truncated or foreign file is reported as bad input naming the file
(DataError, exit 2), whichever command reads it, instead of a format library's exception (exit 1).
"""

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hcr import __version__
from hcr.atomic import write_text_atomic
from hcr.configs import DataConfig, TrainConfig
from hcr.errors import DataError, HcrError

if TYPE_CHECKING:
    import keras


URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*:)\S+@")  # scheme://user:PASSWORD@host
VERSIONED_PACKAGES = ("keras", "tensorflow-cpu", "tensorflow", "numpy", "scikit-learn", "polars", "pillow")
CHECKPOINT_NAME = re.compile(r"last-\d{4}\.keras")
# what reading a damaged .keras, .npz or .csv raises, besides OSError: the formats' own errors
FORMAT_ERRORS = (ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError, csv.Error)


# in a tuning folder: what was searched on which data (hcr.tuning.study), the best settings found (hcr.tuning.outputs)
TUNING_NAME = "tuning.json"
BEST_PARAMS_NAME = "best_params.json"


def tuning_run_name(search: str) -> str:
    """The name part of a tuning folder, runs/<utc-stamp>-tune-<search>/ (make_stamped_dir adds the stamp)."""
    return f"tune-{search}"


def make_stamped_dir(runs_dir: Path, name: str) -> Path:
    """A new folder runs_dir/<utc-stamp>-<name>[-<n>]; safe when several processes start in the same second."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path, suffix = runs_dir / f"{stamp}-{name}", 1
    while True:
        try:
            path.mkdir()
            return path
        except FileExistsError:
            suffix += 1
            path = runs_dir / f"{stamp}-{name}-{suffix}"


def write_json(path: Path, obj: Any) -> None:
    """One of hcr's own JSON files (a run's, a tuning or comparison folder's), written atomically."""
    write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


def read_json(path: Path) -> Any:
    """One of hcr's own JSON files; a missing or damaged one is bad input naming it (DataError)."""
    with reading(path, "JSON file"):
        return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RunConfig:
    """config.json, checked: the settings as configs (so a hand-edited NaN is refused too), and the file as saved."""

    train: TrainConfig
    data: DataConfig
    sources: list[str]
    saved: dict[str, Any]


@dataclass(frozen=True)
class RunDir:
    path: Path

    @classmethod
    def create(cls, runs_dir: Path, model_name: str) -> "RunDir":
        path = make_stamped_dir(runs_dir, model_name)
        (path / "checkpoints").mkdir()
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> "RunDir":
        run = cls(path)
        if not run.config_path.is_file():
            why = "no config.json" if Path(path).is_dir() else "no such folder"
            raise HcrError(f"{path}: not a run folder ({why})")
        return run

    config_path = property(lambda self: self.path / "config.json")
    env_path = property(lambda self: self.path / "env.json")
    command_path = property(lambda self: self.path / "command.txt")
    split_path = property(lambda self: self.path / "split.npz")
    history_path = property(lambda self: self.path / "history.csv")
    metrics_path = property(lambda self: self.path / "metrics.json")
    lock_path = property(lambda self: self.path / "run.lock")
    best_model_path = property(lambda self: self.path / "checkpoints" / "best.keras")
    last_model_path = property(lambda self: self.path / "checkpoints" / "last.keras")
    state_path = property(lambda self: self.path / "checkpoints" / "state.json")

    # any JSON file of the run (module functions below: tuning and comparison folders use them too)
    write_json = staticmethod(write_json)
    read_json = staticmethod(read_json)

    def read_config(self) -> RunConfig:
        saved = self.read_json(self.config_path)
        try:
            train = TrainConfig(**saved["train"])
            data = DataConfig.from_dict(saved["data"])
            sources = list(saved["sources"])
        except HcrError as e:
            raise DataError(self.config_path, str(e)) from None
        except (KeyError, TypeError) as e:
            raise DataError(self.config_path, f"not the config.json of an hcr run ({type(e).__name__}: {e})") from None
        return RunConfig(train, data, sources, saved)

    def identity(self) -> dict[str, str]:
        """Which run an exported model came from, as its model.json records it: the folder's name, and the digest of
        the best checkpoint, which tells this run's export from another's (or from this run's before it trained on)
        wherever the folders lie. No path: model.json ships with hcr and leaves the machine that built it."""
        with reading(self.best_model_path, "Keras model file"):
            digest = hashlib.sha256(self.best_model_path.read_bytes()).hexdigest()
        return {"source_run": self.path.name, "source_checkpoint_sha256": digest}

    def exported(self, metadata: dict[str, Any]) -> bool:
        """Whether an exported model's metadata (model.json) says it is this run's best checkpoint as it is now."""
        return all(metadata.get(key) == value for key, value in self.identity().items())

    def read_state(self) -> dict[str, Any]:
        """state.json: how many epochs the last checkpoint holds, and the counters to resume with."""
        state = self.read_json(self.state_path)
        valid = (
            isinstance(state, dict)
            and isinstance(state.get("epochs_done"), int)
            and state["epochs_done"] >= 1
            and isinstance(state.get("best_val_accuracy"), int | float)
            and CHECKPOINT_NAME.fullmatch(str(state.get("last_model")))
            and isinstance(state.get("callbacks"), dict)
        )
        if not valid:
            raise DataError(self.state_path, "not the checkpoint state of an hcr run")
        return state

    def read_history(self, epochs_done: int | None = None) -> list[dict[str, float]]:
        """history.csv, one row per epoch (epoch as an int). With `epochs_done`: exactly the rows of epochs
        1..epochs_done, as a checkpoint needs them (a later row may exist if the process died between the writes);
        a history that lacks any of them is damaged."""
        if epochs_done == 0 and not self.history_path.exists():
            return []
        with reading(self.history_path, "history"):
            with self.history_path.open(encoding="utf-8", newline="") as f:
                rows = [
                    {k: int(float(v)) if k == "epoch" else float(v) for k, v in row.items() if v not in ("", None)}
                    for row in csv.DictReader(f)
                ]
            if not all("epoch" in row for row in rows):
                raise ValueError("a row without an epoch")
        if epochs_done is None:
            return rows
        kept = [row for row in rows if row["epoch"] <= epochs_done]
        if [row["epoch"] for row in kept] != list(range(1, epochs_done + 1)):
            raise DataError(self.history_path, f"does not hold one row for each of the {epochs_done} epochs done")
        return kept

    def write_history(self, rows: list[dict[str, float]]) -> None:
        """history.csv, one row per epoch, every metric a column: what read_history reads back."""
        columns = list(dict.fromkeys(key for row in rows for key in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(self.history_path, buffer.getvalue())

    def load_model(self, path: Path) -> "keras.Model":
        """A checkpoint of this run. Keras reports any unreadable .keras file as 'File not found'; here a missing
        file and a damaged one are told apart, and both name the file."""
        import keras

        with reading(self.checked_checkpoint(path), "Keras model file"):
            return keras.models.load_model(path)

    def checked_checkpoint(self, path: Path) -> Path:
        """`path`, if it is there and a whole .keras archive: what `load_model` checks first, cheap enough to check
        before spending a minute loading a run's data."""
        if not path.is_file():
            raise DataError(path, "missing (the run folder is incomplete)")
        if not zipfile.is_zipfile(path):
            raise DataError(path, "not a Keras model file (damaged or truncated)")
        return path

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """Hold the run folder for this process while it trains. The lock is advisory (flock on run.lock) and the
        kernel drops it when the process ends, however it ends, so a killed run is never left locked; a second
        process is refused with the holder's PID instead of training beside it and deleting its checkpoints."""
        with self.lock_path.open("a+", encoding="utf-8") as lock:  # a+: never truncate a file someone else holds
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "unknown"
                raise HcrError(f"{self.path}: run is in use by PID {holder}") from None
            lock.truncate(0)
            lock.write(f"{os.getpid()}\n")
            lock.flush()
            try:
                yield
            finally:
                lock.truncate(0)

    @contextlib.contextmanager
    def removed_unless_trained(self) -> Iterator[None]:
        """For a new run: if anything fails before the first epoch is checkpointed (a junk weights file, a diverging
        loss, Ctrl-C), remove the folder — it holds nothing to resume or evaluate, only a trap for `--resume`."""
        try:
            yield
        except BaseException:
            if not self.state_path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
            raise

    def write_provenance(self) -> None:
        """The command line (passwords in URLs masked: run folders get shared) and the versions of everything
        that shaped the result."""
        write_text_atomic(self.command_path, URL_PASSWORD.sub(r"\1***@", " ".join(sys.argv)) + "\n")
        versions = {}
        for package in VERSIONED_PACKAGES:
            try:
                versions[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                continue
        commit = {"git_commit": commit} if (commit := source_commit()) else {}
        self.write_json(
            self.env_path,
            {"hcr": __version__, **commit, "python": platform.python_version(), "platform": platform.platform(),
             **versions},
        )  # fmt: skip


def source_commit() -> str | None:
    """The git commit hcr's source was checked out at (with "-dirty" if it has uncommitted changes), when hcr runs
    from a git checkout: a version number alone does not say which code trained a run during development."""
    source = Path(__file__).parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):  # no git, not a checkout (an installed wheel), or a slow disk
        return None
    return f"{commit}-dirty" if changed else commit


@contextlib.contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Turn what reading `path` can raise into a DataError naming it: missing, unreadable, or not the format."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(path, "missing (the run folder is incomplete)") from None
    except OSError as e:
        raise DataError(path, e.strerror or str(e)) from None
    except FORMAT_ERRORS as e:  # JSONDecodeError is a ValueError
        detail = " ".join(str(e).split())  # one line, however the library wrapped it
        raise DataError(path, f"not a readable {what} ({type(e).__name__}: {detail[:200]})") from None
