"""`hcr export`: a run's best model → model.onnx + model.json, checked against Keras (hcr.training.export)."""

import json
from pathlib import Path

import typer

from hcr.cli.train import quiet_tensorflow
from hcr.console import output


def export(
    run_dir: Path = typer.Argument(..., help="Run folder made by `hcr train`."),
    out: Path | None = typer.Option(None, help="Folder for model.onnx and model.json. Default: the run folder."),
) -> None:
    """Export a run's best model to ONNX, checked against Keras on the test split, with a calibrated threshold."""
    quiet_tensorflow()
    from hcr.training.export import export_onnx

    onnx_path = export_onnx(run_dir, out)
    metadata = json.loads(onnx_path.with_name("model.json").read_text())
    check, low = metadata["verification"], metadata["low_confidence"]
    output.print(
        f"wrote {onnx_path} ({metadata['onnx_bytes'] / 1e6:.2f} MB) and model.json", highlight=False, soft_wrap=True
    )
    output.print(
        f"ONNX Runtime vs Keras on {check['n']:,} {check['split']} images: max |Δp| {check['max_abs_diff']:.2g} · "
        f"low-confidence below {low['threshold']:.3f} (flags {low['flagged_fraction']:.1%} of validation)",
        highlight=False,
        soft_wrap=True,
    )
