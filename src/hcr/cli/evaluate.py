"""`hcr evaluate`: score a run's best model on its test split or on another dataset; figures and JSON beside it."""

from pathlib import Path

import typer
from rich.table import Table

from hcr.cli.train import quiet_tensorflow
from hcr.console import output
from hcr.runs import RunDir


def evaluate(
    run_dir: Path = typer.Argument(..., help="A run folder written by `hcr train`."),
    dataset: list[str] = typer.Option(
        [],
        "--dataset",
        "-d",
        help="Evaluate on every image of these datasets (cross-dataset) instead of the "
        "run's test split: az, emnist-letters or folder:PATH (repeat to combine).",
    ),
    data_dir: Path | None = typer.Option(
        None,
        envvar="HCR_DATA_DIR",
        show_envvar=False,
        help="Folder holding the datasets. Default: $HCR_DATA_DIR, else the one the run was trained from.",
    ),
) -> None:
    """Accuracy, precision/recall/F1, confusion matrices, learning curves, worst mistakes, size and speed."""
    RunDir.open(run_dir)  # a wrong folder is told at once, not after TensorFlow has loaded (seconds)
    quiet_tensorflow()
    from hcr.evaluation.evaluate import evaluate_run

    result = evaluate_run(run_dir, dataset, data_dir)
    output.print(summary_table(result.summary))
    output.print(
        f"wrote {len(result.figures)} figures and evaluation.json to {result.out_dir}", highlight=False, soft_wrap=True
    )


def summary_table(summary: dict) -> Table:
    """One compact table: the headline scores, per source and case, size, speed and the letters most often mistaken."""
    from hcr.evaluation.formatting import accuracy_per_group, prf

    table = Table(title=f"{summary['model']} on {summary['data']['description']}", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value")
    table.add_row("accuracy", f"{summary['accuracy']:.2%} of {summary['n']:,} images")
    for average in ("macro", "weighted"):
        table.add_row(f"{average} P / R / F1", prf(summary[average]))
    for what, value in accuracy_per_group(summary).items():
        table.add_row(what, value)
    worst = sorted(summary["per_letter"].items(), key=lambda item: item[1]["f1"])[:3]
    table.add_row("weakest letters (F1)", ", ".join(f"{letter} {scores['f1']:.2f}" for letter, scores in worst))
    pairs = summary["confused_pairs"][:5]
    table.add_row("most confused", ", ".join(f"{p['true']}→{p['predicted']} {p['count']}" for p in pairs) or "none")
    size, speed = summary["size"], summary["speed"]
    table.add_row("size", f"{size['parameters']:,} parameters, {size['file_bytes'] / 1e6:.1f} MB")
    table.add_row(
        "speed",
        f"{speed['batch_images_per_second']:,.0f} images/s (batches of {speed['batch_size']}), "
        f"{speed['single_image_ms']:.1f} ms per single image",
    )
    return table
