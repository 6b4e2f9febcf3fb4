"""The run an exported model came from, and the letters it was trained and tested on, for the benches that measure
it on its own test split.

model.json names its run by the folder's name and the best checkpoint's digest, never by a path of the machine
that built it (issue 13). A bench is given the run folder (`--run`), or finds it where `hcr export` leaves things:
the model's own folder (an export into its run folder, the default) or runs/<name>. Either way the folder must be
the one the model was exported from (same name, same best checkpoint), or the bench would score it on the wrong
split; the data is found as hcr finds it (the run's config, or --data-dir).

The run folder stays on the machine that trained the model; the shipped model's does not ship. Its split does not
need it: a split is a function of the data settings and the data, both in model.json, so `model_data` rebuilds it
when no run is at hand, and checks it against the split's digest that model.json records (models exported before
it recorded one are taken on trust: splits are pinned across machines, tests/data/test_subset_and_splits.py).
"""

from dataclasses import replace
from pathlib import Path

from bench.paths import SHARED_DATA

from hcr.configs import DataConfig
from hcr.data.dataset import LetterData
from hcr.data.splits import Split
from hcr.errors import HcrError
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


def model_data(
    predictor: Predictor, model: Path | None, run: Path | None, data_dir: Path | None
) -> tuple[LetterData, Split, str]:
    """The model's data as the datasets store them (labels as it was trained: bars as I where it took capitals), its
    split, and where the split comes from: the run folder where it is at hand (its data found as the run records it,
    or in `data_dir`), else rebuilt from model.json (on `data_dir`, default the shared data)."""
    from hcr.data.prepare import load_run_data, rebuilt_split  # without Keras

    found = find_model_run(predictor, model, run)
    if found is not None:
        data, split = load_run_data(found, data_dir, as_loaded=True)
        return data, split, f"the split of run {found.path.name}"
    settings = DataConfig.from_dict(predictor.metadata_["data"])  # its data folder: none (left on its machine)
    settings = replace(settings, data_dir=str((data_dir or SHARED_DATA).resolve()))
    recorded = predictor.metadata_.get("split_record")
    try:
        data, split = rebuilt_split(settings, recorded)
    except HcrError as e:  # no data there, not the data it names, or another split
        raise SystemExit(f"{model or 'the shipped model'}: {e} (--run DIR, --data-dir DIR)") from None
    origin = "its split rebuilt from model.json" + ("" if recorded else " (no digest recorded to check it by)")
    return data, split, origin
