"""The model zoo: public names (`hcr train --model NAME`) mapped to pure builder functions and default recipes.

The zoo is a static table that names each builder as "module:function" instead of holding it, so listing the zoo
(`hcr models`) and checking a `--model` name take milliseconds: the builder's module, and Keras with it, is imported
only when a model is really built (about 5 s on the dev machine).

Builders take keyword-only hyperparameters with defaults and return an uncompiled Keras model whose input is
the 28×28×1 letter in 0..1 (hcr.inference.preprocess.to_model_input); compiling and fitting happen once, in
hcr.training. A `recipe` holds the training defaults (epochs, learning rate, augmentation) that suit the model.
"""

import ast
import fnmatch
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hcr.errors import HcrError
from hcr.labels import NUM_CLASSES

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: str  # "module:function", imported on first use
    summary: str
    recipe: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields this model changes
    needs_weights: bool = False  # built on pretrained weights from a local file
    # Transfer models are a `backbone` and a `head`. "features": only the head trains, on the frozen backbone's
    # features computed once. "warm-head": the head is first fitted that way, then the whole model trains.
    transfer: str | None = None
    # Tuned models: the `hcr tune --space` search whose best settings become this model's defaults
    # (hcr.pipelines.tune_retrain)
    tuned_from: str | None = None
    # builder arguments this entry sets differently from its builder's defaults (compact-cnn: regularized-cnn's
    # builder at half the width); a config's hparams start from them
    builder_settings: dict[str, Any] = field(default_factory=dict)

    def builder_defaults(self) -> dict[str, Any]:
        """The builder's hyperparameters and their defaults, read from its signature in the source without importing
        it (and Keras): a config can name and save every argument its model is built with in milliseconds. The class
        count and the weights file are not hyperparameters (they come from the data and from TrainConfig.weights)."""
        module, function = self.builder.split(":")
        spec = importlib.util.find_spec(module)
        tree = ast.parse(spec.loader.get_source(module))  # type: ignore[union-attr]
        (definition,) = (node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function)
        arguments = definition.args
        defaults = {
            argument.arg: _as_setting(ast.literal_eval(default))
            for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
            if default is not None and argument.arg not in NOT_HYPERPARAMETERS
        }
        return defaults | {key: _as_setting(value) for key, value in self.builder_settings.items()}

    def resolved_hparams(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every builder argument a model is built with: the builder's defaults, then `given`; a name the builder
        does not take is refused here, before any run folder exists, not by Keras minutes later."""
        defaults = self.builder_defaults()
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise HcrError(
                f"{self.name} has no setting {unknown[0]!r}; its builder takes: {', '.join(sorted(defaults))}"
            )
        return {**defaults, **{key: _as_setting(value) for key, value in given.items()}}

    @property
    def build(self) -> Callable[..., "keras.Model"]:
        """The builder function (importing its module, and Keras, the first time)."""
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)


NOT_HYPERPARAMETERS = frozenset({"num_classes", "weights"})


def _as_setting(value: Any) -> Any:
    """Tuples as lists: a saved setting reads back from JSON or TOML equal to the one resolved."""
    return list(value) if isinstance(value, tuple) else value


REGULARIZED_RECIPE = {
    "epochs": 20,
    "batch_size": 128,
    "learning_rate": 2e-3,
    "augment": True,
    "early_stopping_patience": 5,
}
# measured on the dev protocol: 96 px, 10 blocks, 5e-4 → 91.5 % test; 64 px, 4 blocks, 1e-4 → 84.0 %
FINETUNE_RECIPE = {"epochs": 8, "learning_rate": 5e-4, "early_stopping_patience": 4}

ZOO = (
    ModelEntry(
        "baseline-cnn",
        "hcr.models.cnn:baseline_cnn",
        "The seed's 3-block CNN: Conv 32/64/128 with pooling, Dense 128.",
    ),
    ModelEntry(
        "regularized-cnn",
        "hcr.models.cnn:regularized_cnn",
        "The baseline's blocks with batch norm, dropout and L2, a wider dense layer; trained with augmentation.",
        REGULARIZED_RECIPE,
    ),
    # Half the width is a quarter of the multiply-adds (2.0 M against 7.7 M per letter): ONNX Runtime reads 3.5× more
    # letters per second on a CPU core, for about half a point of dev-test accuracy. The shipped model is one of
    # these. Half its training letters get a thicker or thinner pen: files written with a felt pen or a fine one then
    # read within 0.1 point of the rest, against 1–2 points lower without (bench/preprocess_robustness.py).
    ModelEntry(
        "compact-cnn",
        "hcr.models.cnn:regularized_cnn",
        "regularized-cnn at half the width (16/32/64 filters): 3.5× faster to run, for serving and batches.",
        {**REGULARIZED_RECIPE, "pen_width": 0.5},
        builder_settings={"filters": (16, 32, 64)},
    ),
    # The same builder, with the defaults a study found best: `hcr tune --space cnn` writes them to its
    # best_params.json, and resolving a training config for tuned-cnn applies them (hcr.pipelines.tune_retrain). The
    # recipe is regularized-cnn's with more epochs: the settings a study picked have earned a full retrain, and early
    # stopping ends it when it stalls.
    ModelEntry(
        "tuned-cnn",
        "hcr.models.cnn:regularized_cnn",
        "regularized-cnn with the settings `hcr tune --space cnn` found best (tune first).",
        {"epochs": 30, "batch_size": 128, "learning_rate": 2e-3, "augment": True, "early_stopping_patience": 6},
        tuned_from="cnn",
    ),
    ModelEntry(
        "mobilenetv2-frozen",
        "hcr.models.mobilenet:mobilenetv2_frozen",
        "ImageNet MobileNetV2 (alpha 0.35) as a frozen feature extractor; the head trains on cached features.",
        {"epochs": 40, "learning_rate": 1e-3, "early_stopping_patience": 5},
        needs_weights=True,
        transfer="features",
    ),
    ModelEntry(
        "mobilenetv2-finetune",
        "hcr.models.mobilenet:mobilenetv2_finetune",
        "MobileNetV2 whose head is first trained on frozen features, then its top blocks are fine-tuned.",
        FINETUNE_RECIPE,
        needs_weights=True,
        transfer="warm-head",
    ),
    # The same builder and recipe, with the defaults `hcr tune --space mobilenetv2` found best (as tuned-cnn).
    ModelEntry(
        "tuned-mobilenetv2",
        "hcr.models.mobilenet:mobilenetv2_finetune",
        "mobilenetv2-finetune with the settings `hcr tune --space mobilenetv2` found best (tune first).",
        FINETUNE_RECIPE,
        needs_weights=True,
        transfer="warm-head",
        tuned_from="mobilenetv2",
    ),
)
_REGISTRY: dict[str, ModelEntry] = {entry.name: entry for entry in ZOO}


def list_models(pattern: str = "*") -> list[str]:
    return sorted(fnmatch.filter(_REGISTRY, pattern))


def get_model_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise HcrError(f"unknown model '{name}'; available: {', '.join(list_models())}")
    return _REGISTRY[name]


def create_model(name: str, *, num_classes: int = NUM_CLASSES, **hparams: Any) -> "keras.Model":
    """Build a registered model; hyperparameters given as None keep the builder's default."""
    entry = get_model_entry(name)
    settings = {**entry.builder_settings, **{k: v for k, v in hparams.items() if v is not None}}
    return entry.build(num_classes=num_classes, **settings)
