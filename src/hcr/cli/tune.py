"""`hcr tune`: search a model's hyperparameters with Optuna, then retrain the best settings as a normal run."""

from pathlib import Path

import typer
from rich.table import Table

from hcr.cli.data import DATA_DIR_HELP, DATASET_HELP, SplitMethod
from hcr.cli.train import quiet_tensorflow
from hcr.console import output


def tune(
    model: str = typer.Option(
        ...,
        help="Search space: cnn (trains regularized-cnn, gives tuned-cnn) or mobilenetv2 (mobilenetv2-finetune, "
        "gives tuned-mobilenetv2).",
    ),
    trials: int = typer.Option(
        ..., help="Finished trials (complete or pruned) the study should hold, every worker's counted."
    ),
    timeout: float | None = typer.Option(None, help="Start no new trial after this many seconds."),
    storage: str | None = typer.Option(
        None,
        help="Optuna storage URL shared by workers (e.g. postgresql://user@host/db). Default: study.db in "
        "the tuning folder.",
    ),
    study: str | None = typer.Option(
        None, help="Study name: an existing one is resumed or joined. Default: a new one."
    ),
    dataset: list[str] = typer.Option([], "--dataset", "-d", help=DATASET_HELP),
    data_dir: Path | None = typer.Option(None, envvar="HCR_DATA_DIR", help=DATA_DIR_HELP, show_envvar=False),
    per_class: int | None = typer.Option(None, help="Tune on a balanced subset of N images per letter."),
    split: SplitMethod = typer.Option(SplitMethod.stratified, help="official keeps the datasets' own test split."),
    seed: int = typer.Option(0, help="Seed for the subset, the split, the trials' training and the sampler."),
    epochs: int | None = typer.Option(None, help="Maximum epochs of each trial. Default: the search space's."),
    final_epochs: int | None = typer.Option(
        None, help="Maximum epochs of the retrained best settings. Default: the tuned model's recipe."
    ),
    retrain: bool = typer.Option(True, "--retrain/--no-retrain", help="Retrain the best settings after the search."),
    weights: Path | None = typer.Option(None, help="Pretrained weights file (mobilenetv2)."),
    runs_dir: Path = typer.Option(Path("runs"), help="Where the tuning folder and the retrained run are created."),
    heartbeat: int = typer.Option(
        10, help="Seconds between a trial's heartbeats; a worker silent for two is taken for dead."
    ),
) -> None:
    """Tune hyperparameters (TPE, median pruning); write trials.csv, best_params.json and plots; retrain the best."""
    from hcr.training.config import DataConfig

    data_config = DataConfig(
        datasets=tuple(dataset),
        data_dir=str(data_dir.resolve()) if data_dir else None,
        per_class=per_class,
        split=split.value,
        seed=seed,
    )  # fmt: skip  (checked before TensorFlow loads)
    quiet_tensorflow()
    import optuna

    from hcr.tuning import TuneConfig
    from hcr.tuning import tune as run_tune

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # hcr prints a line per trial itself
    config = TuneConfig(
        search=model, n_trials=trials, timeout=timeout, storage=storage, study_name=study, epochs=epochs,
        final_epochs=final_epochs, retrain=retrain, seed=seed, weights=str(weights) if weights else None,
        heartbeat_interval=heartbeat,
    )  # fmt: skip
    result = run_tune(config, data_config, runs_dir)

    table = Table(title=f"Best trial #{result.best_trial}: val_acc {result.best_value:.4f}")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for name, value in result.best_params.items():
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    output.print(table)
    counts = ", ".join(f"{count} {state.lower()}" for state, count in result.counts.items() if count)
    output.print(f"study {result.study_name} ({result.storage}): {counts}", highlight=False, soft_wrap=True)
    output.print(f"tuning folder: {result.tuning_dir}", highlight=False, soft_wrap=True)
    if result.retrained:
        val, test = result.retrained.metrics["val"], result.retrained.metrics["test"]
        output.print(f"retrained run folder: {result.retrained.run.path}", highlight=False, soft_wrap=True)
        output.print(
            f"validation accuracy {val['accuracy']:.4f} (macro-F1 {val['macro_f1']:.4f}) · "
            f"test accuracy {test['accuracy']:.4f} (macro-F1 {test['macro_f1']:.4f})",
            highlight=False,
        )
