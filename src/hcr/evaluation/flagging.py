"""How well a confidence threshold separates a model's errors from its correct answers, and where to put it.

hcr export runs/20261130-084200-compact-cnn      # → model.json "low_confidence", RUN/evaluation/risk_coverage.png

Issue 17 sets the target in the terms users feel: at least 80 % of errors flagged (`hcr predict` marks them low
confidence), at most 3 % of correct answers flagged. The threshold is therefore chosen to keep the second promise
(CORRECT_FLAG_BUDGET) on held-out data, and the first is measured and reported, not assumed. The held-out data holds
hard inputs (letters drawn as degraded files, inputs with no letter): on clean dataset letters alone a model makes
too few errors for the rates to mean anything for the files people bring. Plain arrays in, numbers and a PNG out.
"""

from pathlib import Path
from typing import Any

import numpy as np

from hcr.evaluation.plots import risk_coverage_figure, save_figure

RISK_COVERAGE_FIGURE = "risk_coverage.png"  # written at export into the run's evaluation folder
CORRECT_FLAG_BUDGET = 0.03  # at most this share of correct answers flagged (issue 17)
# at most this share of held-out letters answered not-a-letter: a real letter refused is worse than one flagged, as
# no letter comes back at all (measured on the first such model: 1.75 % of test letters refused without a threshold)
LETTERS_REFUSED_BUDGET = 0.003
ERRORS_FLAGGED_TARGET = 0.80  # at least this share of errors flagged (issue 17): reported against


def correct_flagged_threshold(confidence: np.ndarray, correct: np.ndarray, budget: float) -> float:
    """The highest threshold (flag when confidence < threshold) that flags at most `budget` of the correct answers:
    the most errors caught for the price users accept. 1.0 flags everything if nothing is correct."""
    right = np.sort(confidence[correct])
    k = int(np.floor(budget * len(right)))  # flagging those below the k-th lowest flags at most k
    return float(right[k]) if k < len(right) else 1.0


def flag_rates(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> dict[str, Any]:
    """Accuracy, the share of errors flagged and of correct answers flagged at `threshold`, on one set."""
    flagged = confidence < threshold
    return {
        "n": len(correct),
        "accuracy": float(correct.mean()) if len(correct) else None,
        "errors_flagged": float(flagged[~correct].mean()) if (~correct).any() else None,
        "correct_flagged": float(flagged[correct].mean()) if correct.any() else None,
        "flagged": float(flagged.mean()) if len(correct) else None,
    }


def risk_coverage(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, risk): keeping the k most confident answers, for every k, the share kept and their error rate."""
    order = np.argsort(-confidence, kind="stable")
    errors = np.cumsum(~correct[order])
    kept = np.arange(1, len(order) + 1)
    return kept / len(order), errors / kept


def calibrate(sets: dict[str, tuple[np.ndarray, np.ndarray]], figure_path: Path | None = None) -> dict[str, Any]:
    """The threshold for named held-out sets of (probabilities [N, C], labels [N]), chosen on all of them pooled,
    and the rates it gives on each and pooled; with `figure_path`, their risk–coverage curves saved there."""
    scored = {}
    for name, (probabilities, y) in sets.items():
        scored[name] = (probabilities.max(axis=1), probabilities.argmax(axis=1) == y)
    pooled = tuple(np.concatenate(parts) for parts in zip(*scored.values(), strict=True))
    threshold = correct_flagged_threshold(*pooled, CORRECT_FLAG_BUDGET)
    rates = {name: flag_rates(*pair, threshold) for name, pair in scored.items()}
    if figure_path is not None:
        curves = {}
        for name, (confidence, correct) in {**scored, "all held-out": pooled}.items():
            kept = confidence >= threshold
            point = (float(kept.mean()), float((~correct[kept]).mean()) if kept.any() else 0.0)
            curves[name] = (*risk_coverage(confidence, correct), *point)
        title = f"Risk–coverage on held-out data (dots: threshold {threshold:.3f})"
        save_figure(risk_coverage_figure(curves, title), figure_path)
    return {"threshold": threshold, "pooled": flag_rates(*pooled, threshold), "sets": rates}


def not_a_letter_threshold(letters: np.ndarray, not_letters: np.ndarray) -> dict[str, Any]:
    """The lowest not-a-letter probability at which an answer is "not a letter" that refuses at most
    LETTERS_REFUSED_BUDGET of held-out real letters, from the not-a-letter probabilities [N] of letters and [M] of
    inputs that are none (only answers where it beats every letter count; the others are a letter in any case); with
    the shares refused and caught."""
    ranked = np.sort(letters)[::-1]
    k = int(np.floor(LETTERS_REFUSED_BUDGET * len(ranked)))
    threshold = float(np.nextafter(ranked[k], np.float32(1.0))) if k < len(ranked) else 0.0
    return {
        "threshold": threshold,
        "letters_refused": float((letters >= threshold).mean()) if len(letters) else None,
        "not_letters_caught": float((not_letters >= threshold).mean()) if len(not_letters) else None,
        "budget": LETTERS_REFUSED_BUDGET,
    }
