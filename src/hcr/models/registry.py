"""The model zoo: public names (`hcr train --model NAME`) mapped to pure builder functions and default recipes.

Builders take keyword-only hyperparameters with defaults and return an uncompiled Keras model whose input is
the 28×28×1 letter in 0..1 (hcr.inference.preprocess.to_model_input); compiling and fitting happen once, in
hcr.training. A `recipe` holds the training defaults (epochs, learning rate, augmentation) that suit the model.
"""

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

from hcr.errors import HcrError
from hcr.labels import NUM_CLASSES


@dataclass(frozen=True)
class ModelEntry:
    name: str
    build: Callable[..., keras.Model]
    summary: str
    recipe: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields this model changes
    needs_weights: bool = False  # built on pretrained weights from a local file
    # Transfer models are a `backbone` and a `head`. "features": only the head trains, on the frozen backbone's
    # features computed once. "warm-head": the head is first fitted that way, then the whole model trains.
    transfer: str | None = None
    # Tuned models: the `hcr tune --model` search whose best settings become this model's defaults (hcr.training.tuned)
    tuned_from: str | None = None


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str,
    *,
    summary: str,
    recipe: dict[str, Any] | None = None,
    needs_weights: bool = False,
    transfer: str | None = None,
    tuned_from: str | None = None,
):
    def add(build: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        _REGISTRY[name] = ModelEntry(name, build, summary, recipe or {}, needs_weights, transfer, tuned_from)
        return build

    return add


def list_models(pattern: str = "*") -> list[str]:
    return sorted(fnmatch.filter(_REGISTRY, pattern))


def get_model_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise HcrError(f"unknown model '{name}'; available: {', '.join(list_models())}")
    return _REGISTRY[name]


def create_model(name: str, *, num_classes: int = NUM_CLASSES, **hparams: Any) -> keras.Model:
    """Build a registered model; hyperparameters given as None keep the builder's default."""
    entry = get_model_entry(name)
    return entry.build(num_classes=num_classes, **{k: v for k, v in hparams.items() if v is not None})
