"""A run folder describes itself: what was trained on what, how it went, and the model it produced.

    runs/<utc-stamp>-<model>/
        config.json  env.json  command.txt  split.npz  history.csv  metrics.json
        checkpoints/best.keras  checkpoints/last.keras  checkpoints/state.json
Every file is written atomically (temporary name, then rename), so a crash never leaves half a file.
"""

import json
import platform
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from hcr import __version__
from hcr.atomic import write_text_atomic
from hcr.errors import HcrError

URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*:)\S+@")  # scheme://user:PASSWORD@host
VERSIONED_PACKAGES = ("keras", "tensorflow-cpu", "tensorflow", "numpy", "scikit-learn", "polars", "pillow")


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
            raise HcrError(f"{path}: not a run folder (no config.json)")
        return run

    config_path = property(lambda self: self.path / "config.json")
    env_path = property(lambda self: self.path / "env.json")
    command_path = property(lambda self: self.path / "command.txt")
    split_path = property(lambda self: self.path / "split.npz")
    history_path = property(lambda self: self.path / "history.csv")
    metrics_path = property(lambda self: self.path / "metrics.json")
    best_model_path = property(lambda self: self.path / "checkpoints" / "best.keras")
    last_model_path = property(lambda self: self.path / "checkpoints" / "last.keras")
    state_path = property(lambda self: self.path / "checkpoints" / "state.json")

    def write_json(self, path: Path, obj: Any) -> None:
        write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")

    def read_json(self, path: Path) -> Any:
        return json.loads(path.read_text())

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
        self.write_json(
            self.env_path,
            {"hcr": __version__, "python": platform.python_version(), "platform": platform.platform(), **versions},
        )
