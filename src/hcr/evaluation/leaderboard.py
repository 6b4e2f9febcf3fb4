"""The comparison's leaderboard: one row per model, as CSV (every digit) and Markdown (for people and READMEs).

Rows are ranked by validation accuracy, the number the best model is picked on; test accuracy is shown beside it
but never used to choose.
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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


HEADERS = ("#", "model", "val acc", "test acc", "test macro-F1", "params", "size", "train time", "tuning time",
           "images/s", "ms/image")  # fmt: skip


def rank(rows: Sequence[LeaderboardRow]) -> list[LeaderboardRow]:
    """Best first: highest validation accuracy; ties go to the smaller model."""
    return sorted(rows, key=lambda row: (-row.val_accuracy, row.parameters, row.model))


def formatted(rows: Sequence[LeaderboardRow]) -> list[list[str]]:
    """Rows as people read them (percentages, MB, minutes), in HEADERS order."""
    return [
        [
            str(place),
            row.model,
            f"{row.val_accuracy:.2%}",
            f"{row.test_accuracy:.2%}",
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
    rows: Sequence[LeaderboardRow], out_dir: Path, notes: dict[str, str] | None = None
) -> tuple[Path, Path]:
    """leaderboard.csv and leaderboard.md in `out_dir`, rows in the given order; `notes` (model → why it is not
    ranked) are listed under the Markdown table."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(LeaderboardRow.__dataclass_fields__))
    writer.writeheader()
    writer.writerows(asdict(row) for row in rows)
    csv_path, md_path = out_dir / "leaderboard.csv", out_dir / "leaderboard.md"
    write_text_atomic(csv_path, buffer.getvalue())
    skipped = "".join(f"- `{name}` not ranked: {why}\n" for name, why in (notes or {}).items())
    write_text_atomic(md_path, markdown_table(HEADERS, formatted(rows)) + ("\n" + skipped if skipped else ""))
    return csv_path, md_path


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    alignment = ["---" if header == "model" else "---:" for header in headers]  # numbers right-aligned
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(alignment) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
