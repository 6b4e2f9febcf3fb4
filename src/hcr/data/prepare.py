"""The letters a run trains on, made from its data config: the datasets loaded, the cases asked for, a balanced
subset, the split, then the relabelling and preprocessing the config asks for; and the same data rebuilt for a
finished run (evaluate, export, benchmarks), checked against the fingerprint its split was saved with.

    hcr train --model regularized-cnn --case upper --canonical     # prepare_data
    hcr evaluate runs/20261124-032627-regularized-cnn              # load_run_data

The training loop (hcr.training.fit) takes the result in memory and never reads a dataset itself.
"""

import logging
from dataclasses import replace
from pathlib import Path

from hcr.configs import DataConfig
from hcr.data.case import select_case
from hcr.data.dataset import LetterData
from hcr.data.sources import load_datasets
from hcr.data.splits import Split, data_fingerprint, make_split
from hcr.data.subset import balanced_subset
from hcr.errors import HcrError
from hcr.runs import RunDir, reading

logger = logging.getLogger(__name__)


def prepare_data(data_config: DataConfig) -> tuple[LetterData, Split]:
    """The images and labels a run trains on, and their split."""
    data = selected_images(data_config)
    split = make_split(data, data_config.split, data_config.val_fraction, data_config.test_fraction, data_config.seed)
    return as_trained(data, data_config), split


def rebuilt_split(data_config: DataConfig, recorded: dict[str, str] | None) -> tuple[LetterData, Split]:
    """The images as the datasets store them (labels as trained: bars as I where capitals were taken) and the split
    of a run whose folder is not at hand (an exported model's: the shipped model's run stays on the machine that
    trained it), rebuilt from its data settings: a split is a function of the settings and the data. Checked against
    `recorded` (model.json's split_record) where there is one: other data, or another numpy or scikit-learn random
    stream, is refused."""
    data, split = prepare_data(replace(data_config, canonical=False))
    if recorded is not None and recorded != split.record():
        raise HcrError(
            "the split rebuilt from the model's data settings is not the one it was trained on (other data, or "
            "another numpy or scikit-learn random stream): use its run folder"
        )
    return data, split


def selected_images(data_config: DataConfig) -> LetterData:
    """The datasets as loaded, the cases asked for (a balanced subset of them, if asked): what a split indexes and
    fingerprints."""
    data = load_datasets(data_config.datasets, data_config.data_dir)
    if data.duplicates_removed:
        logger.info("removed %d images that several datasets hold", data.duplicates_removed)
    data, dropped = select_case(data, data_config.case)
    if dropped:
        logger.info("case %s: dropped %s", data_config.case, ", ".join(f"{n} {what}" for what, n in dropped.items()))
    if data_config.per_class:
        indices, _ = balanced_subset(data.y, data_config.per_class, data_config.seed)
        data = data.take(indices)
    return data


def as_trained(data: LetterData, data_config: DataConfig) -> LetterData:
    """The same images relabelled or preprocessed as the config asks, after splitting: the split stays the one made
    on the images as loaded, whichever options a run adds."""
    if data_config.capitals:  # on the images as loaded: bars are measured on the datasets' own strokes
        from hcr.data.capitals import with_capital_labels

        data, n_relabelled = with_capital_labels(data)
        logger.info("capitals: %d L bars of lower or unknown case labelled I", n_relabelled)
    if data_config.canonical:
        from hcr.inference.preprocess import to_letter_arrays

        data = replace(data, x=to_letter_arrays(data.x))
    return data


def load_run_split(run: RunDir) -> Split:
    """The split a run saved (split.npz); a missing or damaged one is bad input naming it."""
    with reading(run.split_path, "split file"):
        return Split.load(run.split_path)


def load_run_data(
    run: RunDir, data_dir: Path | str | None = None, *, as_loaded: bool = False
) -> tuple[LetterData, Split]:
    """The run's data rebuilt from its config (from another folder holding the same files, if given) and its
    saved split — refused if the images are not exactly those the split was made for. With `as_loaded`, the
    images stay as the datasets store them even if the run trained on them preprocessed (--canonical)."""
    saved = run.read_config()
    data_config = saved.data
    if not data_config.datasets:  # a run made before runs named their datasets: its sources are the pool it had
        data_config = replace(data_config, datasets=tuple(saved.sources))
    if data_dir is not None:
        data_config = replace(data_config, data_dir=str(Path(data_dir).resolve()))
    stored = load_run_split(run)  # first: a damaged split is reported before the pool is loaded
    data = selected_images(data_config)
    if stored.data_fingerprint != data_fingerprint(data):
        raise HcrError(
            f"{run.path}: the data in {data_config.data_dir} is not what the run was trained on (its fingerprint "
            "changed), so the run's split no longer applies; point --data-dir at the original data"
        )
    return as_trained(data, replace(data_config, canonical=data_config.canonical and not as_loaded)), stored
