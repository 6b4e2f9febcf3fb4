"""Would a second model's opinion make `hcr predict` read better and flag more of its errors?

    .venv/bin/python -m bench.second_opinion SECOND_MODEL [--model FIRST_MODEL] [--data-dir DIR] [--json PATH]

FIRST_MODEL defaults to the shipped model; SECOND_MODEL is another export trained on the same split (its
model.json must record the same split digest, or its training letters would include the first one's held-out
ones). Both read the first model's held-out letters as `hcr predict` reads files, with the second look at unsure
answers: the validation pool the low-confidence threshold is calibrated on (validation letters as files, the same
drawn as degraded files, not-a-letter inputs) and the test letters the model card reports. Compared:
- each model alone;
- both, their probabilities averaged (an ensemble: twice the model work on every letter);
- a cascade: the second model reads only the letters the first reads less surely than C, and there the two are
  averaged (the share of letters it reads is the extra model work).
For each: test capitals and all test letters as `hcr predict` answers them (a letter refused as not-a-letter is
wrong; the first model's refusal threshold), and on the validation pool the threshold that flags at most 3 % of
correct answers with the share of errors it flags (issue 17's target: 80 %). Run from the repository root.
"""

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from bench.model_run import model_data
from bench.paths import SHARED_DATA
from bench.shipped_model import REFUSED, groups
from rich.console import Console
from rich.table import Table

from hcr.configs import DataConfig
from hcr.evaluation.flagging import CORRECT_FLAG_BUDGET, correct_flagged_threshold, flag_rates
from hcr.inference.predictor import Predictor, run_session
from hcr.inference.preprocess import to_letter_arrays
from hcr.inference.second_look import looked_again
from hcr.training.hard_examples import held_out_examples

CASCADE_BELOW = (0.9, 0.98, 0.995)

Reader = Callable[[np.ndarray], np.ndarray]  # uint8 [N, 28, 28] → probabilities [N, C]


def reader(predictor: Predictor) -> Reader:
    """A model's probabilities as `hcr predict` has them: its second look at unsure answers included."""
    n_letters = len(predictor.letters_)

    def read(letters: np.ndarray) -> np.ndarray:
        def once(x: np.ndarray) -> np.ndarray:
            return run_session(predictor.session_, x)

        return looked_again(once(letters), letters, once, n_letters, predictor.second_look_)

    return read


def ways(first: np.ndarray, second: Reader, letters: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    """name → (probabilities, share of letters the second model read) for each way of answering."""
    alone = second(letters)
    both = (first + alone) / 2
    found = {"first alone": (first, 0.0), "second alone": (alone, 1.0), "both averaged": (both, 1.0)}
    for below in CASCADE_BELOW:
        unsure = first.max(axis=1) < below
        found[f"cascade below {below}"] = (np.where(unsure[:, None], both, first), float(unsure.mean()))
    return found


def answers(probabilities: np.ndarray, predictor: Predictor) -> np.ndarray:
    """int [N]: the letter `hcr predict` answers, REFUSED where not-a-letter wins by the predictor's threshold."""
    n = len(predictor.letters_)
    best = probabilities[:, :n].argmax(axis=1)
    if probabilities.shape[1] == n:
        return best
    refusal = probabilities[:, n]
    refused = (refusal > probabilities[:, :n].max(axis=1)) & (refusal >= predictor.not_a_letter_threshold_)
    return np.where(refused, REFUSED, best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("second", type=Path, help="the second model.onnx or its folder")
    parser.add_argument("--model", type=Path, help="the first model (default: the shipped model)")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    first, second = Predictor(args.model), Predictor(args.second)
    record = first.metadata_.get("split_record")
    if record is None or second.metadata_.get("split_record", {}).get("digest") != record.get("digest"):
        raise SystemExit(f"{args.second}: not trained on the first model's split (model.json's split_record)")
    data, split, origin = model_data(first, args.model, None, args.data_dir)
    settings = replace(
        DataConfig.from_dict(first.metadata_["data"]), data_dir=str((args.data_dir or SHARED_DATA).resolve())
    )

    pool: dict[str, list[tuple[np.ndarray, np.ndarray, float]]] = {}
    for xs, ys in held_out_examples(data.x[split.val], data.y[split.val], "val", settings).values():
        for name, (probabilities, share) in ways(reader(first)(xs), reader(second), xs).items():
            pool.setdefault(name, []).append((probabilities, ys, share * len(ys)))
    test = data.take(split.test)
    letters = to_letter_arrays(test.x)
    tested = ways(reader(first)(letters), reader(second), letters)

    results = {}
    for name, parts in pool.items():
        confidence = np.concatenate([p.max(axis=1) for p, _, _ in parts])
        correct = np.concatenate([p.argmax(axis=1) == y for p, y, _ in parts])
        threshold = correct_flagged_threshold(confidence, correct, CORRECT_FLAG_BUDGET)
        answered = answers(tested[name][0], first)
        results[name] = {
            "second_reads_share_of_pool": sum(s for _, _, s in parts) / len(correct),
            "pool": flag_rates(confidence, correct, threshold) | {"threshold": threshold},
            **{f"test {group}": float((answered[m] == test.y[m]).mean()) for group, m in groups(test).items()},
        }

    table = Table(title=f"first {args.model or 'the shipped model'}, second {args.second}; test letters: {origin}")
    for column in ("way", "second reads", "test capitals", "test all", "pool accuracy", "errors flagged"):
        table.add_column(column, justify="left" if column == "way" else "right")
    for name, row in results.items():
        table.add_row(name, f"{row['second_reads_share_of_pool']:.0%}", f"{row['test capitals']:.2%}",
                      f"{row['test all']:.2%}", f"{row['pool']['accuracy']:.2%}",
                      f"{row['pool']['errors_flagged']:.1%}")  # fmt: skip
    Console(width=120).print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
