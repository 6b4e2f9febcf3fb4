"""Where a tuned-* model's defaults come from: the best settings a study found, as `hcr tune` saved them.

    hcr tune --model cnn --trials 30     # → runs/<utc>-tune-cnn/best_params.json
    hcr train --model tuned-cnn          # trains with the newest runs/*-tune-cnn/best_params.json

A tuned model is the same builder as its base model, so the file holds settings (TrainConfig fields, the
builder's keyword arguments under "hparams"), never code; reading it needs neither Optuna nor the search space.
"""

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

from hcr.errors import DataError, HcrError
from hcr.training.config import TrainConfig

BEST_PARAMS_NAME = "best_params.json"


def tuning_run_name(search: str) -> str:
    """The name part of a tuning folder, runs/<utc-stamp>-tune-<search>/ (hcr.runs adds the stamp)."""
    return f"tune-{search}"


def find_best_params(model: str, search: str, runs_dir: Path) -> Path:
    """The best_params.json of the newest finished `hcr tune --model <search>` run in `runs_dir`."""
    # <yyyymmdd>-<hhmmss>-tune-<search>, with a -<n> suffix when several started in the same second
    pattern = re.compile(rf"(?P<stamp>\d{{8}}-\d{{6}})-{re.escape(tuning_run_name(search))}(-(?P<n>\d+))?")
    found = {}
    for path in runs_dir.glob(f"*/{BEST_PARAMS_NAME}"):
        if match := pattern.fullmatch(path.parent.name):
            found[(match["stamp"], int(match["n"] or 1))] = path
    if not found:
        raise HcrError(
            f"{model} takes its settings from a finished `hcr tune --model {search}` run, and {runs_dir} holds none "
            f"(no */{BEST_PARAMS_NAME} in a *-{tuning_run_name(search)} folder): tune first, or point --runs-dir "
            "at the folder that holds the tuning run"
        )
    return found[max(found)]


def tuned_settings(model: str, path: Path) -> dict[str, Any]:
    """TrainConfig overrides from a best_params.json, with a `tuning` record of the study and trial they came from."""
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(path, "best-parameters file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(path, f"not a readable best-parameters file ({e})") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("settings"), dict):
        raise DataError(path, "not a best-parameters file written by `hcr tune` (no 'settings')")
    if saved.get("model") != model:
        raise DataError(path, f"holds the best settings for {saved.get('model')}, not {model}")
    settings = saved["settings"]
    unknown = set(settings) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise DataError(path, f"unknown training settings: {', '.join(sorted(unknown))}")
    origin = {key: saved.get(key) for key in ("study", "storage", "trial", "val_accuracy")}
    return {**settings, "tuning": {**origin, "best_params": str(path.resolve())}}
