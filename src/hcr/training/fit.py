"""The one training loop: data → split → model → fit with checkpoints → best model scored on val and test.

hcr train --model regularized-cnn --data-dir ../shared/data
hcr train --resume runs/20261124-101500-regularized-cnn
"""

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hcr.data import LetterData, load_datasets, make_split
from hcr.data.splits import Split, data_fingerprint
from hcr.errors import HcrError
from hcr.inference.preprocess import to_model_input
from hcr.models import ModelEntry, create_model, get_model_entry
from hcr.models.augment import build_augmenter
from hcr.runs import RunDir
from hcr.training.callbacks import (
    ResumableEarlyStopping,
    ResumableReduceLROnPlateau,
    RichProgress,
    RunCheckpoint,
    StopOnNonFiniteLoss,
)
from hcr.training.config import DataConfig, TrainConfig
from hcr.training.config import resolve_config as resolve_config  # where callers have always found it
from hcr.training.config_file import CONFIG_FILE_NAME, write_config_file
from hcr.training.transfer import extract_features, warm_up_head

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run: RunDir
    metrics: dict[str, Any]


def prepare_data(data_config: DataConfig) -> tuple[LetterData, Split]:
    """The images and labels a run trains on, and their split."""
    data = _selected_images(data_config)
    split = make_split(data, data_config.split, data_config.val_fraction, data_config.test_fraction, data_config.seed)
    return _as_trained(data, data_config), split


def _selected_images(data_config: DataConfig) -> LetterData:
    """The datasets as loaded, the cases asked for (a balanced subset of them, if asked): what a split indexes and
    fingerprints."""
    from hcr.data import balanced_subset, select_case

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


def _as_trained(data: LetterData, data_config: DataConfig) -> LetterData:
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


def train(
    config: TrainConfig, data_config: DataConfig, runs_dir: Path, *, callbacks: Sequence[keras.callbacks.Callback] = ()
) -> TrainResult:
    """Start a new run folder and train `config.model` in it; `callbacks` watch the epochs too (tuning prunes with
    one: setting `model.stop_training` ends the run after that epoch, which is then scored as usual)."""
    data, split = prepare_data(data_config)
    run = RunDir.create(runs_dir, config.model)
    with run.in_use(), run.removed_unless_trained():
        saved = {
            "train": config.to_dict(),
            "data": data_config.to_dict(),
            "sources": data.sources,
            "skipped": dict(data.skipped),  # left out by the loaders (digits, unreadable files)
            "duplicates_removed": data.duplicates_removed,  # exact copies shared by the sources, kept once
            "duplicates": dict(data.duplicates),
        }
        if config.weights:
            from hcr.models.weights import weights_fingerprint

            saved["weights_sha256"] = weights_fingerprint(Path(config.weights))
        run.write_json(run.config_path, saved)
        write_config_file(run.path / CONFIG_FILE_NAME, config, data_config)  # `hcr train --config` reads it back
        run.write_provenance()
        split.save(run.split_path)
        return _fit_and_score(run, config, data, split, state=None, extra_callbacks=callbacks)


def resume(run_path: Path) -> TrainResult:
    """Continue an interrupted run from its last completed epoch, on exactly the data and split it started with.

    A finished run (every epoch done, or stopped early) is left as it is: resuming it reports its metrics."""
    run = RunDir.open(run_path)
    with run.in_use():
        if not run.state_path.exists():
            raise HcrError(f"{run_path}: no completed epoch to resume from; start a new run instead")
        state, config = run.read_state(), run.read_config().train
        if is_complete(state, config) and run.metrics_path.is_file():
            logger.info("run is complete (%d epochs done), nothing to resume: %s", state["epochs_done"], run.path)
            return TrainResult(run, run.read_json(run.metrics_path))
        data, split = load_run_data(run)
        return _fit_and_score(run, config, data, split, state=state)


def is_complete(state: dict[str, Any], config: TrainConfig) -> bool:
    """Whether training ended: every epoch done, or stopped early (the checkpoint records that as `complete`; a
    state written before it did only counts epochs)."""
    return bool(state.get("complete")) or state["epochs_done"] >= config.epochs


def load_run_data(
    run: RunDir, data_dir: Path | str | None = None, *, as_loaded: bool = False
) -> tuple[LetterData, Split]:
    """The run's data rebuilt from its config (from another folder holding the same files, if given) and its
    saved split — refused if the images are not exactly those the split was made for. With `as_loaded`, the
    images stay as the datasets store them even if the run trained on them preprocessed (--canonical)."""
    data_config = run.read_config().data
    if data_dir is not None:
        data_config = replace(data_config, data_dir=str(Path(data_dir).resolve()))
    data = _selected_images(data_config)
    stored = run.load_split()
    if stored.data_fingerprint != data_fingerprint(data):
        raise HcrError(
            f"{run.path}: the data in {data_config.data_dir} is not what the run was trained on (its fingerprint "
            "changed), so the run's split no longer applies; point --data-dir at the original data"
        )
    return _as_trained(data, replace(data_config, canonical=data_config.canonical and not as_loaded)), stored


def _fit_and_score(
    run: RunDir,
    config: TrainConfig,
    data: LetterData,
    split: Split,
    state: dict[str, Any] | None,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainResult:
    """Train from scratch (no `state`) or from the checkpoint `state` names, unless training had ended; then score
    the best checkpoint and write metrics.json."""
    keras.utils.set_random_seed(config.seed)
    entry = get_model_entry(config.model)
    x = to_model_input(data.x)  # [N, 28, 28, 1] float32 in 0..1
    x_train, y_train = x[split.train], data.y[split.train]
    x_val, y_val = x[split.val], data.y[split.val]

    model, trained = _start_or_restore(run, config, entry, state)
    if entry.transfer == "features":  # only the head trains: on the frozen backbone's features, computed once
        x_train = extract_features(model.get_layer("backbone"), x_train, "training")
        x_val = extract_features(model.get_layer("backbone"), x_val, "validation")
    elif entry.transfer == "warm-head" and state is None:
        warm_up_head(model, x_train, y_train, x_val, y_val, config.seed)
    if state is None:
        trained.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        history, initial_epoch, best, restored = [], 0, -math.inf, {}
    else:
        history = run.read_history(state["epochs_done"])
        initial_epoch, best, restored = state["epochs_done"], state["best_val_accuracy"], state["callbacks"]

    early_stopping = ResumableEarlyStopping(
        monitor="val_accuracy", patience=config.early_stopping_patience, restored=restored.get("ResumableEarlyStopping")
    )
    reduce_lr = ResumableReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=config.reduce_lr_patience, min_lr=1e-6,
        restored=restored.get("ResumableReduceLROnPlateau"),
    )  # fmt: skip
    progress = RichProgress(config.epochs, math.ceil(len(x_train) / config.batch_size), initial_epoch)
    callbacks = [
        StopOnNonFiniteLoss(config.learning_rate),  # first: a broken batch stops before anything is saved
        early_stopping,  # before the checkpoint, which records whether it stopped the run
        reduce_lr,
        RunCheckpoint(run, history, best, [early_stopping, reduce_lr], config.epochs, whole_model=model),
        progress,
        *extra_callbacks,
    ]
    started = time.perf_counter()
    if state is None or not is_complete(state, config):
        inputs, fit_options = _training_input(x_train, y_train, config)
        try:
            trained.fit(
                *inputs,
                **fit_options,
                validation_data=(x_val, y_val),
                epochs=config.epochs,
                initial_epoch=initial_epoch,
                callbacks=callbacks,
                verbose=0,
            )
        finally:
            progress.close()  # also when a callback stopped the fit with an error
    train_seconds = time.perf_counter() - started
    metrics = _score(run, x, data.y, split)
    epochs_run = len(history) - initial_epoch
    metrics |= {
        "epochs_done": len(history),
        "best_epoch": int(max(history, key=lambda r: r.get("val_accuracy", 0))["epoch"]) if history else None,
        "train_seconds_this_session": round(train_seconds, 2),
        "images_per_second": round(epochs_run * len(x_train) / train_seconds, 1) if epochs_run else None,
    }
    run.write_json(run.metrics_path, metrics)
    return TrainResult(run, metrics)


def _start_or_restore(
    run: RunDir, config: TrainConfig, entry: ModelEntry, state: dict[str, Any] | None
) -> tuple[keras.Model, keras.Model]:
    """(whole model, the part that trains): a new model, or the last checkpoint with its optimizer state.

    For head-only transfer the checkpoint holds just the head; it is put back on a freshly built backbone."""
    hparams = {**config.hparams, **({"weights": config.weights} if entry.needs_weights else {})}
    if state is None:
        model = create_model(config.model, **hparams)
        return model, (model.get_layer("head") if entry.transfer == "features" else model)
    last = run.load_model(run.state_path.parent / state["last_model"])
    if entry.transfer != "features":
        return last, last
    from hcr.models.mobilenet import compose

    fresh = create_model(config.model, **hparams)
    return compose(fresh.get_layer("backbone"), last, fresh.name), last


def _training_input(x: np.ndarray, y: np.ndarray, config: TrainConfig) -> tuple[tuple, dict[str, Any]]:
    """Arrays straight into fit (as fast as bare Keras), or a tf.data pipeline that augments on the fly."""
    if not config.augment:
        return (x, y), {"batch_size": config.batch_size, "shuffle": True}
    import tensorflow as tf

    augmenter = build_augmenter(config.rotation_degrees, config.shift, config.zoom, config.seed, config.pen_width)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
        .batch(config.batch_size)
        .map(lambda images, labels: (augmenter(images, training=True), labels))  # sequential: deterministic
        .prefetch(tf.data.AUTOTUNE)
    )
    return (dataset,), {"shuffle": False}  # the pipeline shuffles itself


def _score(run: RunDir, x: np.ndarray, y: np.ndarray, split: Split) -> dict[str, Any]:
    """Accuracy and macro-F1 of the best checkpoint on validation and test (when the split has a test part)."""
    from sklearn.metrics import accuracy_score

    from hcr.evaluation.metrics import macro_f1  # the one definition, shared with hcr evaluate

    model = run.load_model(run.best_model_path)
    scores = {}
    for part in ("val", "test"):
        indices = getattr(split, part)
        if not len(indices):
            continue
        predicted = model.predict(x[indices], batch_size=512, verbose=0).argmax(axis=1)
        scores[part] = {
            "accuracy": float(accuracy_score(y[indices], predicted)),
            "macro_f1": macro_f1(y[indices], predicted),
            "n": len(indices),
        }
    return scores
