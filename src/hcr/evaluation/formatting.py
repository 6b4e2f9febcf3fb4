"""Scores as people read them, written once for every place that shows them (the terminal, report.html, the model
card), so the same figure never reads two ways."""

from typing import Any


def prf(scores: dict[str, float]) -> str:
    """Precision / recall / F1 of one average, e.g. 0.912 / 0.905 / 0.907."""
    return f"{scores['precision']:.3f} / {scores['recall']:.3f} / {scores['f1']:.3f}"


def accuracy_per_group(scores: dict[str, Any]) -> dict[str, str]:
    """{"accuracy per source": "emnist-letters 91.2% (n 1,300), az 98.0% (n 500)", "accuracy per case": ...} from
    scores with per_source and per_case (metrics.score_predictions, or a split of a run's metrics.json). A grouping
    with one group only is left out: it would repeat the headline accuracy."""
    return {
        f"accuracy per {group}": ", ".join(
            f"{name} {score['accuracy']:.1%} (n {score['n']:,})" for name, score in scores[f"per_{group}"].items()
        )
        for group in ("source", "case")
        if len(scores.get(f"per_{group}", {})) > 1
    }
