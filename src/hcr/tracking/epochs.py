"""The live part of tracking: each epoch's metrics sent to MLflow as the epoch ends (hcr.tracking.tracker copies
everything else from the run folder once the run is over)."""

import keras

from hcr.tracking.tracker import TrackedRun


class EpochMetrics(keras.callbacks.Callback):
    """Log Keras's epoch logs (loss, accuracy, val_*, learning_rate) at step = the epoch's number, counted from 1 as
    history.csv counts it, so the live metrics and the ones filled in from the run folder line up."""

    def __init__(self, run: TrackedRun) -> None:
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.run.log_epoch(epoch + 1, {key: float(value) for key, value in (logs or {}).items()})
