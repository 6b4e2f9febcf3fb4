"""What a search leaves in its tuning folder: the trials table, the best settings, and Optuna's own plots.

Optuna's default plots are plotly, whose image export needs kaleido and a browser; its matplotlib versions
draw the same figures and save as PNG anywhere.
"""

import json
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from hcr.atomic import atomic_path, write_text_atomic
from hcr.configs import DataConfig
from hcr.pyplot import pyplot
from hcr.runs import BEST_PARAMS_NAME
from hcr.tuning.spaces import SearchSpace

TRIALS_NAME = "trials.csv"
HISTORY_PLOT_NAME = "optimization_history.png"
IMPORTANCE_PLOT_NAME = "param_importances.png"


def write_trials_table(study: optuna.Study, tuning_dir: Path) -> Path:
    """Every trial of the study, any worker's: number, state, value, parameters, durations, user attributes."""
    path = tuning_dir / TRIALS_NAME
    write_text_atomic(path, study.trials_dataframe().to_csv(index=False))
    return path


def write_best_params(
    tuning_dir: Path, space: SearchSpace, best: FrozenTrial, study_name: str, storage: str, data_config: DataConfig
) -> Path:
    """The best trial's parameters, and the training settings they mean (what hcr.pipelines.tune_retrain reads)."""
    settings = space.suggest(optuna.trial.FixedTrial(best.params))  # the same mapping the trial itself went through
    record: dict[str, Any] = {
        "model": space.tuned_model,
        "base_model": space.base_model,
        "study": study_name,
        "storage": storage,
        "trial": best.number,
        "val_accuracy": best.value,
        "params": best.params,
        "settings": settings,
        "data": data_config.to_dict(),
    }
    path = tuning_dir / BEST_PARAMS_NAME
    write_text_atomic(path, json.dumps(record, indent=2) + "\n")
    return path


def write_plots(study: optuna.Study, tuning_dir: Path) -> list[Path]:
    """Optimization history, and parameter importances once two completed trials differ in value (fANOVA needs two,
    and fails on "zero total variance" when they score alike: tiny studies often do, and the run then crashed)."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.visualization import matplotlib as optuna_plots

    plots = [(HISTORY_PLOT_NAME, lambda: optuna_plots.plot_optimization_history(study, target_name="val_accuracy"))]
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len({trial.value for trial in completed}) >= 2:
        evaluator = FanovaImportanceEvaluator(seed=0)  # seeded: the same study draws the same bars
        plots.append((IMPORTANCE_PLOT_NAME, lambda: optuna_plots.plot_param_importances(study, evaluator=evaluator)))
    written = []
    for name, draw in plots:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the matplotlib plots are
            axes = draw()  # marked experimental; their output is what we want
        if name == HISTORY_PLOT_NAME:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # trial numbers
        figure = axes.figure
        figure.set_size_inches(8, 5)
        with atomic_path(tuning_dir / name) as tmp:
            figure.savefig(tmp, dpi=120, bbox_inches="tight")  # "tight": the history plot's legend sits outside
        plt.close(figure)
        written.append(tuning_dir / name)
    return written
