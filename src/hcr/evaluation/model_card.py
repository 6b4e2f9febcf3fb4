"""MODEL_CARD.md for the model a comparison exports: what it was trained on, how well it does, where it fails.

A deployed model travels with the facts needed to judge it (Mitchell et al., "Model Cards for Model Reporting",
2019), taken from its run folder and evaluation rather than written by hand, so they cannot drift from the model.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hcr.data.sources import shareable_name
from hcr.evaluation.formatting import accuracy_per_group, prf

SMALL_SUPPORT = 50  # letters with fewer test images than this get a wide-uncertainty warning


@dataclass(frozen=True)
class CardFacts:
    model: str
    summary: str  # the registry's one-line description
    config: dict[str, Any]  # the run's config.json
    metrics: dict[str, Any]  # the run's metrics.json (validation and test of the best checkpoint)
    evaluation: dict[str, Any]  # the run's evaluation.json (test split)
    n_compared: int
    train_seconds: float
    tune_seconds: float  # the search behind a tuned model; 0 for the others
    files: dict[str, str]  # file name → what it is


def render_model_card(facts: CardFacts) -> str:
    ev, train, data = facts.evaluation, facts.config["train"], facts.config["data"]
    split = ev["data"].get("split", {})
    sizes = split.get("sizes", {})
    weakest = sorted(ev["per_letter"].items(), key=lambda item: item[1]["f1"])[:5]
    small = [letter for letter, s in ev["per_letter"].items() if s["support"] < SMALL_SUPPORT]
    few = "every letter" if len(small) == len(ev["per_letter"]) else ", ".join(small)
    pairs = ", ".join(f"{p['true']} read as {p['predicted']} ({p['count']}×)" for p in ev["confused_pairs"][:5])
    lines = [
        f"# Model card: `{facts.model}`",
        "",
        facts.summary,
        "",
        "## Intended use",
        "",
        "Recognising one handwritten Latin letter A–Z in an image that holds that letter alone. The input is brought "
        "to hcr's convention first (`hcr.inference.preprocess`: ink bright on black, cropped to the ink, 28×28); "
        "the output is one probability per class in `model.json` (26 letters, and `not-a-letter` for a model "
        "trained with --out-of-scope). `model.json` holds a low-confidence threshold calibrated on held-out data "
        "(validation letters as files and as degraded files, and inputs with no letter): below it, at most 3 % of "
        "correct answers fall; `low_confidence` gives the share of errors it flags, and the run's "
        "`evaluation/risk_coverage.png` the trade-off.",
        "",
        "## Data",
        "",
        f"- Sources: {', '.join(facts.config['sources'])}"
        + (f" (datasets {', '.join(shareable_name(name) for name in data['datasets'])})" if data["datasets"] else ""),
        f"- Images: {'a balanced subset of ' + str(data['per_class']) + ' per letter' if data['per_class'] else 'all'}"
        f"; {split.get('method', data['split'])} split, seed {data['seed']}: "
        + ", ".join(f"{part} {n:,}" for part, n in sizes.items()),
        "",
        "## Training",
        "",
        f"- Epochs run: {facts.metrics.get('epochs_done')} (best checkpoint by validation accuracy: epoch "
        f"{facts.metrics.get('best_epoch')}), batch {train['batch_size']}, Adam {train['learning_rate']:g}, "
        f"augmentation {'on' if train['augment'] else 'off'}, seed {train['seed']}",
        f"- Training time: {facts.train_seconds / 60:.1f} min"
        + (f" after a {facts.tune_seconds / 60:.1f} min hyperparameter search" if facts.tune_seconds else "")
        + f"; picked as the best of {facts.n_compared} models compared, by validation accuracy",
        f"- Run folder: `{Path(ev['run']).name}`",
        "",
        f"## Metrics (test split, {ev['n']:,} images)",
        "",
        "| metric | value |",
        "|---|---:|",
        f"| validation accuracy | {facts.metrics['val']['accuracy']:.2%} |",
        f"| test accuracy | {ev['accuracy']:.2%} |",
        f"| macro precision / recall / F1 | {prf(ev['macro'])} |",
        f"| weighted precision / recall / F1 | {prf(ev['weighted'])} |",
        *(f"| {what} | {value} |" for what, value in accuracy_per_group(ev).items()),
        f"| parameters | {ev['size']['parameters']:,} |",
        f"| inference (this machine) | {ev['speed']['batch_images_per_second']:,.0f} images/s in batches, "
        f"{ev['speed']['single_image_ms']:.1f} ms per single image |",
        "",
        "Weakest letters (F1): " + ", ".join(f"{letter} {s['f1']:.2f}" for letter, s in weakest) + ".",
        f"Most frequent confusions: {pairs or 'none'}.",
        "",
        "## Limits",
        "",
        "- Scores are measured on held-out images of the same sources it was trained on. Other handwriting (other "
        "writers, pens, scanners) will score lower: measure it with `hcr evaluate RUN --dataset folder:PATH`.",
        "- EMNIST Letters files upper and lower case under one letter, and a lowercase l looks like a capital I: "
        "I/L confusions are expected and are mostly not fixable from the image alone.",
        "- Anything that is not a single letter (digits, punctuation, words, an empty or noisy crop) is forced into "
        "one of the 26 letters unless the model was trained with --out-of-scope (then it may answer `not-a-letter`; "
        "a written 0 or 1 still reads as O or I); use the confidence threshold to reject doubtful inputs.",
    ]
    if small:
        lines.append(
            f"- Few test images for {few} (under {SMALL_SUPPORT} each): per-letter scores are uncertain by several "
            "points."
        )
    lines += [
        "- Inference speed was measured on the machine that ran the comparison (shared, noisy); measure on yours.",
        "",
        "## Files",
        "",
        *(f"- `{name}`: {what}" for name, what in facts.files.items()),
        "",
    ]
    return "\n".join(lines)
