"""Kaggle "A–Z Handwritten Alphabets" (`A_Z Handwritten Data.csv`): no header, label 0..25, upright pixels.

Get it from https://www.kaggle.com/datasets/sachinpatel21/az-handwritten-alphabets-in-csv-format (a Kaggle
login is needed, so `hcr data download` cannot fetch it). The set has no official train/test split, and holds
capitals only (case UPPER).
"""

from pathlib import Path

import numpy as np

from hcr.data.case import UPPER
from hcr.data.dataset import IMAGE_SIDE, LetterData
from hcr.data.pixel_csv import check_label_range, read_pixel_csv

NAME = "az"
FILE_NAME = "A_Z Handwritten Data.csv"
KAGGLE_URL = "https://www.kaggle.com/datasets/sachinpatel21/az-handwritten-alphabets-in-csv-format"


def load_az_csv(path: Path) -> LetterData:
    labels, pixels = read_pixel_csv(path)
    check_label_range(path, labels, 0, 25)
    x = pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)  # row-major, already upright
    return LetterData.single_source(x, labels, NAME, case=np.full(len(labels), UPPER))  # the set holds capitals
