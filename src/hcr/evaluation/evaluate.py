"""Evaluate one run's best model on its own test split, or on any dataset hcr reads (cross-dataset).

hcr evaluate runs/20261124-032627-regularized-cnn                  # → RUN/evaluation/
hcr evaluate runs/20261124-032627-regularized-cnn --dataset az     # → RUN/evaluation-az/

Scores and figures come from plain arrays (metrics.py, plots.py); only the model's probabilities come from Keras,
through hcr.training.predict, imported when a model is really evaluated so this module stays importable without
TensorFlow.
"""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hcr.data import LetterData, load_datasets
from hcr.data.prepare import load_run_data
from hcr.errors import HcrError
from hcr.evaluation.metrics import groups_of, normalize_rows, score_predictions
from hcr.evaluation.plots import (
    confusion_figure,
    learning_curves_figure,
    misclassified_figure,
    save_figure,
)
from hcr.evaluation.speed import measure_speed
from hcr.runs import RunConfig, RunDir

log = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class Evaluation:
    out_dir: Path
    summary: dict[str, Any]  # what evaluation.json holds
    figures: list[Path]


def evaluation_dir(run_path: Path, datasets: Sequence[str] = ()) -> Path:
    """RUN/evaluation for the run's own test split, RUN/evaluation-<datasets> for a cross-dataset evaluation."""
    if not datasets:
        return run_path / "evaluation"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "+".join(datasets)).strip("-")
    return run_path / f"evaluation-{slug}"


def evaluate_run(run_path: Path, datasets: Sequence[str] = (), data_dir: Path | str | None = None) -> Evaluation:
    """Score the run's best checkpoint, measure its size and speed, and write evaluation.json and the figures."""
    run = RunDir.open(run_path)
    config = run.read_config()
    model_name = config.train.model
    from hcr.training.predict import RunModel  # Keras: loaded only here

    # the run's own files first: a damaged one is reported in a second, not after loading the data
    model = RunModel(run.path)
    history = run.read_history() if run.history_path.is_file() else []
    data, data_info = _evaluation_data(run, config, datasets, data_dir)
    x, y = data.x, data.y
    if len(y) == 0:
        raise HcrError(f"{run_path}: nothing to evaluate on (no images)")

    y_prob = model.predict_proba(x)  # [N, 26]
    scores = score_predictions(y, y_prob, groups_of(data))  # as a run's metrics.json is scored
    summary = {
        "run": str(run.path),
        "model": model_name,
        "data": data_info,
        **scores,
        "size": {"parameters": model.n_params_, "file_bytes": model.model_path_.stat().st_size},
        "speed": measure_speed(model.predict_proba, x),
    }
    out_dir = evaluation_dir(run.path, datasets)
    figures = _write_figures(run, history, out_dir, model_name, data_info["description"], x, y, y_prob, scores)
    summary["figures"] = [path.name for path in figures]
    run.write_json(out_dir / EVALUATION_FILE, summary)
    return Evaluation(out_dir, summary, figures)


def _evaluation_data(
    run: RunDir, config: RunConfig, datasets: Sequence[str], data_dir: Path | str | None
) -> tuple[LetterData, dict[str, Any]]:
    """(the letters, a description): every image of `datasets`, else the run's own test split."""
    if datasets:
        data = load_datasets(datasets, data_dir if data_dir is not None else config.data.data_dir)
        seen = sorted(set(data.sources) & set(config.sources))
        if seen:
            log.warning(
                "the model was trained on part of %s: these images include its training data, so the scores are "
                "optimistic",
                ", ".join(seen),
            )
        info = {
            "description": f"all of {' + '.join(datasets)}",
            "datasets": list(datasets),
            "sources": list(data.sources),
            "overlaps_training_sources": seen,
            "n": len(data),
        }
        return data, info
    data, split = load_run_data(run, data_dir)
    info = {
        "description": f"its test split ({len(split.test):,} images)",
        "split": {"method": split.method, "seed": split.seed, "part": "test", "sizes": split.sizes()},
        "sources": list(data.sources),
        "n": len(split.test),
    }
    return data.take(split.test), info


def _write_figures(
    run: RunDir,
    history: list[dict[str, float]],
    out_dir: Path,
    model_name: str,
    description: str,
    x: np.ndarray,
    y: np.ndarray,
    y_prob: np.ndarray,
    scores: dict[str, Any],
) -> list[Path]:
    matrix = np.array(scores["confusion_matrix"])
    title = f"{model_name} on {description}"
    figures = {
        "confusion_matrix.png": confusion_figure(matrix, normalized=False, title=f"Confusion matrix: {title}"),
        "confusion_matrix_normalized.png": confusion_figure(
            normalize_rows(matrix), normalized=True, title=f"Confusion matrix, row-normalized: {title}"
        ),
        "misclassified.png": misclassified_figure(x, y, y_prob, title=f"Most confident mistakes of {title}"),
    }
    if history:
        figures["learning_curves.png"] = learning_curves_figure(
            history, title=f"Learning curves: {model_name} ({run.path.name})"
        )
    return [save_figure(fig, out_dir / name) for name, fig in figures.items() if fig is not None]
