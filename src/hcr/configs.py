"""Training and data settings: every setting checked here, when a config is made, wherever it comes from (the CLI, a
tuning trial, a comparison preset, a run folder being resumed): a config that exists can train. A NaN learning rate
used to train a useless model and exit 0. Nothing here imports Keras or numpy, so a bad setting is refused in a
moment, before any folder is made.

A module of the bottom layer: run folders (hcr.runs) read their config.json into these, the data layer prepares
letters from a DataConfig, and training resolves a model's recipe into a TrainConfig (hcr.training.config).
"""

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from hcr.errors import HcrError
from hcr.holdout import MAX_SEED, METHODS, TEST_FRACTION, VAL_FRACTION, check_fractions

FOLD = "fold"  # --case: a letter in either case is that letter (the seed's task); hcr.data.case applies it
UPPER_ONLY = "upper"  # capitals only
CASE_MODES = (FOLD, UPPER_ONLY)

Rule = tuple[Callable[[Any], bool], str]  # (is the value acceptable, what is accepted, for the message)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN or ±inf)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def at_least(low: int) -> Rule:
    return (lambda value: _integer(value) and value >= low), f"an integer ≥ {low}"


def between(low: float, high: float, *, high_open: bool = False) -> Rule:
    def ok(value: Any) -> bool:
        return _number(value) and low <= value and (value < high if high_open else value <= high)

    return ok, f"a number in [{low:g}, {high:g}{')' if high_open else ']'}"


def optional(rule: Rule) -> Rule:
    check, accepted = rule
    return (lambda value: value is None or check(value)), f"{accepted}, or unset"


POSITIVE = (lambda value: _number(value) and value > 0), "a finite number > 0"
NON_NEGATIVE = (lambda value: _number(value) and value >= 0), "a finite number ≥ 0"
SEED = (lambda value: _integer(value) and 0 <= value <= MAX_SEED), f"an integer in 0..{MAX_SEED}"
BOOLEAN = (lambda value: isinstance(value, bool)), "true or false"


def check_settings(settings: object, rules: dict[str, Rule]) -> None:
    """Raise HcrError naming the first setting of `settings` (a dataclass) that breaks its rule."""
    for name, (ok, accepted) in rules.items():
        value = getattr(settings, name)
        if not ok(value):
            raise HcrError(f"{name} must be {accepted}, got {value!r}")


TRAIN_RULES: dict[str, Rule] = {
    "epochs": at_least(1),
    "batch_size": at_least(1),
    "max_steps_per_epoch": optional(at_least(1)),
    "learning_rate": POSITIVE,
    "augment": BOOLEAN,
    "rotation_degrees": between(0, 180),
    "shift": between(0, 1, high_open=True),
    "zoom": between(0, 1, high_open=True),
    "pen_width": between(0, 1),
    "cache_activations": BOOLEAN,
    "augmented_copies": at_least(1),
    "early_stopping_patience": at_least(0),
    "reduce_lr_patience": at_least(0),
    "seed": SEED,
    "mixed_precision": BOOLEAN,
    "hparams": ((lambda value: isinstance(value, dict)), "a mapping of builder arguments"),
    "weights": ((lambda value: value is None or isinstance(value, str)), "a file path, or unset"),
}


@dataclass(frozen=True)
class TrainConfig:
    model: str
    epochs: int = 20
    batch_size: int = 64
    # at most this many batches an epoch (None: the whole train part), so that an epoch over a million-image pool
    # ends, is validated and checkpointed in minutes; the next epoch goes on where this one stopped
    max_steps_per_epoch: int | None = None
    learning_rate: float = 1e-3
    augment: bool = False
    rotation_degrees: float = 10.0  # augmentation strengths
    shift: float = 0.1  # fraction of the side
    zoom: float = 0.1  # fraction of the side
    pen_width: float = 0.0  # share of letters whose strokes are made thicker or thinner (augment.RandomPenWidth)
    # fine-tuned transfer models: run the frozen lower blocks once per image and train the rest on their cached
    # output (hcr.training.cut_cache), ~2× faster epochs at 96 px; with `augment`, the cache holds the original and
    # `augmented_copies` augmented copies of each training image, and passes over the training part cycle through them
    cache_activations: bool = True
    augmented_copies: int = 3
    early_stopping_patience: int = 6  # epochs without a better val_accuracy before stopping
    reduce_lr_patience: int = 2  # epochs without a better val_loss before halving the learning rate
    seed: int = 0
    # float16 arithmetic, float32 weights and softmax (hcr.training.precision): faster on NVIDIA GPUs, slower on CPU
    mixed_precision: bool = False
    hparams: dict[str, Any] = field(default_factory=dict)  # the model builder's keyword arguments
    weights: str | None = None  # pretrained weights file, for the models built on one
    # tuned-* models and tuning trials: the study and trial the settings came from (and the best_params.json)
    tuning: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_settings(self, TRAIN_RULES)

    def with_overrides(self, **overrides: Any) -> "TrainConfig":
        """A copy with the given fields replaced; None means 'keep'. Unknown fields are errors."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise HcrError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DATA_RULES: dict[str, Rule] = {
    "datasets": (
        (lambda value: isinstance(value, tuple) and all(isinstance(name, str) for name in value)),
        "a list of dataset names",
    ),
    "data_dir": ((lambda value: value is None or isinstance(value, str)), "a folder path, or unset"),
    "per_class": optional(at_least(1)),
    "val_fraction": NON_NEGATIVE,  # the ranges and their sum: check_fractions
    "test_fraction": NON_NEGATIVE,
    "split": ((lambda value: value in METHODS), f"{', '.join(METHODS[:-1])} or {METHODS[-1]}"),
    "seed": SEED,
    "capitals": BOOLEAN,
    "case": ((lambda value: value in CASE_MODES), " or ".join(CASE_MODES)),
    "canonical": BOOLEAN,
    "rendered_copies": at_least(0),
    "printed_copies": at_least(0),
    "out_of_scope": between(0, 1, high_open=True),
}


@dataclass(frozen=True)
class DataConfig:
    datasets: tuple[str, ...] = ()
    data_dir: str | None = None
    per_class: int | None = None
    split: str = "stratified"
    val_fraction: float = VAL_FRACTION
    test_fraction: float = TEST_FRACTION  # 0: no test part, for a final model trained on everything
    seed: int = 0
    capitals: bool = False  # L bars of lower or unknown case labelled I (hcr.data.capitals), for block-capital readers
    case: str = "fold"  # hcr.data.case: "fold" (either case) or "upper" (capitals only); picks images before the split
    # every image preprocessed as `hcr predict` preprocesses a file (hcr.inference.preprocess.to_letter_arrays):
    # the model learns the letters exactly as it will be shown them, pen width and box included
    canonical: bool = False
    # per training image, this many copies drawn as files people make and read back as `hcr predict` reads them
    # (hcr.data.rendered); validation and test stay as they are
    rendered_copies: int = 0
    # per letter of each training font (hcr.data.printed), this many prints added to the training split
    printed_copies: int = 0
    # examples of a 27th class, not-a-letter (hcr.data.out_of_scope), as a share of the training split's size
    out_of_scope: float = 0.0

    def __post_init__(self) -> None:
        check_settings(self, DATA_RULES)
        check_fractions(self.val_fraction, self.test_fraction)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> "DataConfig":
        """What `to_dict` wrote (a run's config.json, a model.json), read back: JSON holds the datasets as a list."""
        return cls(**{**saved, "datasets": tuple(saved["datasets"])})
