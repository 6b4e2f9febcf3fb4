"""The model card's figures: a model on its own test split, each letter read as `hcr predict` reads a file.

    .venv/bin/python -m bench.shipped_model [--model MODEL] [--run DIR] [--data-dir DIR] [--json PATH]

MODEL defaults to the shipped model (src/hcr/inference/default_model). Its test letters come from its run folder
where that is at hand, else from its split rebuilt from model.json's data settings (bench/model_run.py): the figures
can be checked on any machine with the data, not only on the one that trained the model. Each letter is
preprocessed as a file of it is (to_letter_arrays) and answered as `hcr predict` answers: with the model's second
look, and with one look. A letter refused as not-a-letter counts as wrong. Labels are the ones the model trained on
(a bar is an I where it took capitals). Reported: capitals (known upper case, and Kaggle A–Z, which holds capitals
only), overall and per source; lower case; unknown case; all letters with macro-F1; real letters refused.
Run from the repository root.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from bench.model_run import model_data
from rich.console import Console
from rich.table import Table

from hcr.data.case import CASE_NAMES, UPPER
from hcr.data.dataset import LetterData
from hcr.evaluation.metrics import macro_f1
from hcr.inference.predictor import Predictor
from hcr.inference.preprocess import to_letter_arrays
from hcr.labels import CLASSES

REFUSED = -1  # the answer of a letter reported as not-a-letter


def answers(predictor: Predictor, letters: np.ndarray) -> np.ndarray:
    """int [N]: the letter `hcr predict` answers for each preprocessed letter, REFUSED for not-a-letter."""
    return np.array([CLASSES.index(p.letter) if p.letter else REFUSED for p in predictor.predict_loaded(list(letters))])


def groups(test: LetterData) -> dict[str, np.ndarray]:
    """name → bool [N]: the test letters of each group the card reports."""
    capitals = test.case == UPPER
    if "az" in test.sources:  # Kaggle A–Z holds capitals only, with no case recorded
        capitals |= test.source == test.sources.index("az")
    found = {"capitals": capitals}
    found |= {f"capitals, {name}": capitals & (test.source == i) for i, name in enumerate(test.sources)}
    found |= {f"{name} case": ~capitals & (test.case == i) for i, name in enumerate(CASE_NAMES) if i != UPPER}
    found["all"] = np.ones(len(test), dtype=bool)
    return {name: members for name, members in found.items() if members.any()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="model.onnx or its folder (default: the shipped model)")
    parser.add_argument("--run", type=Path, help="the run folder it was exported from (default: found by name)")
    parser.add_argument("--data-dir", type=Path, help="the datasets' folder (default: the one hcr finds)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    predictor = Predictor(args.model)
    data, split, origin = model_data(predictor, args.model, args.run, args.data_dir)
    test = data.take(split.test)
    letters = to_letter_arrays(test.x)
    second_look = answers(predictor, letters)
    predictor.second_look_ = None
    one_look = answers(predictor, letters)

    results: dict[str, dict[str, float]] = {}
    for name, members in groups(test).items():
        truth = test.y[members]
        results[name] = {"n": int(members.sum())}
        for look, answered in (("second_look", second_look[members]), ("one_look", one_look[members])):
            results[name][look] = float((answered == truth).mean())
            if name == "all":
                results[name][f"{look}_macro_f1"] = macro_f1(truth, answered)
                results[name][f"{look}_refused"] = float((answered == REFUSED).mean())

    table = Table(title=f"{args.model or 'the shipped model'} on {len(test):,} test letters ({origin}), read as files")
    for column in ("letters", "n", "second look", "one look"):
        table.add_column(column, justify="left" if column == "letters" else "right")
    for name, row in results.items():
        table.add_row(name, f"{row['n']:,}", f"{row['second_look']:.2%}", f"{row['one_look']:.2%}")
    every = results["all"]
    table.add_row("all: macro-F1", "", f"{every['second_look_macro_f1']:.3f}", f"{every['one_look_macro_f1']:.3f}")
    table.add_row("all: refused as not-a-letter", "", f"{every['second_look_refused']:.2%}",
                  f"{every['one_look_refused']:.2%}")  # fmt: skip
    Console(width=120).print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"model": str(args.model), "letters": origin, **results}, indent=2))


if __name__ == "__main__":
    main()
