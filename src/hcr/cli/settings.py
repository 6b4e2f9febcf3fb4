"""Settings from a TOML file (`--config FILE`, hcr.training.config_file) and the command line together: a file
says what it sets, and only the options a user really gave override it. Shared by train, tune and compare."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hcr.console import console

if TYPE_CHECKING:
    from hcr.configs import DataConfig, TrainConfig

# options → the settings they set, where the names differ (seed sets both the training's and the split's)
_OPTION_SETTINGS = {"dataset": "datasets"}


def config_option() -> Any:
    """--config FILE, as train, tune and compare take it (one definition, one help text)."""
    return typer.Option(
        None,
        "--config",
        metavar="FILE",
        help="A TOML settings file (sections train and data; every run saves its own as config.toml); options "
        "given here override it.",
    )


def given_options(ctx: typer.Context) -> set[str]:
    """The settings the user gave on the command line (or through an environment variable), as opposed to those
    left at the option's default: only given ones override a settings file."""
    given = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)  # an enum of the click Typer runs on (its own copy): compared by name
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            given.add(_OPTION_SETTINGS.get(name, name))
    return given


def resolved_settings(
    config_file: Path | None, cli_train: dict[str, Any], cli_data: dict[str, Any], runs_dir: Path
) -> "tuple[TrainConfig, DataConfig]":
    """hcr train's settings: defaults, then the model's recipe, then the settings file, then the options given; every
    value checked, and a refused one named with the file and section it came from."""
    from hcr.errors import HcrError
    from hcr.pipelines.tune_retrain import resolve_config
    from hcr.training.config_file import checked_in

    from_file = _read(config_file)
    file_model, cli_model = from_file["train"].pop("model", None), cli_train.pop("model", None)
    model = cli_model or file_model
    if model is None:
        raise HcrError("say which model to train: --model NAME (see `hcr models`), or model in a --config file")
    if config_file is not None:  # the file's own values first, so that a refused one is named with its file
        checked_in(config_file, "train", resolve_config, file_model or model, runs_dir=runs_dir, **from_file["train"])
    train_settings = from_file["train"] | cli_train
    return resolve_config(model, runs_dir=runs_dir, **train_settings), _data(config_file, from_file, cli_data)


def resolved_data_settings(
    config_file: Path | None, cli_data: dict[str, Any], command: str, defaults: dict[str, Any] | None = None
) -> "DataConfig":
    """tune's and compare's data settings: `defaults`, then the file's [data] section, then the options given. Each
    model they train keeps its own recipe, so a [train] section (a run's config.toml has one) is left out, with a
    note."""
    from_file = _read(config_file)
    if from_file["train"]:
        console.print(
            f"[yellow]note:[/] {command} takes the data settings of {config_file}; its \\[train] section is for "
            "hcr train (each model here trains with its own recipe)",
            highlight=False,
        )
    return _data(config_file, from_file, cli_data, defaults)


def _read(config_file: Path | None) -> dict[str, dict[str, Any]]:
    from hcr.training.config_file import read_config_file

    return read_config_file(config_file) if config_file is not None else {"train": {}, "data": {}}


def _data(
    config_file: Path | None,
    from_file: dict[str, dict[str, Any]],
    cli_data: dict[str, Any],
    defaults: dict[str, Any] | None = None,
) -> "DataConfig":
    from hcr.configs import DataConfig
    from hcr.training.config_file import checked_in

    if config_file is not None:
        checked_in(config_file, "data", DataConfig, **from_file["data"])
    return DataConfig(**(defaults or {}) | from_file["data"] | cli_data)
