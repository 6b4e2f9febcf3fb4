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


# emnist-byclass/, emnist-bymerge/ and nist-sd19/, per letter A–Z, from ../shared/data/README.md's "Counts"
BYCLASS_UPPER = [1062, 648, 1739, 779, 851, 1440, 447, 521, 2048, 626, 382, 810, 1485, 1351, 4156, 1397, 413, 809,
                 3508, 1576, 2002, 796, 806, 432, 798, 464]  # fmt: skip
BYCLASS_LOWER = [1644, 853, 432, 1683, 4092, 400, 589, 1479, 427, 317, 466, 2535, 464, 1898, 466, 368, 505, 2320,
                 437, 2965, 482, 468, 467, 470, 381, 451]  # fmt: skip
BYCLASS_DIGITS = [5778, 6330, 5869, 5969, 5619, 5190, 5705, 6139, 5633, 5686]
BYMERGE_UPPER_LABELS = [1058, 652, 2156, 735, 860, 1524, 430, 576, 2413, 912, 809, 3358, 1984, 1351, 4690, 1812, 415,
                        835, 3899, 1630, 2528, 1223, 1262, 897, 1195, 925]  # fmt: skip  # labels 10–35
BYMERGE_LOWER = dict(zip("abdefghnqrt", [1668, 932, 1708, 4066, 426, 583, 1535, 1872, 533, 2365, 2979], strict=True))
BYMERGE_MERGED = "CIJKLMOPSUVWXYZ"  # ByMerge classes holding both cases under the capital's label
SD19_UPPER = [1076, 1137, 1188, 1163, 1173, 1096, 1137, 982, 225, 1092, 947, 1116, 1127, 1068, 1009, 1073, 1089, 1112,
              1210, 1134, 1183, 1056, 1124, 986, 1025, 1088]  # fmt: skip
# images two folders share (README "Overlaps")
OVERLAP_LETTERS_BYCLASS = 1_560
OVERLAP_LETTERS_BYMERGE = 1_625
OVERLAP_BYCLASS_BYMERGE = 8_266
