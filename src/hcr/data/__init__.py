"""Datasets: reading the formats users download, caching, balanced subsets, splits and EDA figures.

hcr data inspect --data-dir ../shared/data --out out/inspect
"""

from hcr.data.case import select_case
from hcr.data.dataset import LetterData, concat
from hcr.data.sources import DatasetSpec, discover_datasets, load_datasets
from hcr.data.splits import Split, make_split
from hcr.data.subset import balanced_subset

__all__ = [
    "DatasetSpec",
    "LetterData",
    "Split",
    "balanced_subset",
    "concat",
    "discover_datasets",
    "load_datasets",
    "make_split",
    "select_case",
]
