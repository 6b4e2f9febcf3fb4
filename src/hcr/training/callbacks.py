"""Callbacks that make a run resumable, safe and visible: atomic checkpoints, history, a stop on a diverging loss,
and a Rich progress bar."""

import math
from typing import Any

import keras
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from hcr.atomic import atomic_path
from hcr.console import console
from hcr.errors import HcrError
from hcr.runs import RunDir


class _Resumable:
    """Mixin: restore a Keras callback's counters after its on_train_begin has reset them."""

    STATE_KEYS: tuple[str, ...] = ()

    def __init__(self, *args: Any, restored: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._restored = restored or {}

    def on_train_begin(self, logs=None) -> None:
        super().on_train_begin(logs)
        for key, value in self._restored.items():
            setattr(self, key, value)

    def state(self) -> dict[str, Any]:
        return {key: _plain(getattr(self, key)) for key in self.STATE_KEYS if hasattr(self, key)}


class ResumableEarlyStopping(_Resumable, keras.callbacks.EarlyStopping):
    STATE_KEYS = ("wait", "best", "best_epoch")


class ResumableReduceLROnPlateau(_Resumable, keras.callbacks.ReduceLROnPlateau):
    STATE_KEYS = ("wait", "best", "cooldown_counter")


class TrainingDivergedError(HcrError):
    """The loss became NaN or infinite: these settings cannot train (usually a learning rate too high)."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop at the first batch whose loss is NaN or infinite, with an error (exit 2) that says so.

    Keras's TerminateOnNaN only asks the fit to stop: the epoch still ends, is validated and checkpointed, and the
    command exits 0 with a useless model. Raising here stops before anything of the broken epoch is saved."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__()
        self.learning_rate = learning_rate
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"training diverged: the loss became {loss} in epoch {self.epoch + 1} (batch {batch + 1}); "
                f"try a learning rate lower than {self.learning_rate:g}"
            )


class RunCheckpoint(keras.callbacks.Callback):
    """After every epoch: the best model by val_accuracy, the last model with its optimizer, the counters of
    the other callbacks and the history — each written atomically, the state file last, so that whatever
    moment the process dies at, `state.json` names a complete checkpoint to resume from."""

    def __init__(
        self,
        run: RunDir,
        history: list[dict[str, float]],
        best: float,
        resumables: list[_Resumable],
        epochs: int,
        whole_model: keras.Model | None = None,
    ):
        """`epochs` is the run's maximum; `whole_model` is what `best.keras` holds when only a part of it trains (a
        transfer model's head). Early stopping must come before this callback, so the state records that it
        ended the run."""
        super().__init__()
        self.whole_model = whole_model
        self.run = run
        self.history = history
        self.best = best
        self.resumables = resumables
        self.epochs = epochs

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.history.append(row)
        if row.get("val_accuracy", -math.inf) > self.best:
            self.best = row["val_accuracy"]
            with atomic_path(self.run.best_model_path) as tmp:
                (self.whole_model or self.model).save(tmp)
        last = self.run.last_model_path.with_name(f"last-{epoch + 1:04d}.keras")
        with atomic_path(last) as tmp:
            self.model.save(tmp)
        state = {
            "epochs_done": epoch + 1,
            "best_val_accuracy": self.best,
            "last_model": last.name,
            "callbacks": {type(c).__name__: c.state() for c in self.resumables},
            # resuming a finished run must not train on: early stopping's own counters do not say it fired
            "complete": epoch + 1 >= self.epochs or bool(self.model.stop_training),
        }
        self.run.write_history(self.history)  # before the state: resuming reads as many rows as it says
        self.run.write_json(self.run.state_path, state)
        # every other checkpoint file is stale now: the previous epoch's, and what a killed run left behind (a
        # last-*.keras saved but never recorded in the state, a half-written temporary file)
        for stale in (*last.parent.glob("last-*.keras"), *last.parent.glob(".*.keras")):
            if stale != last:
                stale.unlink(missing_ok=True)


class RichProgress(keras.callbacks.Callback):
    """One bar for the epochs, one for the batches of the current epoch with its ETA (an epoch over a million
    images takes many minutes), and a line per finished epoch."""

    def __init__(self, epochs: int, steps_per_epoch: int, initial_epoch: int = 0):
        super().__init__()
        self.epochs, self.steps, self.initial_epoch = epochs, steps_per_epoch, initial_epoch
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )

    def on_train_begin(self, logs=None) -> None:
        self.progress.start()
        self.epoch_task = self.progress.add_task("epochs", total=self.epochs, completed=self.initial_epoch, metrics="")
        self.batch_task = self.progress.add_task("batches", total=self.steps, metrics="")

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.progress.reset(self.batch_task, total=self.steps, description=f"epoch {epoch + 1}")

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        metrics = f"loss {logs['loss']:.3f} acc {logs.get('accuracy', 0):.3f}" if logs else ""
        self.progress.update(self.batch_task, completed=batch + 1, metrics=metrics)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.progress.advance(self.epoch_task)
        logs = logs or {}
        console.print(
            f"epoch {epoch + 1}/{self.epochs}  loss {logs.get('loss', 0):.4f}  acc {logs.get('accuracy', 0):.4f}"
            f"  val_loss {logs.get('val_loss', 0):.4f}  val_acc {logs.get('val_accuracy', 0):.4f}",
            highlight=False,
        )

    def on_train_end(self, logs=None) -> None:
        self.close()

    def close(self) -> None:
        """Take the bars off the screen (safe to call again, and needed when the fit ends with an error)."""
        self.progress.stop()


def _plain(value: Any) -> Any:
    """JSON-friendly copy of a callback counter (numpy and tensor scalars become Python numbers)."""
    return value.item() if hasattr(value, "item") else value
