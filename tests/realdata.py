"""Facts about the real dev data in ../shared/data (from its README), and an independent IDX reader."""

import gzip
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
AZ_CSV = SHARED_DATA / "az" / "A_Z Handwritten Data.csv"
N_AZ = 5_934
N_EMNIST_TRAIN = 1_000
N_EMNIST_TEST = 10_312


def read_idx_raw(path: Path) -> np.ndarray:
    """An independent reading of an IDX .gz file (no hcr code), to check hcr's loaders against."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


MOBILENET_WEIGHTS = (
    REPO_ROOT.parent / "shared" / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
)
