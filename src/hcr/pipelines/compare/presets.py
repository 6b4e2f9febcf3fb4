"""What `hcr compare` compares, and how much training each preset gives it."""

from dataclasses import dataclass, field

# The zoo the issue compares, in the order it is presented. Names not (yet) in the registry are skipped with a note.
ZOO = (
    "baseline-cnn",
    "regularized-cnn",
    "tuned-cnn",
    "mobilenetv2-frozen",
    "mobilenetv2-finetune",
    "tuned-mobilenetv2",
)


@dataclass(frozen=True)
class Preset:
    """How much data and how many epochs every model gets; each model's own recipe is scaled, not replaced."""

    name: str
    per_class: int | None  # a balanced subset of this many images per letter; None: every image
    epoch_scale: float  # × the epochs of each model's recipe
    min_epochs: int = 1
    max_epochs: int | None = None
    # search space (hcr.tuning.spaces) → (trials, maximum epochs per trial); a tuned-* model whose space has no
    # budget here is skipped with a note
    tuning: dict[str, tuple[int, int]] = field(default_factory=dict)
    # batches of each trial's epoch at most (None: the whole train part): what makes a search over every image fit
    trial_steps: int | None = None
    # letters of each class drawn as files for the test on files (pipelines/compare/on_files.py), at most as many as
    # the per-letter sample trains on: ~12 ms a file to draw and read, so 40 per letter add ~15 s to a comparison
    file_letters: int = 40

    def file_letters_for(self, per_class: int | None) -> int:
        return min(self.file_letters, per_class or self.file_letters)

    def epochs(self, recipe_epochs: int) -> int:
        epochs = max(self.min_epochs, round(recipe_epochs * self.epoch_scale))
        return min(epochs, self.max_epochs) if self.max_epochs else epochs


PRESETS = {
    # at most 650 images per letter (16,900: the size of the v1 dev pool, on which quick was sized to 15 min on 2
    # cores; every image of the 151 k pool of dev protocol v2 would take ~2 hours, of a 0.8 M pool half a day),
    # a quarter of each recipe's epochs (baseline/regularized 5, frozen 10, fine-tuning 2, tuned-cnn 8); a small CNN
    # search; a MobileNetV2 trial alone (a feature pass, then epochs at 96 px) would not fit in 15 min
    "quick": Preset("quick", per_class=650, epoch_scale=0.25, min_epochs=2, tuning={"cnn": (4, 2)}),
    # the seed notebook's protocol: 400 images per letter where available, 20–60 epochs, both searches
    "seed": Preset(
        "seed",
        per_class=400,
        epoch_scale=1.0,
        min_epochs=20,
        max_epochs=60,
        tuning={"cnn": (12, 8), "mobilenetv2": (6, 3)},
    ),
    # every image, every recipe as it is (early stopping decides); as many trials as the seed's searches, each epoch
    # of a trial 300 batches (19,200 letters) of the 105,596 in the train part, validated on all 22,628: a trial over
    # every letter took 27 min on 2 cores, so the 30 such trials once budgeted here would have taken half a day
    "full": Preset(
        "full",
        per_class=None,
        epoch_scale=1.0,
        tuning={"cnn": (12, 6), "mobilenetv2": (6, 3)},
        trial_steps=300,
        file_letters=100,
    ),
}


def default_models() -> list[str]:
    """The zoo in its order, then any other registered model."""
    from hcr.models import list_models

    return list(ZOO) + [name for name in list_models() if name not in ZOO]
