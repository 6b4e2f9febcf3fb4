"""`hcr compare`: train and evaluate the model zoo on one split; leaderboard, HTML report, best model exported."""

from enum import StrEnum
from pathlib import Path

import typer
from rich import box
from rich.table import Table

from hcr.cli.data import (
    CaseMode,
    canonical_option,
    capitals_option,
    case_option,
    data_dir_option,
    dataset_option,
)
from hcr.cli.settings import config_option, given_options, resolved_data_settings
from hcr.cli.tracking import track_option, tracking_uri_option
from hcr.cli.train import quiet_tensorflow
from hcr.console import console, output
from hcr.errors import HcrError

# compare's data settings default to the shipped model's (hcr.pipelines.compare.deployable_data_settings), read from
# its model.json when the command runs; --help says so rather than showing the options' own defaults
SHIPPED_DEFAULT = "the shipped model's"


class PresetName(StrEnum):
    quick = "quick"
    seed = "seed"
    full = "full"


def compare(
    ctx: typer.Context,
    preset: PresetName = typer.Option(
        PresetName.quick,
        help="quick: at most 650 images per letter, a quarter of each recipe's epochs, a small CNN search (about "
        "15 min on 2 cores); seed: 400 per letter, 20–60 epochs, both searches; full: every image, full recipes "
        "and searches.",
    ),
    models: str | None = typer.Option(
        None, help="Comma-separated models to compare (see `hcr models`). Default: the whole zoo."
    ),
    config_file: Path | None = config_option(),
    dataset: list[str] = dataset_option(),
    data_dir: Path | None = data_dir_option(),
    case: CaseMode = case_option(SHIPPED_DEFAULT),
    capitals: bool = capitals_option(SHIPPED_DEFAULT),
    canonical: bool = canonical_option(SHIPPED_DEFAULT),
    seeds: str = typer.Option(
        "0",
        help="Comma-separated training seeds: each model trains once per seed on the same split (the data "
        "settings' seed); the leaderboard shows mean ± sd and ranks by the mean, e.g. 0,1,2.",
    ),
    out: Path = typer.Option(
        Path("out/compare"), help="Output folder; run the same command again to resume an interrupted comparison."
    ),
    weights: Path | None = typer.Option(
        None, help="MobileNetV2 weights file (else $HCR_MOBILENET_WEIGHTS); without one those models are skipped."
    ),
    track: bool = track_option(),
    tracking_uri: str | None = tracking_uri_option(),
) -> None:
    """Train and evaluate every model on one split; write the leaderboard, report.html and the best model."""
    quiet_tensorflow()
    import time

    import optuna

    from hcr.evaluation.leaderboard import HEADERS, formatted
    from hcr.pipelines.compare import PRESETS, compare_models, deployable_data_settings
    from hcr.tracking import Tracker, require_mlflow
    from hcr.tracking import tracking_uri as resolve_tracking_uri

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the tuning step prints a line per trial itself
    started = time.perf_counter()
    names = [name.strip() for name in models.split(",") if name.strip()] if models else []
    training_seeds = _parse_seeds(seeds)
    uri = resolve_tracking_uri(track, tracking_uri, out)
    if uri is not None:
        require_mlflow()  # now, not after the work whose results it would log
    given = given_options(ctx)
    cli_data = {key: value for key, value in {
        "case": case.value, "capitals": capitals, "canonical": canonical,
    }.items() if key in given}  # fmt: skip
    # by default, trained the way the shipped model is (its case, bars as I, canonical preprocessing)
    data_settings = resolved_data_settings(config_file, cli_data, "hcr compare", deployable_data_settings())
    result = compare_models(
        PRESETS[preset.value], names, dataset, data_dir, out, weights, data_settings=data_settings, seeds=training_seeds
    )
    if uri is not None:
        from hcr.tracking.pipelines import log_comparison

        log_comparison(Tracker.connect(uri), result.out_dir, result.leaderboard, result.skipped)

    # the columns that fit 80 characters, under short names; leaderboard.md has them all
    shown = {"#": "#", "model": "model", "val acc": "val acc", "test acc": "test acc", "files acc": "files",
             "params": "params", "train time": "train", "images/s": "img/s"}  # fmt: skip
    columns = [HEADERS.index(header) for header in shown]
    ranking = f"mean validation accuracy over seeds {seeds}" if len(training_seeds) > 1 else "validation accuracy"
    title = f"Leaderboard ({preset.value} preset, by {ranking})"
    table = Table(title=title, box=box.SIMPLE_HEAD, collapse_padding=True)
    for name in shown.values():
        table.add_column(name, justify="left" if name == "model" else "right", no_wrap=True)
    for place, row in enumerate(formatted(result.leaderboard)):
        table.add_row(*(row[i] for i in columns), style="bold green" if place == 0 else None)
    output.print(table)
    for name, why in result.skipped.items():
        console.print(f"[yellow]not compared:[/] {name}: {why}", highlight=False)
    output.print(result.against_shipped, highlight=False, soft_wrap=True)
    output.print(
        f"best model: {result.leaderboard[0].model} → {result.best_model_path} (model card {result.model_card_path})\n"
        f"report: {result.report_path}\nleaderboard: {result.leaderboard_paths[1]}\n"
        f"took {(time.perf_counter() - started) / 60:.1f} min",
        highlight=False,
        soft_wrap=True,
    )


def _parse_seeds(text: str) -> list[int]:
    """--seeds "0,1,2" as integers (compare_models checks their range and that none repeats)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise HcrError(f"--seeds must be comma-separated integers such as 0,1,2, got {text!r}") from None
