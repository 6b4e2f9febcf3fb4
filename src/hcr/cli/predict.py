"""`hcr predict`: images → letters, without TensorFlow."""

import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from hcr.console import console, output, track

if TYPE_CHECKING:
    import numpy as np

MODEL_HELP = "A model.onnx from `hcr export` (or its folder). Default: the model shipped with hcr."
FAILED = ("error", "blank", "not-a-letter")  # statuses of a file that gave no letter: they set the exit code to 2


def predict(
    inputs: list[Path] = typer.Argument(..., metavar="FILE|DIR...", help="Image files, or folders read recursively."),
    model: Path | None = typer.Option(None, metavar="PATH", help=MODEL_HELP),
    top_k: int = typer.Option(3, min=1, max=26, metavar="K", help="How many likeliest letters to list per image."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV: path, letter, confidence, status, top_k, message."),
    save_inputs: Path | None = typer.Option(
        None,
        metavar="DIR",
        help="Also save the 28×28 image the model saw for each file, as DIR/N-NAME.png (N: its place in the input).",
    ),
) -> None:
    """Read the letter in each image: letter, confidence and top-k; low-confidence and blank images are flagged, and
    so are images that are not a letter (with a model trained to tell: a digit, a scribble, several glyphs).

    Exit code 0 if every file was read as a letter, 2 if any was blank, not a letter or unreadable (the others are
    still reported)."""
    from hcr.errors import HcrError
    from hcr.files import make_output_dir
    from hcr.inference.predictor import Predictor, find_images

    if as_json and as_csv:
        raise HcrError("choose one of --json and --csv")
    if save_inputs is not None:
        make_output_dir(save_inputs, "--save-inputs")
    predictor = Predictor(model)
    paths = find_images(inputs)
    results = track(predictor.predict_files(paths, top_k), "Reading letters", total=len(paths))
    records, saved = [], 0
    for index, (path, prediction) in enumerate(results, start=1):
        records.append({"path": str(path), **prediction.to_dict()})
        if save_inputs is not None and prediction.model_input is not None:
            _save_input(save_inputs / input_name(index, len(paths), path), prediction.model_input)
            saved += 1
    if save_inputs is not None:
        console.print(
            f"saved {saved} model inputs to {escape(str(save_inputs))} "
            f"({len(records) - saved} files had none: blank or unreadable)",
            highlight=False,
            soft_wrap=True,
        )
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    elif as_csv:
        _write_csv(records)
    else:
        _print_table(records)
    counts = Counter(r["status"] for r in records if r["status"] in FAILED)
    if counts:
        not_letters = f"{counts['not-a-letter']} not a letter, " if counts["not-a-letter"] else ""
        console.print(
            f"[bold red]{counts.total()} of {len(records)} files failed[/] "
            f"({counts['blank']} blank, {not_letters}{counts['error']} unreadable)",
            highlight=False,
        )
        raise typer.Exit(2)


def input_name(index: int, total: int, path: Path) -> str:
    """The file name of an input's saved 28×28 image: its position among the inputs (zero-padded, so names sort in
    input order), then its own name, so two `a.png` from different folders never overwrite each other."""
    return f"{index:0{len(str(total))}d}-{path.stem}.png"


def _save_input(target: Path, letter: "np.ndarray") -> None:
    """The uint8 [28, 28] image the model saw, as a greyscale PNG (written atomically: no half file on Ctrl-C)."""
    from PIL import Image

    from hcr.atomic import atomic_path

    with atomic_path(target) as tmp:
        Image.fromarray(letter).save(tmp, format="PNG")


def _write_csv(records: list[dict]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["path", "letter", "confidence", "status", "top_k", "message"])
    for r in records:
        top = " ".join(f"{t['letter']}:{t['probability']:.4f}" for t in r["top_k"])
        writer.writerow([r["path"], r["letter"] or "", f"{r['confidence']:.4f}", r["status"], top, r["message"] or ""])


def _print_table(records: list[dict]) -> None:
    from rich.table import Table

    styles = {"ok": "green", "low-confidence": "yellow", "not-a-letter": "red", "blank": "red", "error": "red"}
    table = Table()
    table.add_column("file", overflow="fold")  # a path is never cut short
    for column in ("letter", "confidence", "status", "top-k"):
        table.add_column(column)
    for r in records:
        top = "  ".join(f"{t['letter']} {t['probability']:.2f}" for t in r["top_k"])
        status = f"[{styles[r['status']]}]{r['status']}[/]" + (f": {escape(r['message'])}" if r["message"] else "")
        table.add_row(
            escape(r["path"]), r["letter"] or "–", f"{r['confidence']:.3f}" if r["letter"] else "", status, top
        )
    output.print(table)
