"""The `hcr` command. Each verb group lives in its own module; heavy imports stay inside command bodies.

Exit codes: 0 success, 2 bad input (a one-line message, no traceback), 1 internal error. `main` is the one place
that decides which: an HcrError is bad input by definition, and so is an OSError about a path the user gave
(an --out that is a file, a folder that cannot be made) — hcr's own files are read through hcr.runs, which reports
a damaged one as an HcrError naming it. Anything else is a bug: exit 1.

Results go to stdout (hcr.console.output) and progress, logs and errors to stderr (hcr.console.console).
"""

import logging
import os
import sys

import typer
from rich.logging import RichHandler
from rich.markup import escape

from hcr import __version__
from hcr.cli import compare, data, evaluate, export, predict, read, serve, train, tune
from hcr.console import console, output
from hcr.errors import HcrError

app = typer.Typer(
    help="Handwritten character recognition (A–Z): inspect data, train, tune, compare and deploy recognizers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(data.app, name="data")
app.command()(train.train)
app.command()(train.models)
app.command()(tune.tune)
app.command()(evaluate.evaluate)
app.command()(compare.compare)
app.command()(export.export)
app.command()(predict.predict)
app.command()(read.read)
app.command()(serve.serve)


def _version(value: bool) -> None:
    if value:
        output.print(f"hcr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Handwritten character recognition (A–Z)."""


def main() -> None:
    """The `hcr` command: the process-wide settings a command run needs (never made at import, where they would
    reach into whatever process imports hcr.cli, a test runner or a notebook), then the app."""
    # Before numpy loads (nothing hcr.cli imports at module level loads it): OpenBLAS starting a thread per core costs
    # ~0.1 s of CPU at every start, and no command needs BLAS threads (models run in ONNX Runtime or TensorFlow, each
    # with its own thread pools).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", handlers=[handler])
    logging.getLogger("hcr").setLevel(logging.INFO)
    try:
        app()  # standalone: Typer reports usage errors (exit 2) and --help itself, then exits
    except Exception as e:
        message = _bad_input_message(e)
        if message is not None:
            console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
            sys.exit(2)
        if os.environ.get("HCR_DEBUG"):
            raise
        console.print(
            f"[bold red]internal error:[/] {escape(f'{type(e).__name__}: {e}')} (set HCR_DEBUG=1 for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


def _bad_input_message(error: Exception) -> str | None:
    """The one-line message if `error` is bad input (exit 2), else None: a bug (exit 1)."""
    if isinstance(error, HcrError):
        message = str(error)
    elif isinstance(error, OSError) and error.filename is not None:
        message = f"{error.filename}: {error.strerror or error}"
    else:
        return None
    return " ".join(message.split())  # on one line, however it was wrapped: scripts read the first
