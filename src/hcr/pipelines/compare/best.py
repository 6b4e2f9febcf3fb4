"""The comparison's winner, exported: best/model.onnx + model.json (hcr.training.export, verified against Keras)
and best/MODEL_CARD.md."""

import json
from pathlib import Path

from hcr.atomic import write_text_atomic
from hcr.console import console
from hcr.evaluation.leaderboard import LeaderboardRow
from hcr.evaluation.model_card import CardFacts, render_model_card
from hcr.inference.preprocess import PREPROCESS_VERSION
from hcr.models import get_model_entry
from hcr.pipelines.compare.model_step import evaluation_of
from hcr.runs import RunDir


def export_best(best: LeaderboardRow, n_compared: int, best_dir: Path) -> tuple[Path, Path]:
    """(model.onnx, MODEL_CARD.md) of `best` in `best_dir`.

    An export already there from the same run, for this preprocessing, is kept: exporting converts and verifies,
    which takes a while. One made by an older hcr (a comparison resumed after an upgrade) is made again."""
    from hcr.training.export import export_onnx  # Keras and tf2onnx: loaded only to export

    run = RunDir(Path(best.run))
    onnx_path, json_path = best_dir / "model.onnx", best_dir / "model.json"
    current = json.loads(json_path.read_text()) if json_path.is_file() else {}
    current_preprocessing = current.get("preprocess_version") == PREPROCESS_VERSION
    if not (onnx_path.is_file() and run.exported(current) and current_preprocessing):
        with console.status(f"Exporting {best.model} to ONNX…"):
            onnx_path = export_onnx(run.path, best_dir)
    facts = CardFacts(
        model=best.model,
        summary=get_model_entry(best.model).summary,
        config=run.read_json(run.config_path),
        metrics=run.read_json(run.metrics_path),
        evaluation=evaluation_of(run.path),
        n_compared=n_compared,
        train_seconds=best.train_seconds,
        tune_seconds=best.tune_seconds,
        files={
            "model.onnx": "the model (ONNX, float32 [N, 28, 28, 1] in 0..1 → [N, 26] probabilities)",
            "model.json": "classes, input convention, confidence threshold, provenance (hcr.training.export)",
        },
    )
    card_path = best_dir / "MODEL_CARD.md"
    write_text_atomic(card_path, render_model_card(facts))
    return onnx_path, card_path
