"""`hcr read`: images of lines of separate handwritten capitals (as on a form) → the strings, without TensorFlow."""

import json
import sys
from pathlib import Path

import typer

from hcr.cli.predict import MODEL_HELP
from hcr.console import console, output


def read(
    images: list[Path] = typer.Argument(
        ..., metavar="IMAGE", help="Image files, each holding one or more lines of capitals, or folders of them."
    ),
    model: Path | None = typer.Option(None, metavar="PATH", help=MODEL_HELP),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON list: per image the text, and per letter its confidence and box."
    ),
) -> None:
    """Read the line of separate handwritten capitals in each image; low-confidence letters are flagged, and a
    character that is not a letter (a digit, a mark; with a model trained to tell) is written as ?.

    Exit code 0 if every image was read, 2 if any was blank or unreadable (the others are still reported)."""
    from hcr.inference.predictor import Predictor, find_images
    from hcr.inference.reading import read_files

    records = [
        {"path": str(path), **reading.to_dict()} for path, reading in read_files(find_images(images), Predictor(model))
    ]
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    else:
        _print_table(records)
    n_failed = sum(r["status"] in ("blank", "error") for r in records)
    if n_failed:
        console.print(f"[bold red]{n_failed} of {len(records)} images failed[/]", highlight=False)
        raise typer.Exit(2)


def _print_table(records: list[dict]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from hcr.inference.reading import UNREAD, compose_text

    low = any(r["status"] == "low-confidence" for r in records)
    caption = f"[yellow]yellow[/]: a letter below the model's confidence threshold, or {UNREAD} for no letter"
    table = Table(caption=caption if low else None)
    table.add_column("file", overflow="fold")  # a path is never cut short
    for column in ("text", "lowest confidence", "status"):
        table.add_column(column)
    for r in records:
        if r["message"] is not None:  # blank or unreadable
            table.add_row(escape(r["path"]), "–", "", f"[red]{r['status']}[/]: {escape(r['message'])}")
            continue
        text = compose_text(
            r["characters"], lambda c: c["letter"] if c["status"] == "ok" else f"[yellow]{c['letter'] or UNREAD}[/]"
        )
        lowest = min(c["confidence"] for c in r["characters"])
        style = "green" if r["status"] == "ok" else "yellow"
        table.add_row(escape(r["path"]), text, f"{lowest:.3f}", f"[{style}]{r['status']}[/]")
    output.print(table)
