"""`hcr export`: a run's best model → model.onnx and/or LiteRT's model.tflite, + model.json, checked against Keras
(hcr.training.export, hcr.training.litert)."""

import json
from enum import StrEnum
from pathlib import Path

import typer

from hcr.cli.train import quiet_tensorflow
from hcr.console import output
from hcr.errors import HcrError
from hcr.runs import RunDir


class ExportFormat(StrEnum):
    onnx = "onnx"
    tflite = "tflite"
    all = "all"


def export(
    run_dir: Path = typer.Argument(
        ..., help="Run folder made by `hcr train` (with --recalibrate: a folder holding model.onnx + model.json)."
    ),
    out: Path | None = typer.Option(None, help="Folder for the model files and model.json. Default: the run folder."),
    recalibrate: bool = typer.Option(
        False,
        "--recalibrate",
        help="Bring an exported model whose run folder is gone (the shipped one's) to this hcr's preprocessing, in "
        "place: its thresholds calibrated again on its validation split, rebuilt from model.json; weights unchanged.",
    ),
    data_dir: Path | None = typer.Option(
        None, help="With --recalibrate: the folder holding the model's datasets. Default: where hcr finds data."
    ),
    export_format: ExportFormat = typer.Option(
        ExportFormat.onnx,
        "--format",
        help="onnx: model.onnx for hcr predict/serve; tflite: model.tflite + model-int8.tflite (LiteRT) for phones, "
        "checked with the LiteRT interpreter (needs `pip install 'hcr\\[mobile]'`); all: both.",
    ),
) -> None:
    """Export a run's best model to ONNX (and/or LiteRT), checked against Keras on the test split."""
    if recalibrate:
        if out is not None or export_format != ExportFormat.onnx:
            raise HcrError("--recalibrate updates the model's own folder, in ONNX: --out and --format do not apply")
        _recalibrate(run_dir, data_dir)
        return
    RunDir.open(run_dir)  # a wrong folder is told at once, not after TensorFlow has loaded (seconds)
    quiet_tensorflow()
    if export_format != ExportFormat.tflite:
        _export_onnx(run_dir, out)
    if export_format != ExportFormat.onnx:
        _export_tflite(run_dir, out)


def _recalibrate(model_dir: Path, data_dir: Path | None) -> None:
    from hcr.training.export import recalibrate_onnx  # ONNX Runtime only; the module imports Keras all the same

    quiet_tensorflow()
    onnx_path = recalibrate_onnx(model_dir, data_dir)
    low = json.loads(onnx_path.with_name("model.json").read_text())["low_confidence"]
    output.print(
        f"calibrated {onnx_path} again for this preprocessing: low-confidence below {low['threshold']:.3f} (flags "
        f"{low['flagged_fraction']:.1%} of validation; {low['errors_flagged']:.0%} of its errors)",
        highlight=False,
        soft_wrap=True,
    )


def _export_tflite(run_dir: Path, out: Path | None) -> None:
    from hcr.training.litert import export_tflite

    tflite_path = export_tflite(run_dir, out)
    litert = json.loads(tflite_path.with_name("model.json").read_text())["litert"]
    check = litert["verification"]
    output.print(
        f"wrote {tflite_path} ({litert['float32']['bytes'] / 1e6:.2f} MB) and {litert['int8']['file']} "
        f"({litert['int8']['bytes'] / 1e6:.2f} MB)",
        highlight=False,
        soft_wrap=True,
    )
    output.print(
        f"LiteRT vs Keras on {check['n']:,} {check['split']} images: float32 max |Δp| "
        f"{check['float32_max_abs_diff']:.2g} · int8 accuracy {check['int8_accuracy']:.2%} "
        f"({check['int8_accuracy_delta']:+.2%} vs Keras), same top letter for {check['int8_top1_agreement']:.2%}",
        highlight=False,
        soft_wrap=True,
    )


def _export_onnx(run_dir: Path, out: Path | None) -> None:
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
