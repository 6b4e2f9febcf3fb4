"""A run's best Keras checkpoint as a plain `predict(x) -> probabilities` function: the one way hcr gets a Keras
model's probabilities (a run's own scores, hcr evaluate, the export's check against ONNX).

hcr evaluate runs/20261124-032627-regularized-cnn

Evaluation code stays free of Keras (it scores arrays); this is the one place it borrows the model from.
"""

from pathlib import Path

import numpy as np

from hcr.errors import HcrError
from hcr.inference.preprocess import to_model_input
from hcr.runs import RunDir

BATCH_SIZE = 256


class RunModel:
    """The best checkpoint of a run folder, loaded once.

    `predict_proba` runs the compiled `predict_on_batch` per batch rather than `model.predict`, whose per-call
    set-up (a data pipeline, callbacks) costs ~200 ms and would swamp the single-image latency that evaluation
    measures (~2 ms for the regularized CNN), and rather than an eager `model(x)`, which is ~2× slower per batch."""

    def __init__(self, run_path: Path) -> None:
        run = RunDir.open(run_path)
        if not run.best_model_path.is_file():
            raise HcrError(f"{run_path}: no trained model (checkpoints/best.keras is missing)")
        self.model_path_ = run.best_model_path
        from hcr.training.precision import float32_model  # Keras, as the checkpoint needs: after the checks above

        self.model_ = float32_model(run.load_model(run.best_model_path))  # a mixed-precision run's too
        self.n_params_ = int(self.model_.count_params())

    def predict_proba(self, x: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """uint8 [N, 28, 28] letters → float32 [N, 26] probabilities."""
        parts = [
            np.asarray(self.model_.predict_on_batch(to_model_input(x[start : start + batch_size])))
            for start in range(0, len(x), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.model_.output_shape[-1]), np.float32)
