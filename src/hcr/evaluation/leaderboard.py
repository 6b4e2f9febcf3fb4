"""The comparison's leaderboard: one row per model, as CSV (every digit) and Markdown (for people and READMEs).

Rows are ranked by validation accuracy, the number the best model is picked on; test accuracy, and accuracy on test
letters drawn as files (what `hcr predict` users get), are shown beside it but never used to choose. A model trained
with several seeds is one row: the mean ± sd of its accuracies over the seeds, ranked by the mean (one lucky seed
does not win a comparison), and the run of its best seed.
"""

import csv
import io
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from hcr.atomic import write_text_atomic


@dataclass(frozen=True)
class LeaderboardRow:
    model: str
    val_accuracy: float
    test_accuracy: float
    test_macro_f1: float
    parameters: int
    file_bytes: int
    train_seconds: float  # wall time of training (all sessions, data preparation included)
    tune_seconds: float  # wall time of the hyperparameter search behind a tuned model (0: none)
    images_per_second: float  # batch inference
    single_image_ms: float
    epochs: int
    run: str
    seed: int = 0  # the training seed of `run`
    # over several training seeds: how many, and the sample standard deviation (n − 1) of the accuracies, whose
    # means the accuracy fields then hold
    seeds: int = 1
    val_accuracy_sd: float = 0.0
    test_accuracy_sd: float = 0.0
    # test letters drawn as the files people bring and read as `hcr predict` reads them (hcr.evaluation.on_files);
    # NaN where not measured
    files_accuracy: float = math.nan


HEADERS = ("#", "model", "val acc", "test acc", "files acc", "test macro-F1", "params", "size", "train time",
           "tuning time", "images/s", "ms/image")  # fmt: skip


def rank(rows: Sequence[LeaderboardRow]) -> list[LeaderboardRow]:
    """Best first: highest validation accuracy; ties go to the smaller model."""
    return sorted(rows, key=lambda row: (-row.val_accuracy, row.parameters, row.model))


def combine_seeds(rows: Sequence[LeaderboardRow]) -> LeaderboardRow:
    """One model's rows, one per training seed, as one: the mean ± sd of the accuracies (and the mean macro-F1);
    everything else (run, size, speed, time, epochs) of the seed with the best validation accuracy, whose run is the
    one a comparison exports."""
    best = rank(rows)[0]
    if len(rows) == 1:
        return best
    val, test = [row.val_accuracy for row in rows], [row.test_accuracy for row in rows]
    return replace(
        best, val_accuracy=statistics.mean(val), val_accuracy_sd=statistics.stdev(val),
        test_accuracy=statistics.mean(test), test_accuracy_sd=statistics.stdev(test),
        test_macro_f1=statistics.mean(row.test_macro_f1 for row in rows), seeds=len(rows),
        files_accuracy=statistics.mean(row.files_accuracy for row in rows),
    )  # fmt: skip


def formatted(rows: Sequence[LeaderboardRow]) -> list[list[str]]:
    """Rows as people read them (percentages, MB, minutes), in HEADERS order."""
    return [
        [
            str(place),
            row.model,
            _spread(row.val_accuracy, row.val_accuracy_sd, row.seeds),
            _spread(row.test_accuracy, row.test_accuracy_sd, row.seeds),
            "—" if math.isnan(row.files_accuracy) else f"{row.files_accuracy:.2%}",
            f"{row.test_macro_f1:.3f}",
            f"{row.parameters:,}",
            f"{row.file_bytes / 1e6:.1f} MB",
            _duration(row.train_seconds),
            _duration(row.tune_seconds) if row.tune_seconds else "—",
            f"{row.images_per_second:,.0f}",
            f"{row.single_image_ms:.1f}",
        ]
        for place, row in enumerate(rows, start=1)
    ]


def write_leaderboard(
    rows: Sequence[LeaderboardRow], out_dir: Path, notes: dict[str, str] | None = None, caption: str = ""
) -> tuple[Path, Path]:
    """leaderboard.csv and leaderboard.md in `out_dir`, rows in the given order; `caption` (how the rows were
    ranked) and `notes` (model → why it is not ranked) are written under the Markdown table."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(LeaderboardRow.__dataclass_fields__))
    writer.writeheader()
    writer.writerows(asdict(row) for row in rows)
    csv_path, md_path = out_dir / "leaderboard.csv", out_dir / "leaderboard.md"
    write_text_atomic(csv_path, buffer.getvalue())
    below = (f"{caption}\n" if caption else "") + "".join(
        f"- `{name}` not ranked: {why}\n" for name, why in (notes or {}).items()
    )
    write_text_atomic(md_path, markdown_table(HEADERS, formatted(rows)) + ("\n" + below if below else ""))
    return csv_path, md_path


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    alignment = ["---" if header == "model" else "---:" for header in headers]  # numbers right-aligned
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(alignment) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _spread(mean: float, sd: float, seeds: int) -> str:
    return f"{mean:.2%} ± {sd:.2%}" if seeds > 1 else f"{mean:.2%}"
