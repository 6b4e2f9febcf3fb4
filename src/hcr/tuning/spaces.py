"""Search spaces of `hcr tune --space NAME`: what a trial may change, expressed as training settings.

A space samples TrainConfig fields, with the model builder's keyword arguments under "hparams", for a base model
of the zoo; each trial trains that model with them. The best trial's settings become the defaults of the tuned
model (tuned-cnn, tuned-mobilenetv2), which is the same builder, so the winner is rebuilt exactly.

The ranges cover the seed's Keras Tuner search (dropout rates, dense units, learning rate, L2) and more: the
CNN also searches conv width, batch size and augmentation strength; MobileNetV2 the number of top blocks to
fine-tune and the input size.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from hcr.errors import HcrError


@dataclass(frozen=True)
class SearchSpace:
    base_model: str  # the zoo model every trial trains
    tuned_model: str  # the registry entry whose defaults the best settings become
    trial_epochs: int  # default epoch budget of one trial (pruning and early stopping may end it sooner)
    suggest: Callable[[optuna.Trial], dict[str, Any]]  # trial → TrainConfig overrides


def suggest_cnn(trial: optuna.Trial) -> dict[str, Any]:
    # 32 is regularized-cnn's width; wider costs (width/32)² in time on 2 cores, so the search stops at 48
    width = trial.suggest_categorical("base_filters", [32, 48])
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
        "rotation_degrees": trial.suggest_float("rotation_degrees", 0.0, 15.0),  # augmentation strengths
        "shift": trial.suggest_float("shift", 0.0, 0.15),
        "zoom": trial.suggest_float("zoom", 0.0, 0.15),
        "hparams": {
            "filters": [width, 2 * width, 4 * width],
            "dense_units": trial.suggest_int("dense_units", 64, 512, step=64),
            "dropout": trial.suggest_float("dropout", 0.0, 0.6),
            "conv_dropout": trial.suggest_float("conv_dropout", 0.0, 0.3),
            "l2": trial.suggest_float("l2", 1e-6, 1e-3, log=True),
        },
    }


def suggest_mobilenetv2(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 2e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "hparams": {
            "input_side": trial.suggest_categorical("input_side", [64, 96, 128]),  # the 28 px letter resized to
            # 0 blocks would be mobilenetv2-frozen trained the slow way (backbone run every epoch)
            "unfreeze_blocks": trial.suggest_int("unfreeze_blocks", 2, 16),
            "dense_units": trial.suggest_categorical("dense_units", [0, 128, 256, 512]),  # 0: no hidden layer
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "l2": trial.suggest_float("l2", 1e-6, 1e-3, log=True),
        },
    }


SPACES: dict[str, SearchSpace] = {
    "cnn": SearchSpace("regularized-cnn", "tuned-cnn", trial_epochs=12, suggest=suggest_cnn),
    "mobilenetv2": SearchSpace(
        "mobilenetv2-finetune", "tuned-mobilenetv2", trial_epochs=5, suggest=suggest_mobilenetv2
    ),
}


def get_space(name: str) -> SearchSpace:
    if name not in SPACES:
        raise HcrError(f"unknown search space '{name}'; available: {', '.join(SPACES)}")
    return SPACES[name]
