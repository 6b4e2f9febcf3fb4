"""`hcr train` and `hcr models`: train a model of the zoo into a run folder, or list the zoo."""

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from hcr.cli.data import (
    DATA_PANEL,
    TRAINING_PANEL,
    CaseMode,
    SplitMethod,
    canonical_option,
    capitals_option,
    case_option,
    data_dir_option,
    dataset_option,
    fraction_option,
    per_class_option,
    split_option,
)
from hcr.cli.settings import config_option, given_options, resolved_settings
from hcr.cli.tracking import track_option, tracking_uri_option
from hcr.console import output
from hcr.holdout import TEST_FRACTION, VAL_FRACTION

LARGE_POOLS_PANEL = "Large pools"  # a panel of its own: its long option name would squeeze Training's help column

if TYPE_CHECKING:
    pass

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
    ctx: typer.Context,
    model: str | None = typer.Option(None, metavar="NAME", help="Model to train (see `hcr models`)."),
    config_file: Path | None = config_option(),
    resume: Path | None = typer.Option(None, metavar="RUN_DIR", help="Continue the interrupted run in this folder."),
    dataset: list[str] = dataset_option(),
    data_dir: Path | None = data_dir_option(),
    per_class: int | None = per_class_option("Train on"),
    case: CaseMode = case_option(),
    split: SplitMethod = split_option(),
    seed: int = typer.Option(
        0, help="Seed for the subset, the split, initial weights and augmentation.", rich_help_panel=DATA_PANEL
    ),
    val_fraction: float = fraction_option(VAL_FRACTION, "Share of the images held out to pick the best epoch."),
    test_fraction: float = fraction_option(
        TEST_FRACTION, "Share held out for the final test; 0 trains on all the rest."
    ),
    capitals: bool = capitals_option(),
    canonical: bool = canonical_option(),
    rendered_copies: int = typer.Option(
        0,
        metavar="K",
        help="Draw each training letter K times as a file people make (pencil photos, grey paper, shadows, JPEG, "
        "small crops, box edges, ruled lines, specks) and add it as `hcr predict` reads it back; computed once, "
        "cached. Validation and test stay as they are.",
        rich_help_panel=DATA_PANEL,
    ),
    printed_copies: int = typer.Option(
        0,
        metavar="K",
        help="Add every letter printed K times in each training font (DejaVu, Comic Neue and some handwriting-style "
        "faces: `make fonts`), at various sizes, tilts, slants and weights, read back as `hcr predict` reads a "
        "file; other fonts stay unseen, for bench/realworld.py. Cached.",
        rich_help_panel=DATA_PANEL,
    ),
    out_of_scope: float = typer.Option(
        0.0,
        metavar="SHARE",
        help="Add a 27th class, not-a-letter: this share of the training set (e.g. 0.1) in digits 2–9 (EMNIST "
        "ByClass), scribbles, two letters in one image and empty boxes. 0: a 26-letter model.",
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
        rich_help_panel=LARGE_POOLS_PANEL,
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
    mixed_precision: bool = typer.Option(
        False,
        "--mixed-precision",
        help="Compute in float16 with float32 weights (Keras's mixed_float16): faster on an NVIDIA GPU (the `gpu` "
        "extra), slower on CPU. Default: off.",
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
    track: bool = track_option(),
    tracking_uri: str | None = tracking_uri_option(),
) -> None:
    """Train a model into a new run folder (config, history, best model, metrics); print val and test accuracy.

    Every setting is checked before TensorFlow loads (seconds) and before a run folder is made."""
    from hcr.errors import HcrError
    from hcr.evaluation.formatting import accuracy_per_group
    from hcr.tracking import Tracker, tracked_run
    from hcr.tracking import tracking_uri as resolve_tracking_uri

    if resume is not None:
        if model is not None or config_file is not None:
            raise HcrError("--resume continues a run as it was configured; leave out --model and other settings")
        # the embedded store sits beside the run folders
        tracker = Tracker.connect(resolve_tracking_uri(track, tracking_uri, resume.parent))
        quiet_tensorflow()
        from hcr.training.fit import resume as resume_run

        with tracked_run(tracker, resume.name) as tracked:
            result = resume_run(resume, callbacks=tracked.callbacks())
            tracked.log_run_folder(result.run.path)
    else:
        given = given_options(ctx)
        cli_train = {key: value for key, value in {
            "model": model, "epochs": epochs, "batch_size": batch_size, "max_steps_per_epoch": max_steps_per_epoch,
            "learning_rate": learning_rate,
            "augment": augment, "pen_width": pen_width, "weights": str(weights) if weights else None, "seed": seed,
            "mixed_precision": mixed_precision,
        }.items() if key in given}  # fmt: skip
        cli_data = {key: value for key, value in {
            "datasets": tuple(dataset), "data_dir": str(data_dir.resolve()) if data_dir else None,
            "per_class": per_class, "split": split.value, "val_fraction": val_fraction,
            "test_fraction": test_fraction, "seed": seed, "capitals": capitals, "canonical": canonical,
            "case": case.value, "rendered_copies": rendered_copies, "printed_copies": printed_copies,
            "out_of_scope": out_of_scope,
        }.items() if key in given}  # fmt: skip
        config, data_config = resolved_settings(config_file, cli_train, cli_data, runs_dir)
        tracker = Tracker.connect(resolve_tracking_uri(track, tracking_uri, runs_dir))
        quiet_tensorflow()
        from hcr.training.fit import train as train_run

        with tracked_run(tracker, config.model) as tracked:
            result = train_run(config, data_config, runs_dir, callbacks=tracked.callbacks())
            tracked.log_run_folder(result.run.path)
    output.print(f"run folder: {result.run.path}", highlight=False, soft_wrap=True)
    scores = [
        f"{name} accuracy {result.metrics[part]['accuracy']:.4f} (macro-F1 {result.metrics[part]['macro_f1']:.4f})"
        for part, name in (("val", "validation"), ("test", "test"))
        if part in result.metrics
    ]
    output.print(" · ".join(scores), highlight=False, soft_wrap=True)
    part = "test" if "test" in result.metrics else "val"
    for what, value in accuracy_per_group(result.metrics[part]).items():
        output.print(f"{part} {what}: {value}", highlight=False, soft_wrap=True)
