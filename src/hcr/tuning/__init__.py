"""Hyperparameter search (Optuna): search spaces per model, studies shared by any number of workers, and the
best settings become tuned-cnn / tuned-mobilenetv2 (retrained by hcr.pipelines.tune_retrain).

hcr tune --space cnn --trials 30
"""

from hcr.tuning.spaces import SPACES, SearchSpace, get_space
from hcr.tuning.study import TuneConfig, TuneResult, tune

__all__ = ["SPACES", "SearchSpace", "TuneConfig", "TuneResult", "get_space", "tune"]
