"""Which letters show their case at 28×28? The evidence behind `--case upper`'s rule for unknown-case images.

On EMNIST ByClass's test split (case known), per letter: the share of images written in lower case (what an unknown-case
EMNIST Letters image of that letter is likely to be), and how well a linear classifier tells the two cases apart
from the pixels (balanced accuracy, 3-fold cross-validated, at most 1,500 images per case; 0.5 = the cases look the
same). hcr.data.case.SAME_SHAPE_IN_BOTH_CASES lists the letters whose unknown-case images `--case upper` keeps.

    .venv/bin/python bench/case_shares.py
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from hcr.data import load_datasets
from hcr.data.case import LOWER, SAME_SHAPE_IN_BOTH_CASES, UPPER
from hcr.labels import CLASSES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PER_CASE = 1_500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    args = parser.parse_args()
    data = load_datasets(["emnist-byclass"], args.data_dir)
    rng = np.random.default_rng(0)
    print("letter  lower share  case told apart (balanced acc.)  --case upper keeps unknown-case images")
    for label, letter in enumerate(CLASSES):
        upper = np.flatnonzero((data.y == label) & (data.case == UPPER))
        lower = np.flatnonzero((data.y == label) & (data.case == LOWER))
        share = len(lower) / (len(upper) + len(lower))
        picks = np.concatenate([rng.permutation(upper)[:PER_CASE], rng.permutation(lower)[:PER_CASE]])
        x = data.x[picks].reshape(len(picks), -1) / 255.0
        y = data.case[picks] == LOWER
        model = LogisticRegression(C=0.01, max_iter=300)
        accuracy = cross_val_score(model, x, y, cv=3, scoring="balanced_accuracy").mean()
        keeps = "yes" if letter in SAME_SHAPE_IN_BOTH_CASES else ""
        print(f"{letter:6s}  {share:11.0%}  {accuracy:31.2f}  {keeps}")


if __name__ == "__main__":
    main()
