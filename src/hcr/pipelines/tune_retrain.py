"""Tune, then retrain: a study's best settings found on disk and trained as a tuned-* model.

    hcr tune --space cnn --trials 30     # → runs/<utc>-tune-cnn/best_params.json, then a tuned-cnn run
    hcr train --model tuned-cnn          # trains with the newest runs/*-tune-cnn/best_params.json

Tuning (hcr.tuning) searches and writes best_params.json; training (hcr.training) trains a config it is given.
Neither knows the other's folders: finding a study's output and turning it into a training config happens here,
above both. A tuned model is the same builder as its base model, so the file holds settings (TrainConfig fields,
the builder's keyword arguments under "hparams"), never code; reading it needs neither Optuna nor the search space.
"""

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hcr.configs import DataConfig, TrainConfig, at_least, optional
from hcr.errors import DataError, HcrError
from hcr.models import get_model_entry
from hcr.runs import BEST_PARAMS_NAME, TUNING_NAME, read_json, tuning_run_name, write_json
from hcr.training.config import resolve_config as resolve_base_config

if TYPE_CHECKING:
    from hcr.training.fit import TrainResult
    from hcr.tuning import TuneConfig, TuneResult


@dataclass(frozen=True)
class TunedAndRetrained:
    tuning: "TuneResult"
    retrained: "TrainResult | None"  # None when asked not to retrain


def tune_then_retrain(
    config: "TuneConfig",
    data_config: DataConfig,
    runs_dir: Path,
    *,
    retrain: bool = True,
    final_epochs: int | None = None,
) -> TunedAndRetrained:
    """Search (hcr.tuning.tune), then train the best settings as a normal run of the tuned model in `runs_dir`,
    for at most `final_epochs` (default: the tuned model's recipe); the tuning folder records the retrained run."""
    import keras

    from hcr.training.fit import train
    from hcr.tuning import get_space, tune

    acceptable, accepted = optional(at_least(1))
    if not acceptable(final_epochs):  # said before the search, not after it
        raise HcrError(f"final_epochs must be {accepted}, got {final_epochs!r}")
    result = tune(config, data_config, runs_dir)
    if not retrain:
        return TunedAndRetrained(result, None)
    keras.utils.clear_session()  # the trials' models are done with
    best_params = result.tuning_dir / BEST_PARAMS_NAME
    final = resolve_config(get_space(config.search).tuned_model, tuned_params=best_params, epochs=final_epochs,
                           seed=config.seed, weights=config.weights)  # fmt: skip
    retrained = train(final, data_config, runs_dir)
    record_path = result.tuning_dir / TUNING_NAME
    record = read_json(record_path)
    record["result"]["retrained_run"] = str(retrained.run.path)
    write_json(record_path, record)
    return TunedAndRetrained(result, retrained)


def resolve_config(
    model: str, *, runs_dir: Path = Path("runs"), tuned_params: Path | None = None, **overrides: Any
) -> TrainConfig:
    """hcr.training.config.resolve_config for any model; a tuned-* model's settings come from `tuned_params` (a
    best_params.json), else from the newest tuning run in `runs_dir`."""
    entry = get_model_entry(model)
    if not entry.tuned_from:
        return resolve_base_config(model, **overrides)
    best_params = tuned_params or find_best_params(model, entry.tuned_from, runs_dir)
    return resolve_base_config(model, tuned=tuned_settings(model, best_params), **overrides)


def find_best_params(model: str, search: str, runs_dir: Path) -> Path:
    """The best_params.json of the newest finished `hcr tune --space <search>` run in `runs_dir`."""
    # <yyyymmdd>-<hhmmss>-tune-<search>, with a -<n> suffix when several started in the same second
    pattern = re.compile(rf"(?P<stamp>\d{{8}}-\d{{6}})-{re.escape(tuning_run_name(search))}(-(?P<n>\d+))?")
    found = {}
    for path in runs_dir.glob(f"*/{BEST_PARAMS_NAME}"):
        if match := pattern.fullmatch(path.parent.name):
            found[(match["stamp"], int(match["n"] or 1))] = path
    if not found:
        raise HcrError(
            f"{model} takes its settings from a finished `hcr tune --space {search}` run, and {runs_dir} holds none "
            f"(no */{BEST_PARAMS_NAME} in a *-{tuning_run_name(search)} folder): tune first, or point --runs-dir "
            "at the folder that holds the tuning run"
        )
    return found[max(found)]


def interrupted_study(search: str, tuning_dir: Path) -> dict[str, Any]:
    """The tuning.json of the newest search for `search` in `tuning_dir` that has no best_params.json yet (to join
    and finish it), or {} if there is none."""
    interrupted = sorted(
        path for path in tuning_dir.glob(f"*-{tuning_run_name(search)}*/{TUNING_NAME}")
        if not (path.parent / BEST_PARAMS_NAME).is_file()
    )  # fmt: skip
    return read_json(interrupted[-1]) if interrupted else {}


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
