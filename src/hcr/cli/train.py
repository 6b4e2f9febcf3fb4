"""`hcr train` and `hcr models`: train a model of the zoo into a run folder, or list the zoo."""

import os
import re
import sys
import tempfile
from pathlib import Path

import typer
from rich.table import Table

from hcr.cli.data import (
    DATA_PANEL,
    TRAINING_PANEL,
    CaseMode,
    SplitMethod,
    case_option,
    data_dir_option,
    dataset_option,
    fraction_option,
    per_class_option,
    split_option,
)
from hcr.console import output

# what TensorFlow's C++ side prints while it loads: absl's notice that it is not set up yet, then INFO/WARNING lines
# (the oneDNN notice, CPU features) in glog format, "I0000 00:00:1796017159.172874    4051 port.cc:153] …"
TF_CHATTER = re.compile(rb"WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} \d\d:\d\d:\d\d")


def quiet_tensorflow() -> None:
    """Load TensorFlow without its start-up chatter on stderr, which would come before hcr's own output (even before
    a one-line error). TF_CPP_MIN_LOG_LEVEL quiets TensorFlow's later logging, but TensorFlow 2.21 prints its
    oneDNN notice through absl before that setting applies, so the import runs with file descriptor 2 captured and
    only the chatter is dropped from it: an error TensorFlow prints while loading still shows."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  (imported here, once, for the side effect of loading quietly)
        finally:
            sys.stderr.flush()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True) if not TF_CHATTER.match(line)]
            os.write(2, b"".join(kept))


def models() -> None:
    """List the models `hcr train --model` accepts, with their default recipes (without loading TensorFlow)."""
    from hcr.models import get_model_entry, list_models

    table = Table(title="Model zoo")
    for column in ("name", "what it is", "recipe"):
        table.add_column(column)
    for name in list_models():
        entry = get_model_entry(name)
        recipe = ", ".join(f"{k}={v}" for k, v in entry.recipe.items()) or "defaults"
        table.add_row(name, entry.summary, recipe)
    output.print(table)


def train(
    model: str | None = typer.Option(None, metavar="NAME", help="Model to train (see `hcr models`)."),
    resume: Path | None = typer.Option(None, metavar="RUN_DIR", help="Continue the interrupted run in this folder."),
    dataset: list[str] = dataset_option(),
    data_dir: Path | None = data_dir_option(),
    per_class: int | None = per_class_option("Train on"),
    case: CaseMode = case_option(),
    split: SplitMethod = split_option(),
    seed: int = typer.Option(
        0, help="Seed for the subset, the split, initial weights and augmentation.", rich_help_panel=DATA_PANEL
    ),
    val_fraction: float = fraction_option(0.15, "Share of the images held out to pick the best epoch."),
    test_fraction: float = fraction_option(0.15, "Share held out for the final test; 0 trains on all the rest."),
    capitals: bool = typer.Option(
        False,
        "--capitals",
        help="Block capitals: label EMNIST's lower-case l bars as I (a bar on a form is an I).",
        rich_help_panel=DATA_PANEL,
    ),
    canonical: bool = typer.Option(
        False,
        "--canonical",
        help="Train on the letters as `hcr predict` sees a file of them (cropped to the ink, pen evened out, "
        "re-centred), so images people save read as well as the dataset's arrays.",
        rich_help_panel=DATA_PANEL,
    ),
    epochs: int | None = typer.Option(
        None,
        metavar="N",
        help="Maximum epochs; early stopping may end sooner. Default: the model's recipe.",
        rich_help_panel=TRAINING_PANEL,
    ),
    batch_size: int | None = typer.Option(
        None,
        metavar="N",
        help="Batch size. Default: the model's recipe (see `hcr models`), else 64.",
        rich_help_panel=TRAINING_PANEL,
    ),
    max_steps_per_epoch: int | None = typer.Option(
        None,
        metavar="N",
        help="At most N batches an epoch, so that epochs over a huge pool end (each goes on where the last stopped). "
        "Default: the whole train part.",
        rich_help_panel=TRAINING_PANEL,
    ),
    learning_rate: float | None = typer.Option(
        None,
        metavar="LR",
        help="Initial learning rate (Adam). Default: the model's recipe, else 1e-3.",
        rich_help_panel=TRAINING_PANEL,
    ),
    augment: bool | None = typer.Option(
        None,
        "--augment/--no-augment",
        help="Random rotation, shift and zoom on training batches. Default: the model's recipe.",
        rich_help_panel=TRAINING_PANEL,
    ),
    pen_width: float | None = typer.Option(
        None,
        metavar="P",
        help="With augmentation: the share P of letters drawn with a pen about 1 px thicker or thinner. "
        "Default: the model's recipe, else 0.",
        rich_help_panel=TRAINING_PANEL,
    ),
    weights: Path | None = typer.Option(
        None, metavar="FILE", help="Pretrained weights file (MobileNetV2 models).", rich_help_panel=TRAINING_PANEL
    ),
    runs_dir: Path = typer.Option(
        Path("runs"),
        metavar="DIR",
        help="Where run folders are created (and where tuned-* models find their tuning run).",
    ),
) -> None:
    """Train a model into a new run folder (config, history, best model, metrics); print val and test accuracy.

    Every setting is checked before TensorFlow loads (seconds) and before a run folder is made."""
    from hcr.errors import HcrError
    from hcr.training.config import DataConfig, resolve_config

    if resume is not None:
        if model is not None:
            raise HcrError("--resume continues a run as it was configured; leave out --model and other settings")
        quiet_tensorflow()
        from hcr.training.fit import resume as resume_run

        result = resume_run(resume)
    else:
        if model is None:
            raise HcrError("say which model to train: --model NAME (see `hcr models`)")
        config = resolve_config(
            model, epochs=epochs, batch_size=batch_size, max_steps_per_epoch=max_steps_per_epoch,
            learning_rate=learning_rate, augment=augment, seed=seed,
            pen_width=pen_width,
            weights=str(weights) if weights else None, runs_dir=runs_dir,
        )  # fmt: skip
        data_config = DataConfig(
            datasets=tuple(dataset), data_dir=str(data_dir.resolve()) if data_dir else None, per_class=per_class,
            split=split.value, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed, capitals=capitals,
            canonical=canonical, case=case.value,
        )  # fmt: skip
        quiet_tensorflow()
        from hcr.training.fit import train as train_run

        result = train_run(config, data_config, runs_dir)
    output.print(f"run folder: {result.run.path}", highlight=False, soft_wrap=True)
    scores = [
        f"{name} accuracy {result.metrics[part]['accuracy']:.4f} (macro-F1 {result.metrics[part]['macro_f1']:.4f})"
        for part, name in (("val", "validation"), ("test", "test"))
        if part in result.metrics
    ]
    output.print(" · ".join(scores), highlight=False, soft_wrap=True)
