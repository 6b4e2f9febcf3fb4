"""`hcr data …`: look at datasets before training on them, and download the public ones."""

import json
import logging
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from hcr.console import output
from hcr.labels import CLASSES

log = logging.getLogger(__name__)

app = typer.Typer(help="Inspect and download datasets.", no_args_is_help=True)

DATASET_HELP = "az, emnist-letters or folder:PATH (repeat to combine). Default: every dataset in the data dir."
DATA_DIR_HELP = "Folder holding the datasets. Default: $HCR_DATA_DIR, else ~/.cache/hcr/data."


class SplitMethod(StrEnum):
    stratified = "stratified"
    official = "official"


@app.command()
def inspect(
    dataset: list[str] = typer.Option([], "--dataset", "-d", help=DATASET_HELP),
    data_dir: Path | None = typer.Option(None, envvar="HCR_DATA_DIR", help=DATA_DIR_HELP, show_envvar=False),
    per_class: int | None = typer.Option(None, help="Take a balanced subset of N images per letter."),
    split: SplitMethod = typer.Option(SplitMethod.stratified, help="official keeps the datasets' own test split."),
    val_fraction: float = typer.Option(0.15, help="Fraction of the images for validation."),
    test_fraction: float = typer.Option(0.15, help="Fraction for test (stratified split, and sources without one)."),
    seed: int = typer.Option(0, help="Seed for the subset and the split."),
    out: Path = typer.Option(Path("out/inspect"), help="Folder for the figures, split and summary."),
) -> None:
    """Count images per letter and per split, and write EDA figures (distribution, samples, histogram, means)."""
    from hcr.atomic import write_text_atomic
    from hcr.data import balanced_subset, load_datasets, make_split
    from hcr.data.eda import write_eda_figures
    from hcr.training.config import DataConfig

    # checked as a training's data settings are (a seed of -1 or a NaN fraction is refused here, not deep in numpy)
    DataConfig(
        per_class=per_class, split=split.value, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
    )
    data = load_datasets(dataset, data_dir)
    if per_class is not None:
        indices, shortfall = balanced_subset(data.y, per_class, seed)
        if shortfall:
            short = ", ".join(f"{letter} −{n}" for letter, n in shortfall.items())
            log.warning(
                "fewer than %d images for %d letters; took all they have (%s)", per_class, len(shortfall), short
            )
        data = data.take(indices)
    parts = make_split(data, split.value, val_fraction, test_fraction, seed)
    output.print(_count_table(data, parts))
    sizes = parts.sizes()
    output.print(
        f"{len(data):,} images from {', '.join(data.sources)}; {parts.method} split (seed {seed}): "
        + ", ".join(f"{k} {v:,}" for k, v in sizes.items()),
        highlight=False,
        soft_wrap=True,
    )

    out.mkdir(parents=True, exist_ok=True)
    figures = write_eda_figures(data, out, seed)
    parts.save(out / "split.npz")
    summary = {
        "sources": list(data.sources),
        "n_images": len(data),
        "per_class": dict(zip(CLASSES, data.class_counts().tolist(), strict=True)),
        "split": {"method": parts.method, "seed": seed, "sizes": sizes, "data_fingerprint": parts.data_fingerprint},
    }
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2))
    wrote = f"wrote {len(figures)} figures, split.npz and summary.json to {out}"
    output.print(wrote, highlight=False, soft_wrap=True)


def _count_table(data, parts) -> Table:
    import numpy as np

    table = Table(title="Images per letter", show_footer=True)
    table.add_column("letter", footer="all")
    columns = [(name, np.bincount(data.y[data.source == i], minlength=26)) for i, name in enumerate(data.sources)]
    if len(data.sources) > 1:
        columns.append(("total", data.class_counts()))
    columns += [(part, np.bincount(data.y[getattr(parts, part)], minlength=26)) for part in ("train", "val", "test")]
    for name, counts in columns:
        table.add_column(name, justify="right", footer=f"{counts.sum():,}")
    for label, letter in enumerate(CLASSES):
        table.add_row(letter, *(f"{counts[label]:,}" for _, counts in columns))
    return table


@app.command()
def download(
    name: str = typer.Argument(..., help="emnist-letters (official archive), or az with --url (Kaggle needs a login)."),
    data_dir: Path | None = typer.Option(None, envvar="HCR_DATA_DIR", help=DATA_DIR_HELP, show_envvar=False),
    url: str | None = typer.Option(None, help="Fetch from this URL instead of the official one (a mirror)."),
    checksum: str | None = typer.Option(None, help="Expected checksum of the archive, as md5:HEX or sha256:HEX."),
    force: bool = typer.Option(False, "--force", help="Download again even if the files are already there."),
) -> None:
    """Download a public dataset archive, verify its checksum and extract only the files hcr reads."""
    from hcr.data.download import download_dataset
    from hcr.paths import resolve_data_dir

    folder = download_dataset(name, resolve_data_dir(data_dir), url=url, checksum=checksum, force=force)
    output.print(f"{name} is ready in {folder}", highlight=False, soft_wrap=True)
