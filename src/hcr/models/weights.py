"""Where MobileNetV2's ImageNet weights come from: a local file, never a download. Kept apart from the builders so
that a missing file is reported (and a training config resolved) without importing Keras."""

import hashlib
import os
from pathlib import Path

from hcr.errors import HcrError

WEIGHTS_ENV = "HCR_MOBILENET_WEIGHTS"
WEIGHTS_FILE_NAME = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
ALPHA = 0.35


def resolve_weights(weights: str | Path | None) -> Path:
    """The pretrained weights file, or a clear error: never a silent random initialisation."""
    chosen = weights or os.environ.get(WEIGHTS_ENV)
    if not chosen:
        raise HcrError(
            f"MobileNetV2 needs its ImageNet weights from a local file: pass --weights PATH or set {WEIGHTS_ENV} "
            f"(the Keras file {WEIGHTS_FILE_NAME})"
        )
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise HcrError(f"{path}: MobileNetV2 weights file not found (from --weights or {WEIGHTS_ENV})")
    import h5py  # Keras's own reader of .h5 weights, so it is there wherever a model can be trained

    if not h5py.is_hdf5(path):  # checked here, before any data is loaded, not when the model is built
        raise HcrError(f"{path}: not a Keras weights file (HDF5); expected {WEIGHTS_FILE_NAME}")
    return path.resolve()


def weights_fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
