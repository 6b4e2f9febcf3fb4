"""Does `hcr read` read a line of capitals as well as the model reads the same letters one by one?

    .venv/bin/python -m bench.read_accuracy RUN_DIR_OR_MODEL [--lines 1000] [--source az] [--layout plain]
                                            [--seed 0] [--json PATH]

RUN_DIR_OR_MODEL is a model.onnx from `hcr export` (or a folder holding one, e.g. an exported run folder); its
model.json names the source run, whose test split supplies the letters (`--run DIR` where it is not the model's
folder or runs/<name>). Lines of 3–12 letters are composed from
them with tests/lines.py (random gaps, a word gap at 20 % of gaps, baseline jitter, ±15 % letter size, 24–60 px
letters, half dark ink on white, half bright on black) and read with hcr.inference.reading.read_line.
`--layout` sets how they are written: `plain` as above; `touching`, no gaps at all (each letter 0–10 % of a
letter size into the next, so most pairs touch or overlap); `comb` one letter per cell of a printed comb field
(a baseline with ticks at the cell walls), `boxes` the same with a top line (a row of boxes), `comb-touching` and
`boxes-touching` the same with each letter reaching onto a wall of its cell (by turns the left and the right, so
neighbours often touch the same wall from either side); `ruled`, the plain line with a printed rule just under it.

Letters come from the Kaggle A–Z part of the test split by default: it holds capitals only, as a line of capitals
does, while EMNIST Letters mixes in lower case (a dotted i, a looped l) that no line of capitals would contain;
`--source all` uses both. Character accuracy is 1 − (edit distance between the letters placed and the letters
read) / letters placed, spaces left out (they are scored on their own), so a letter lost or split by segmentation
costs what it should. Single-letter accuracy is the same predictor on each of the same letters as its own image
(`predict_image`, as `hcr predict` reads a file) and on the raw 28×28 arrays (the model's test accuracy).
Target: character accuracy within 2 points of single-letter accuracy. Run from the repository root.
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from bench.model_run import model_data
from PIL import Image
from rich.console import Console
from rich.table import Table
from tests.lines import ComposedLine, compose_comb_field, compose_line, with_rule_under

from hcr.inference.predictor import Predictor
from hcr.inference.reading import read_line
from hcr.labels import letter_of

TARGET_POINTS = 2.0
LETTERS_PER_LINE = (3, 12)
LETTER_SIZES = (24, 60)  # px, long side of a typical letter of a line
WORD_GAP_RATE = 0.2  # fraction of gaps between letters that are spaces between words
LAYOUTS = ("plain", "touching", "comb", "boxes", "comb-touching", "boxes-touching", "ruled")
TOUCHING_GAPS = (-0.1, 0.0)  # letter sizes between neighbours in a `touching` line: overlapping up to a tenth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="model.onnx, or a folder holding model.onnx + model.json")
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--source", default="az", help="the test letters' source: az (capitals only) or all")
    parser.add_argument("--layout", choices=LAYOUTS, default="plain", help="how the letters are written (see above)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-examples", type=Path, help="write the first 20 lines here as PNG, named by truth")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--run", type=Path, help="the run folder it was exported from (default: found by name)")
    parser.add_argument("--data-dir", type=Path, help="where that run's datasets are (default: the run's config)")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    predictor = Predictor(args.model)
    data, split, _ = model_data(predictor, args.model, args.run, args.data_dir)
    pool = split.test
    if args.source != "all":
        pool = pool[data.source[pool] == data.sources.index(args.source)]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(pool)  # every test letter used once before any is used twice

    used, placed_text, read_text, n_edits, n_exact, n_gaps, n_gaps_right = [], [], [], 0, 0, 0, 0
    cursor = 0
    started = time.perf_counter()
    for i in range(args.lines):
        n = int(rng.integers(LETTERS_PER_LINE[0], LETTERS_PER_LINE[1] + 1))
        indices = order[np.arange(cursor, cursor + n) % len(order)]
        cursor += n
        used.append(indices)
        with_spaces = args.layout != "touching"  # in a comb field or a row of boxes, a space is an empty cell
        space_before = [False, *(rng.random(n - 1) < WORD_GAP_RATE * with_spaces).tolist()]
        line = _written(args.layout, data.x[indices], rng, space_before, int(rng.integers(*LETTER_SIZES)), bool(i % 2))
        truth = "".join(" " * s + letter_of(y) for s, y in zip(space_before, data.y[indices], strict=True))
        reading = read_line(line.image, predictor)
        if args.save_examples and i < 20:
            args.save_examples.mkdir(parents=True, exist_ok=True)
            line.image.save(args.save_examples / f"{i:02d}-{truth}-read-{reading.text}.png".replace(" ", "_"))
        placed_text.append(truth)
        read_text.append(reading.text)
        n_edits += _edit_distance(truth.replace(" ", ""), reading.text.replace(" ", ""))
        if len(reading.characters) == n:
            n_exact += 1
            n_gaps += n - 1
            n_gaps_right += sum(c.space_before == s for c, s in zip(reading.characters, space_before, strict=True)) - 1
    seconds = time.perf_counter() - started

    letters = np.concatenate(used)
    x, y = data.x[letters], data.y[letters]  # uint8 [N, 28, 28], [N]: every letter placed, as often as placed
    single = np.array([predictor.predict_image(Image.fromarray(a)).letter for a in x])
    single_accuracy = float((single == np.array([letter_of(v) for v in y])).mean())
    arrays_accuracy = float((predictor.predict_arrays(x).argmax(axis=1) == y).mean())
    results = {
        "model": str(args.model),
        "source": args.source,
        "layout": args.layout,
        "lines": args.lines,
        "letters": len(letters),
        "distinct_letters": len(np.unique(letters)),
        "character_accuracy": 1 - n_edits / len(letters),
        "single_letter_accuracy": single_accuracy,
        "arrays_accuracy": arrays_accuracy,
        "lines_segmented_exactly": n_exact / args.lines,
        "space_accuracy": n_gaps_right / max(n_gaps, 1),
        "lines_read_exactly": float(np.mean([a == b for a, b in zip(placed_text, read_text, strict=True)])),
        "ms_per_line": 1000 * seconds / args.lines,
    }
    _print(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def _written(
    layout: str, letters: np.ndarray, rng: np.random.Generator, space_before: list[bool], size: int, dark: bool
) -> ComposedLine:
    """The letters written in one of LAYOUTS, `size` px tall, dark ink on white when `dark`."""
    if layout.startswith(("comb", "boxes")):
        return compose_comb_field(
            letters,
            space_before=space_before,
            letter_size=size,
            with_top=layout.startswith("boxes"),
            dark_on_light=dark,
            touching=layout.endswith("touching"),
        )
    gaps = rng.uniform(*TOUCHING_GAPS, size=len(letters) - 1).tolist() if layout == "touching" else None
    line = compose_line(letters, rng, space_before=space_before, gaps=gaps, letter_size=size, dark_on_light=dark)
    return with_rule_under(line) if layout == "ruled" else line


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions that turn a into b."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _print(results: dict) -> None:
    title = f"hcr read on {results['lines']:,} composed lines ({results['letters']:,} letters, {results['layout']})"
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    gap = 100 * (results["single_letter_accuracy"] - results["character_accuracy"])
    rows = [
        ("character accuracy (line)", f"{results['character_accuracy']:.2%}"),
        ("single-letter accuracy (same letters, as images)", f"{results['single_letter_accuracy']:.2%}"),
        ("single-letter accuracy (same letters, 28×28 arrays)", f"{results['arrays_accuracy']:.2%}"),
        ("points lost to reading in lines", f"{gap:.2f} (target ≤ {TARGET_POINTS})"),
        ("lines segmented into the right number of letters", f"{results['lines_segmented_exactly']:.2%}"),
        ("gaps rightly read as space / no space", f"{results['space_accuracy']:.2%}"),
        ("lines read exactly", f"{results['lines_read_exactly']:.2%}"),
        ("ms per line (segment + read)", f"{results['ms_per_line']:.1f}"),
    ]
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    verdict = "[green]met[/]" if gap <= TARGET_POINTS else "[red]missed[/]"
    Console().print(f"target (within {TARGET_POINTS} points of single letters): {verdict}")


if __name__ == "__main__":
    main()
