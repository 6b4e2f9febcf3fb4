"""The bridge from a Keras training run to Optuna's pruner (a few lines; optuna-integration is not needed)."""

import keras
import optuna


class PruneOnValAccuracy(keras.callbacks.Callback):
    """Report each epoch's validation accuracy to the trial, and end the run when the pruner gives up on it.

    It stops training instead of raising optuna.TrialPruned from inside `fit`: the training loop then closes its
    progress display and checkpoints as usual, and the objective raises TrialPruned once `train` returns."""

    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__()
        self.trial = trial
        self.pruned_after: int | None = None  # the epoch after which the pruner stopped the run

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.trial.report(float(logs["val_accuracy"]), step=epoch + 1)
        if self.trial.should_prune():
            self.pruned_after = epoch + 1
            self.model.stop_training = True
