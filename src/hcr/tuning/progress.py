"""What a person watching `hcr tune` sees: a live bar of finished trials with the best so far, and one line per
trial this worker ends. Counts come from the study, so with several workers they include everyone's trials."""

from types import TracebackType

import optuna
from optuna.trial import FrozenTrial, TrialState
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hcr.console import console

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)  # the trials that count towards --trials


def count_trials(study: optuna.Study, states: tuple[TrialState, ...]) -> int:
    return len(study.get_trials(deepcopy=False, states=states))


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The best complete trial, or None before one completes (study.best_trial raises then)."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return max(complete, key=lambda trial: trial.value) if complete else None


def describe_best(study: optuna.Study) -> str:
    best = best_trial(study)
    return f"best val_acc {best.value:.4f} (trial #{best.number})" if best else "no trial complete yet"


class TrialProgress:
    """Nested inside it, each trial's own training progress bars show too (Rich renders nested live displays)."""

    def __init__(self, n_trials: int) -> None:
        self.n_trials = n_trials
        self.progress = Progress(
            TextColumn("trials"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task("trials", total=n_trials, best="")

    def __enter__(self) -> "TrialProgress":
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None):
        self.progress.stop()

    def update(self, study: optuna.Study) -> None:
        self.progress.update(self.task, completed=count_trials(study, FINISHED), best=describe_best(study))

    def trial_ended(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """An Optuna callback: one line per trial this worker ran, then the bar."""
        if trial.state == TrialState.COMPLETE:
            outcome = f"val_acc {trial.value:.4f}"
        elif trial.state == TrialState.PRUNED:
            outcome = f"pruned after epoch {trial.last_step} (val_acc {trial.intermediate_values[trial.last_step]:.4f})"
        else:
            outcome = trial.user_attrs.get("not_run", "failed")
        finished = count_trials(study, FINISHED)
        console.print(
            f"trial #{trial.number}: {outcome} · {finished}/{self.n_trials} finished · {describe_best(study)}",
            highlight=False,
        )
        self.update(study)
