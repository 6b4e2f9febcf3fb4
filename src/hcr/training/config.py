"""Training settings: defaults, then the model's recipe, then what the user sets; the resolved result is saved."""

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from hcr.errors import HcrError


@dataclass(frozen=True)
class TrainConfig:
    model: str
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    augment: bool = False
    rotation_degrees: float = 10.0  # augmentation strengths
    shift: float = 0.1  # fraction of the side
    zoom: float = 0.1  # fraction of the side
    pen_width: float = 0.0  # share of letters whose strokes are made thicker or thinner (augment.RandomPenWidth)
    early_stopping_patience: int = 6  # epochs without a better val_accuracy before stopping
    reduce_lr_patience: int = 2  # epochs without a better val_loss before halving the learning rate
    seed: int = 0
    hparams: dict[str, Any] = field(default_factory=dict)  # the model builder's keyword arguments
    weights: str | None = None  # pretrained weights file, for the models built on one
    # tuned-* models and tuning trials: the study and trial the settings came from (and the best_params.json)
    tuning: dict[str, Any] | None = None

    def with_overrides(self, **overrides: Any) -> "TrainConfig":
        """A copy with the given fields replaced; None means 'keep'. Unknown fields are errors."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise HcrError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DataConfig:
    datasets: tuple[str, ...] = ()
    data_dir: str | None = None
    per_class: int | None = None
    split: str = "stratified"
    val_fraction: float = 0.15
    test_fraction: float = 0.15  # 0: no test part, for a final model trained on everything
    seed: int = 0
    capitals: bool = False  # EMNIST's lower-case-l bars labelled I (hcr.data.capitals), for block-capital readers
    case: str = "fold"  # hcr.data.case: "fold" (either case) or "upper" (capitals only); picks images before the split
    # every image preprocessed as `hcr predict` preprocesses a file (hcr.inference.preprocess.to_letter_arrays):
    # the model learns the letters exactly as it will be shown them, pen width and box included
    canonical: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
