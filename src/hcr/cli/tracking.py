"""The options `hcr train`, `hcr tune` and `hcr compare` share to log to MLflow (hcr.tracking)."""

from typing import Any

import typer

TRACKING_PANEL = "Tracking (MLflow)"


def track_option() -> Any:
    return typer.Option(
        False,
        "--track",
        help="Also log the run to MLflow: settings, per-epoch metrics, scores and the run folder's files. Default "
        "store: mlflow.db beside the runs (needs `pip install 'hcr\\[track]'`).",
        rich_help_panel=TRACKING_PANEL,
    )


def tracking_uri_option() -> Any:
    return typer.Option(
        None,
        "--tracking-uri",
        envvar="HCR_TRACKING_URI",
        metavar="URL",
        help="MLflow tracking server or store to log to (implies --track), e.g. http://127.0.0.1:5000 "
        "[env: HCR_TRACKING_URI]. A server that cannot be reached gives a warning; training goes on.",
        show_envvar=False,
        rich_help_panel=TRACKING_PANEL,
    )
