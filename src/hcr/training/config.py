"""A model's training settings resolved: defaults, then the model's recipe, then what the user sets; the resolved
result is saved with the run. The settings themselves, and their checks, are hcr.configs's.
"""

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hcr.configs import TrainConfig
from hcr.errors import HcrError


def resolve_config(model: str, *, tuned: Mapping[str, Any] | None = None, **overrides: Any) -> TrainConfig:
    """Defaults, then the model's recipe, then (tuned-* models) the `tuned` settings a study found, then the user's
    settings; pretrained weights resolved to a file. Needs no Keras: the whole config is checked before any is
    loaded. Finding a study's settings on disk is hcr.pipelines.tune_retrain's job, which calls this."""
    from hcr.models import get_model_entry

    entry = get_model_entry(model)
    config = TrainConfig(model=model).with_overrides(**entry.recipe)
    if entry.tuned_from:
        if tuned is None:
            raise HcrError(f"{model} takes its settings from a study: resolve it with hcr.pipelines.tune_retrain")
        config = config.with_overrides(**tuned)
    config = config.with_overrides(**overrides)
    config = replace(config, hparams=entry.resolved_hparams(config.hparams))  # saved whole with the run
    if entry.transfer == "features" and config.augment:
        raise HcrError(
            f"{model} trains its head on features computed once, which cannot be augmented; "
            "use mobilenetv2-finetune for augmented transfer learning"
        )
    if entry.needs_weights:
        from hcr.models.weights import resolve_weights

        return config.with_overrides(weights=str(resolve_weights(config.weights)))
    return replace(config, weights=None)  # a weights file given for a whole zoo concerns only the models built on one
