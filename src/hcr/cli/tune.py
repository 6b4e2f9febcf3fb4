"""`hcr tune`: search a space of hyperparameters with Optuna, then retrain the best settings as a normal run.

`--space` names a search space, not a model (`cnn` trains regularized-cnn and gives tuned-cnn); it was called
`--model`, which still works, hidden and with a warning, so scripts written against it keep running."""

from pathlib import Path

import typer
from rich.table import Table

from hcr.cli.data import (
    DATA_PANEL,
    TRAINING_PANEL,
    SplitMethod,
    data_dir_option,
    dataset_option,
    per_class_option,
    split_option,
)
from hcr.cli.settings import config_option, given_options, resolved_data_settings
from hcr.cli.tracking import track_option, tracking_uri_option
from hcr.cli.train import quiet_tensorflow
from hcr.console import console, output
from hcr.errors import HcrError

STUDY_PANEL = "Study (several machines)"


def tune(
    ctx: typer.Context,
    space: str | None = typer.Option(
        None,
        metavar="SPACE",
        help="Search space: cnn (trains regularized-cnn, gives tuned-cnn) or mobilenetv2 (trains "
        "mobilenetv2-finetune, gives tuned-mobilenetv2).",
    ),
    model: str | None = typer.Option(None, metavar="SPACE", hidden=True, help="Deprecated name of --space."),
    trials: int = typer.Option(
        ..., metavar="N", help="Finished trials (complete or pruned) the study should hold, every worker's counted."
    ),
    timeout: float | None = typer.Option(None, metavar="S", help="Start no new trial after S seconds."),
    runs_dir: Path = typer.Option(
        Path("runs"), metavar="DIR", help="Where the tuning folder and the retrained run are created."
    ),
    storage: str | None = typer.Option(
        None,
        metavar="URL",
        help="Optuna storage shared by workers, e.g. postgresql://user@host/db. Default: study.db in the tuning "
        "folder.",
        rich_help_panel=STUDY_PANEL,
    ),
    study: str | None = typer.Option(
        None,
        metavar="NAME",
        help="Study name: an existing one is resumed or joined. Default: a new one.",
        rich_help_panel=STUDY_PANEL,
    ),
    heartbeat: int = typer.Option(
        10,
        metavar="S",
        help="Seconds between a trial's heartbeats; a worker silent for two is taken for dead.",
        rich_help_panel=STUDY_PANEL,
    ),
    config_file: Path | None = config_option(),
    dataset: list[str] = dataset_option(),
    data_dir: Path | None = data_dir_option(),
    per_class: int | None = per_class_option("Tune on"),
    split: SplitMethod = split_option(),
    seed: int = typer.Option(
        0, help="Seed for the subset, the split, the trials' training and the sampler.", rich_help_panel=DATA_PANEL
    ),
    epochs: int | None = typer.Option(
        None,
        metavar="N",
        help="Maximum epochs of each trial. Default: the search space's.",
        rich_help_panel=TRAINING_PANEL,
    ),
    trial_steps: int | None = typer.Option(
        None,
        metavar="N",
        help="Batches of each trial's epoch at most (a large pool: a share of it per epoch). Default: all of it.",
        rich_help_panel=TRAINING_PANEL,
    ),
    final_epochs: int | None = typer.Option(
        None,
        metavar="N",
        help="Maximum epochs of the retrained best settings. Default: the tuned model's recipe.",
        rich_help_panel=TRAINING_PANEL,
    ),
    retrain: bool = typer.Option(
        True,
        "--retrain/--no-retrain",
        help="Retrain the best settings after the search.",
        rich_help_panel=TRAINING_PANEL,
    ),
    weights: Path | None = typer.Option(
        None, metavar="FILE", help="Pretrained weights file (mobilenetv2).", rich_help_panel=TRAINING_PANEL
    ),
    track: bool = track_option(),
    tracking_uri: str | None = tracking_uri_option(),
) -> None:
    """Tune hyperparameters (TPE, median pruning); write trials.csv, best_params.json and plots; retrain the best."""
    from hcr.tracking import Tracker, require_mlflow
    from hcr.tracking import tracking_uri as resolve_tracking_uri

    search = _search_space(space, model)

    given = given_options(ctx)
    cli_data = {key: value for key, value in {
        "datasets": tuple(dataset), "data_dir": str(data_dir.resolve()) if data_dir else None,
        "per_class": per_class, "split": split.value, "seed": seed,
    }.items() if key in given}  # fmt: skip
    data_config = resolved_data_settings(config_file, cli_data, "hcr tune")  # checked before TensorFlow loads
    quiet_tensorflow()
    import optuna

    from hcr.pipelines.tune_retrain import tune_then_retrain
    from hcr.tuning import TuneConfig

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # hcr prints a line per trial itself
    config = TuneConfig(
        search=search, n_trials=trials, timeout=timeout, storage=storage, study_name=study, epochs=epochs,
        trial_steps=trial_steps, seed=seed, weights=str(weights) if weights else None, heartbeat_interval=heartbeat,
    )  # fmt: skip
    uri = resolve_tracking_uri(track, tracking_uri, runs_dir)
    if uri is not None:
        require_mlflow()  # now, not after the work whose results it would log
    outcome = tune_then_retrain(config, data_config, runs_dir, retrain=retrain, final_epochs=final_epochs)
    result, retrained = outcome.tuning, outcome.retrained
    if uri is not None:
        from hcr.tracking.pipelines import log_tuning

        log_tuning(Tracker.connect(uri), result.tuning_dir, retrained.run.path if retrained else None)

    table = Table(title=f"Best trial #{result.best_trial}: val_acc {result.best_value:.4f}")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for name, value in result.best_params.items():
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    output.print(table)
    counts = ", ".join(f"{count} {state.lower()}" for state, count in result.counts.items() if count)
    output.print(f"study {result.study_name} ({result.storage}): {counts}", highlight=False, soft_wrap=True)
    output.print(f"tuning folder: {result.tuning_dir}", highlight=False, soft_wrap=True)
    if retrained:
        val, test = retrained.metrics["val"], retrained.metrics["test"]
        output.print(f"retrained run folder: {retrained.run.path}", highlight=False, soft_wrap=True)
        output.print(
            f"validation accuracy {val['accuracy']:.4f} (macro-F1 {val['macro_f1']:.4f}) · "
            f"test accuracy {test['accuracy']:.4f} (macro-F1 {test['macro_f1']:.4f})",
            highlight=False,
        )


def _search_space(space: str | None, model: str | None) -> str:
    """--space, or the deprecated --model it replaced (with a warning on stderr)."""
    if space is not None and model is not None:
        raise HcrError("--model is the old name of --space: give only --space")
    if model is not None:
        console.print("[yellow]warning:[/] --model is deprecated for hcr tune; use --space", highlight=False)
        return model
    if space is None:
        raise HcrError("say which search space to tune: --space cnn or --space mobilenetv2")
    return space
