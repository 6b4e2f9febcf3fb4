"""The run an exported model came from, for the benches that measure it on that run's test split.

model.json names its run by the folder's name and the best checkpoint's digest, never by a path of the machine
that built it (issue 13). A bench is given the run folder (`--run`), or finds it where `hcr export` leaves things:
the model's own folder (an export into its run folder, the default) or runs/<name>. Either way the folder must be
the one the model was exported from (same name, same best checkpoint), or the bench would score it on the wrong
split; the data is found as hcr finds it (the run's config, or --data-dir).
"""

from pathlib import Path

from hcr.inference.predictor import Predictor
from hcr.runs import RunDir

RUNS_DIR = Path("runs")  # hcr train's default --runs-dir


def find_model_run(predictor: Predictor, model: Path | None, run: Path | None) -> RunDir | None:
    """The checked run folder of `predictor`'s model, or None when it is not given and not found."""
    name = predictor.metadata_.get("source_run")
    if run is None:
        folders = [model if model.is_dir() else model.parent] if model is not None else []
        run = next(
            (folder for folder in [*folders, RUNS_DIR / str(name)] if folder.name == name and folder.is_dir()), None
        )
        if run is None:
            return None
    found = RunDir.open(run)
    if not found.exported(predictor.metadata_):
        raise SystemExit(f"{run}: not the run {model or 'the shipped model'} was exported from ({name})")
    return found


def model_run(predictor: Predictor, model: Path | None, run: Path | None) -> RunDir:
    """As find_model_run, for a bench that cannot do without the run: stops with a one-line message."""
    found = find_model_run(predictor, model, run)
    if found is None:
        raise SystemExit(f"the model was exported from run {predictor.metadata_.get('source_run')}: give --run DIR")
    return found
