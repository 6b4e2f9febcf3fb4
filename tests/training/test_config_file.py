"""`hcr train --config FILE`: every setting in one TOML file, options on the command line winning, and each run's
saved config.toml training the same run again."""

import json
import types
import typing
from dataclasses import MISSING, fields

import pytest
from typer.testing import CliRunner

from hcr.cli import app
from hcr.configs import DataConfig, TrainConfig
from hcr.errors import HcrError
from hcr.training.config import resolve_config
from hcr.training.config_file import read_config_file, write_config_file


@pytest.mark.parametrize("config_class", [TrainConfig, DataConfig])
def test_every_setting_that_can_be_unset_is_unset_by_default(config_class):
    """TOML has no null: a file leaves an unset setting out, which only reads back right if unset is the default."""
    for field in fields(config_class):
        hint = typing.get_type_hints(config_class)[field.name]
        if isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint):
            assert field.default is None or field.default is MISSING, field.name


def test_a_written_file_reads_back_to_the_same_settings(tmp_path):
    config = resolve_config("compact-cnn", epochs=3, pen_width=0.5, hparams={"filters": (24, 48, 96)})
    data_config = DataConfig(datasets=("az", "nist-sd19"), case="upper", canonical=True, test_fraction=0.0)
    path = tmp_path / "config.toml"
    write_config_file(path, config, data_config)

    settings = read_config_file(path)
    assert TrainConfig(**settings["train"]) == config
    assert DataConfig(**settings["data"]) == data_config


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[train]\nmodel = 'baseline-cnn'\nepoch = 3\n", "'epoch' in [train]"),
        ("[data]\ncases = 'upper'\n", "'cases' in [data]"),
        ("[training]\nepochs = 3\n", "'training'"),
        ("[train]\nmodel = 'baseline-cnn'\nepochs = [\n", "not a TOML settings file"),
    ],
)
def test_unknown_settings_and_broken_files_are_refused_with_the_key_named(tmp_path, text, named):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    with pytest.raises(HcrError, match=named.replace("[", r"\[")):
        read_config_file(path)


def _train(*args):
    return CliRunner().invoke(app, ["train", *args])


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[train]\nmodel = 'baseline-cnn'\nepochs = 'many'\n", "[train]: epochs must be an integer"),
        ("[train]\nmodel = 'baseline-cnn'\n[data]\nval_fraction = '0.1'\n", "[data]: val_fraction must be"),
        ("[train]\nmodel = 'baseline-cnn'\n[data]\ndatasets = 'az'\n", "[data]: datasets must be a list"),
    ],
)
def test_a_wrong_value_in_the_file_is_refused_naming_the_file_and_section(tmp_path, text, named):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    outcome = _train("--config", str(path), "--runs-dir", str(tmp_path / "runs"))
    assert isinstance(outcome.exception, HcrError), outcome.output
    assert str(outcome.exception).startswith(f"{path} {named}")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_options_override_the_file_and_a_runs_config_toml_trains_it_again(shared_data, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(
        "[train]\nmodel = 'baseline-cnn'\nepochs = 5\nbatch_size = 32\n"
        f"[data]\ndata_dir = '{shared_data}'\nper_class = 12\ncase = 'upper'\ntest_fraction = 0.0\n"
    )
    first = _train("--config", str(recipe), "--epochs", "1", "--runs-dir", str(tmp_path / "a"))
    assert first.exit_code == 0, first.output
    (run,) = (tmp_path / "a").iterdir()
    saved = json.loads((run / "config.json").read_text())
    assert saved["train"]["epochs"] == 1  # the option won
    assert saved["train"]["batch_size"] == 32  # the file's, over the recipe's
    assert saved["data"]["per_class"] == 12
    assert saved["data"]["case"] == "upper"

    again = _train("--config", str(run / "config.toml"), "--runs-dir", str(tmp_path / "b"))
    assert again.exit_code == 0, again.output
    (rerun,) = (tmp_path / "b").iterdir()
    assert json.loads((rerun / "config.json").read_text())["train"] == saved["train"]
    assert json.loads((rerun / "config.json").read_text())["data"] == saved["data"]
    assert (rerun / "split.npz").read_bytes() == (run / "split.npz").read_bytes()


def test_builder_settings_are_checked_by_name_and_saved_whole(tmp_path):
    """compact-cnn's filters used to be saved as `"hparams": {}`; a misspelt one reached Keras minutes later."""
    assert resolve_config("compact-cnn").hparams["filters"] == [16, 32, 64]
    assert resolve_config("compact-cnn", hparams={"dropout": 0.1}).hparams["dropout"] == 0.1
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[train]\nmodel = 'compact-cnn'\n[train.hparams]\nfilterz = [8, 16, 32]\n")
    outcome = _train("--config", str(recipe), "--runs-dir", str(tmp_path / "runs"))
    assert isinstance(outcome.exception, HcrError), outcome.output
    assert "no setting 'filterz'" in str(outcome.exception)
    assert not (tmp_path / "runs").exists()
