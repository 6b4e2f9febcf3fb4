"""A comparison's state file, compare_state.json: its settings, and per model its tuning and, per training seed, its
run folder and the time spent training it, saved after every step so that an interrupted comparison resumes where
it stopped. The seeds are not settings: the same comparison run again with more seeds trains only the new ones."""

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hcr.configs import DataConfig
from hcr.errors import HcrError
from hcr.pipelines.compare.presets import Preset
from hcr.runs import RunDir, read_json, write_json

log = logging.getLogger(__name__)

STATE_FILE = "compare_state.json"


@dataclass(frozen=True)
class CompareState:
    out_dir: Path
    saved: dict[str, Any]  # {"settings": ..., "models": {model: record}}

    @classmethod
    def open(cls, out_dir: Path, preset: Preset, data_config: DataConfig) -> "CompareState":
        """The comparison in `out_dir` if it has the same settings (to resume it), else a new one; a comparison with
        other settings is refused rather than mixed with this one."""
        # what decides the models' training; the number of letters scored as files (file_letters) does not
        trains = {key: value for key, value in asdict(preset).items() if key != "file_letters"}
        settings = json.loads(json.dumps({"preset": trains, "data": data_config.to_dict()}))
        path = out_dir / STATE_FILE
        if not path.is_file():
            return cls(out_dir, {"settings": settings, "models": {}})
        saved = read_json(path)  # a damaged state file is bad input naming it
        # a data setting added to hcr since the comparison started was at its default then
        defaults = json.loads(json.dumps(DataConfig().to_dict()))
        saved["settings"]["data"] = {**defaults, **saved["settings"]["data"]}
        if saved["settings"] != settings:
            found = saved["settings"]
            raise HcrError(
                f"{out_dir} holds a comparison with other settings ({found['preset']['name']} preset, data "
                f"{found['data']}); use another --out, or the same settings to resume it"
            )
        log.info("resuming the comparison in %s", out_dir)
        return cls(out_dir, saved)

    def record(self, name: str) -> dict[str, Any]:
        """The model's own record (tuning, and its seeds' records), made empty on first use."""
        return self.saved["models"].setdefault(name, {})

    def seed_record(self, name: str, seed: int) -> dict[str, Any]:
        """The record of the model's run with training seed `seed` (run folder, train_seconds)."""
        return self.record(name).setdefault("seeds", {}).setdefault(str(seed), {})

    def save(self) -> None:
        write_json(self.out_dir / STATE_FILE, self.saved)


def existing_runs(runs_dir: Path, name: str, seed: int) -> tuple[Path | None, Path | None]:
    """(the newest finished run of `name` with training seed `seed`, the newest interrupted one with a checkpoint)
    in `runs_dir`."""
    finished = interrupted = None
    for path in sorted(runs_dir.glob("*")) if runs_dir.is_dir() else []:
        run = RunDir(path)
        if not run.config_path.is_file():
            continue
        train = run.read_json(run.config_path)["train"]
        if (train["model"], train["seed"]) != (name, seed):
            continue
        if run.metrics_path.is_file():
            finished = path
        elif run.state_path.is_file():
            interrupted = path
    return finished, interrupted
