"""The one training loop: letters in memory and their split → model → fit with checkpoints → best model scored.

hcr train --model regularized-cnn --data-dir ../shared/data
hcr train --resume runs/20261124-101500-regularized-cnn

`fit` is the loop itself and reads no dataset: it takes the letters and split it is given (hcr.data.prepare makes
them from a data config) and a run folder to checkpoint into. `train` and `resume` are the thin loaders around it
that make or reopen the run folder.
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

from hcr.configs import DataConfig, TrainConfig
from hcr.data import LetterData
from hcr.data.prepare import load_run_data, prepare_data
from hcr.data.splits import Split
from hcr.errors import HcrError
from hcr.inference.preprocess import to_model_input
from hcr.models import ModelEntry, create_model, get_model_entry, transfer
from hcr.runs import RunDir
from hcr.training.callbacks import (
    ResumableEarlyStopping,
    ResumableReduceLROnPlateau,
    RichProgress,
    RunCheckpoint,
    StopOnNonFiniteLoss,
)
from hcr.training.config_file import CONFIG_FILE_NAME, write_config_file
from hcr.training.cut_cache import CutCache, fits_in_memory, restore_upper
from hcr.training.hard_examples import model_classes, training_additions
from hcr.training.inputs import ImagePool, steps_per_epoch
from hcr.training.precision import precision_policy
from hcr.training.predict import RunModel
from hcr.training.transfer import warm_up_head

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run: RunDir
    metrics: dict[str, Any]


def train(
    config: TrainConfig, data_config: DataConfig, runs_dir: Path, *, callbacks: Sequence[keras.callbacks.Callback] = ()
) -> TrainResult:
    """Start a new run folder and train `config.model` in it; `callbacks` watch the epochs too (tuning prunes with
    one: setting `model.stop_training` ends the run after that epoch, which is then scored as usual)."""
    run = RunDir.create(runs_dir, config.model)  # first: an output folder that cannot be made fails in a second
    with run.in_use(), run.removed_unless_trained():
        data, split = prepare_data(data_config)
        # the datasets by name, not "the default": the default pool may change (it did with dev protocol v2), a run
        # may not
        data_config = replace(data_config, datasets=data_config.datasets or data.sources)
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
        return fit(config, data, split, run, callbacks=callbacks)


def resume(run_path: Path, *, callbacks: Sequence[keras.callbacks.Callback] = ()) -> TrainResult:
    """Continue an interrupted run from its last completed epoch, on exactly the data and split it started with;
    `callbacks` watch the epochs still to run.

    A finished run (every epoch done, or stopped early) is left as it is: resuming it reports its metrics."""
    run = RunDir.open(run_path)
    with run.in_use():
        if not run.state_path.exists():
            raise HcrError(f"{run_path}: no completed epoch to resume from; start a new run instead")
        state, config = run.read_state(), run.read_config().train
        if is_complete(state, config) and run.metrics_path.is_file():
            logger.info("run is complete (%d epochs done), nothing to resume: %s", state["epochs_done"], run.path)
            return TrainResult(run, run.read_json(run.metrics_path))
        # every file the resume reads, checked before the data: a damaged run is reported in a second, not after
        # loading (and de-duplicating) the whole pool
        run.read_history(state["epochs_done"])
        run.checked_checkpoint(run.state_path.parent / state["last_model"])
        data, split = load_run_data(run)
        return fit(config, data, split, run, state=state, callbacks=callbacks)


def is_complete(state: dict[str, Any], config: TrainConfig) -> bool:
    """Whether training ended: every epoch done, or stopped early (the checkpoint records that as `complete`; a
    state written before it did only counts epochs)."""
    return bool(state.get("complete")) or state["epochs_done"] >= config.epochs


def fit(
    config: TrainConfig,
    data: LetterData,
    split: Split,
    run: RunDir,
    *,
    state: dict[str, Any] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainResult:
    """Train `config.model` on the letters `data` as `split` divides them, checkpointing into `run`: from scratch
    (no `state`) or from the checkpoint `state` names, unless training had ended; then score the best checkpoint
    and write metrics.json. The run folder must already hold its config and split (`train` writes them).

    With `config.mixed_precision` the model is built and trained under Keras's mixed_float16 policy, which is put
    back afterwards (hcr.training.precision)."""
    with precision_policy(config.mixed_precision):
        return _fit(config, data, split, run, state=state, callbacks=callbacks)


def _fit(
    config: TrainConfig,
    data: LetterData,
    split: Split,
    run: RunDir,
    *,
    state: dict[str, Any] | None,
    callbacks: Sequence[keras.callbacks.Callback],
) -> TrainResult:
    """`fit` under the precision policy it set."""
    keras.utils.set_random_seed(config.seed)
    entry = get_model_entry(config.model)
    data_config = run.read_config().data
    x_extra, y_extra = training_additions(data, split, data_config)  # rendered copies, not-a-letter examples
    # uint8, converted to float32 a batch at a time for training; the additions join the training part only
    x_all, y_all = (
        (np.concatenate([data.x, x_extra]), np.concatenate([data.y, y_extra])) if len(y_extra) else (data.x, data.y)
    )
    pool = ImagePool(x_all, y_all)
    train_indices = np.concatenate([split.train, len(data.y) + np.arange(len(y_extra))])
    model, trained = _start_or_restore(run, config, entry, state, len(model_classes(data_config)))
    features = cache = None
    if entry.transfer == "features":  # only the head trains: on the frozen backbone's features, computed once
        features = _backbone_features(model, x_all[train_indices], data.x[split.val])
    elif entry.transfer == "warm-head":
        cut = transfer.cut(model) if config.cache_activations else None  # None: nothing of the backbone trains
        if cut is not None and fits_in_memory(cut, len(train_indices), len(split.val), config):
            # the trainable blocks and the head train on the frozen blocks' output, computed once (cut_cache)
            cache = CutCache.build(cut, pool, train_indices, split.val, config)
            trained = cut.upper if state is None else trained  # a resumed one is restored already
        if state is None:
            warm_train, warm_val = (
                (
                    cut.middle.predict(cache.train[0], batch_size=256, verbose=0),
                    cut.middle.predict(cache.val, batch_size=256, verbose=0),
                )
                if cache is not None  # the originals' activations, through the blocks still as pretrained
                else _backbone_features(model, x_all[train_indices], data.x[split.val])
            )
            warm_up_head(model, warm_train, y_all[train_indices], warm_val, data.y[split.val], config.seed)
    if state is None:
        _compile(trained, config.learning_rate)
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
    steps = steps_per_epoch(len(train_indices), config)
    progress = RichProgress(config.epochs, steps, initial_epoch)
    watching = [
        StopOnNonFiniteLoss(config.learning_rate),  # first: a broken batch stops before anything is saved
        early_stopping,  # before the checkpoint, which records whether it stopped the run
        reduce_lr,
        RunCheckpoint(run, history, best, [early_stopping, reduce_lr], config.epochs, whole_model=model),
        progress,
        *callbacks,
    ]
    started = time.perf_counter()
    if state is None or not is_complete(state, config):
        inputs, fit_options = _training_input(pool, y_all, train_indices, split.val, config, features, cache)
        try:
            trained.fit(
                *inputs,
                **fit_options,
                epochs=config.epochs,
                initial_epoch=initial_epoch,
                callbacks=watching,
                verbose=0,
            )
        finally:
            progress.close()  # also when a callback stopped the fit with an error
    train_seconds = time.perf_counter() - started
    metrics = _score(run, data, split)
    epochs_run = len(history) - initial_epoch
    images_per_epoch = min(len(train_indices), steps * config.batch_size)
    metrics |= {
        "epochs_done": len(history),
        "best_epoch": int(max(history, key=lambda r: r.get("val_accuracy", 0))["epoch"]) if history else None,
        "train_seconds_this_session": round(train_seconds, 2),
        "images_per_second": round(epochs_run * images_per_epoch / train_seconds, 1) if epochs_run else None,
    }
    run.write_json(run.metrics_path, metrics)
    return TrainResult(run, metrics)


def _start_or_restore(
    run: RunDir, config: TrainConfig, entry: ModelEntry, state: dict[str, Any] | None, num_classes: int
) -> tuple[keras.Model, keras.Model]:
    """(whole model, the part that trains): a new model, or the last checkpoint with its optimizer state.

    For head-only transfer the checkpoint holds just the head; it is put back on a freshly built backbone. A model
    fine-tuned on cached activations checkpoints its upper part; its weights go back into a freshly built model."""
    hparams = {**config.hparams, **({"weights": config.weights} if entry.needs_weights else {})}
    if state is None:
        model = create_model(config.model, num_classes=num_classes, **hparams)
        return model, (transfer.head(model) if entry.transfer == "features" else model)
    last = run.load_model(run.state_path.parent / state["last_model"])
    if entry.transfer == "features":
        return transfer.with_head(create_model(config.model, num_classes=num_classes, **hparams), last), last
    if transfer.is_upper(last):
        model = create_model(config.model, num_classes=num_classes, **hparams)
        upper = transfer.cut(model).upper
        _compile(upper, config.learning_rate)
        restore_upper(upper, last)
        return model, upper
    return last, last


def _backbone_features(model: keras.Model, x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The backbone's features [N, n_features] of the uint8 training and validation letters."""
    return (
        transfer.extract_features(model, to_model_input(x_train), "training"),
        transfer.extract_features(model, to_model_input(x_val), "validation"),
    )


def _compile(model: keras.Model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )


def _training_input(
    pool: ImagePool,
    y: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    config: TrainConfig,
    features: tuple[np.ndarray, np.ndarray] | None,
    cache: CutCache | None,
) -> tuple[tuple, dict[str, Any]]:
    """What fit takes: batches made float32 one at a time from the uint8 pool (training.inputs), or, for a head
    trained on frozen features, those feature arrays, or batches of cached activations at the cut (cut_cache);
    `steps_per_epoch` caps an epoch over a huge pool."""
    steps = steps_per_epoch(len(train), config)
    if cache is not None:
        validation = {"validation_data": (cache.val, y[val]), "validation_batch_size": 512}
        return (cache.training_batches(y[train], config),), {"steps_per_epoch": steps, "shuffle": False} | validation
    if features is not None:
        features_train, features_val = features
        options = {"batch_size": config.batch_size, "shuffle": True, "steps_per_epoch": steps}
        return (features_train, y[train]), options | {"validation_data": (features_val, y[val])}
    batches = pool.training_batches(train, config)
    validation = pool.scoring_batches(val)
    return (batches,), {"steps_per_epoch": steps, "validation_data": validation, "shuffle": False}  # shuffled already


def _score(run: RunDir, data: LetterData, split: Split) -> dict[str, Any]:
    """The best checkpoint scored on validation and test (when the split has a test part) by hcr evaluate's scorer:
    accuracy and macro-F1, overall, per source and per case."""
    from hcr.evaluation.metrics import groups_of, headline, score_predictions

    model = RunModel(run.path)
    scores = {}
    for part in ("val", "test"):
        indices = getattr(split, part)
        if not len(indices):
            continue
        held_out = data.take(indices)
        scores[part] = headline(score_predictions(held_out.y, model.predict_proba(held_out.x), groups_of(held_out)))
    return scores
