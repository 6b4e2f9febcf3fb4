"""`hcr data …`: look at datasets before training on them, and download the public ones."""

import json
import logging
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hcr.console import output
from hcr.holdout import TEST_FRACTION, VAL_FRACTION
from hcr.labels import CLASSES

log = logging.getLogger(__name__)

app = typer.Typer(help="Inspect and download datasets.", no_args_is_help=True)

DATASET_HELP = (
    "az, emnist-letters, emnist-byclass, emnist-bymerge, emnist-balanced, nist-sd19, folder:PATH, or NAME:PATH for a "
    "copy elsewhere. Repeat to combine (shared images are kept once). Default: every dataset in the data dir."
)
DATA_DIR_HELP = "Folder holding the datasets. Default: $HCR_DATA_DIR, else ~/.cache/hcr/data."
# Option groups in --help: long commands read better in a few short panels, each laid out for its own options, than
# in one table whose widest name and type squeeze every help text into a narrow column.
DATA_PANEL = "Data"
TRAINING_PANEL = "Training"


class SplitMethod(StrEnum):
    stratified = "stratified"
    official = "official"
    writer = "writer"


class CaseMode(StrEnum):
    fold = "fold"
    upper = "upper"


CASE_HELP = (
    "fold: a letter in either case is that letter. upper: capitals only; lower case is dropped, and unknown case too "
    "unless the letter's two cases look alike at 28×28 (C F I K M O P S U V W X Y Z)."
)


def dataset_option() -> Any:
    """--dataset/-d, as every command that loads data takes it (one definition, one help text)."""
    return typer.Option([], "--dataset", "-d", metavar="NAME", help=DATASET_HELP, rich_help_panel=DATA_PANEL)


def data_dir_option(panel: str | None = DATA_PANEL) -> Any:
    """--data-dir, also read from $HCR_DATA_DIR (not shown as such: the help text says it); `panel` None keeps it
    among the other options, for a command with few."""
    return typer.Option(
        None, envvar="HCR_DATA_DIR", metavar="DIR", help=DATA_DIR_HELP, show_envvar=False, rich_help_panel=panel
    )


def split_option() -> Any:
    """--split, named MODE in --help: the choices are in its help text, where they wrap like words."""
    return typer.Option(
        SplitMethod.stratified,
        metavar="MODE",
        help="stratified (by letter and source), official (each dataset's own test split, where it has one) or "
        "writer (no writer in two parts; NIST SD19 with its by_write folder).",
        rich_help_panel=DATA_PANEL,
    )


def case_option(default: str | bool = True) -> Any:
    """--case, named MODE in --help, for the same reason as --split (`default`: what --help shows as the default)."""
    return typer.Option(CaseMode.fold, metavar="MODE", help=CASE_HELP, rich_help_panel=DATA_PANEL, show_default=default)


def capitals_option(shipped_default: str | None = None) -> Any:
    """--capitals: bars labelled I, for train and compare. Where the default is the shipped model's setting (compare,
    `shipped_default` says so in --help), --no-capitals turns it off."""
    return typer.Option(
        False,
        "--capitals/--no-capitals" if shipped_default else "--capitals",
        show_default=shipped_default or False,
        help="Block capitals: label every L bar not known to be a capital as I (a bar on a form is an I).",
        rich_help_panel=DATA_PANEL,
    )


def canonical_option(shipped_default: str | None = None) -> Any:
    """--canonical: the letters preprocessed as files are, for train and compare. Where the default is the shipped
    model's setting (compare, `shipped_default` says so in --help), --as-stored turns it off."""
    return typer.Option(
        False,
        "--canonical/--as-stored" if shipped_default else "--canonical",
        show_default=shipped_default or False,
        help="Train on the letters as `hcr predict` sees a file of them (cropped to the ink, pen evened out, "
        "re-centred), so images people save read as well as the dataset's arrays.",
        rich_help_panel=DATA_PANEL,
    )


def per_class_option(verb: str) -> Any:
    """--per-class N: `verb` says what the subset is for (Train on, Tune on, Take)."""
    return typer.Option(
        None, metavar="N", help=f"{verb} a balanced subset of N images per letter.", rich_help_panel=DATA_PANEL
    )


def fraction_option(default: float, help: str) -> Any:
    """--val-fraction and --test-fraction."""
    return typer.Option(default, metavar="SHARE", help=help, rich_help_panel=DATA_PANEL)


@app.command()
def inspect(
    dataset: list[str] = dataset_option(),
    data_dir: Path | None = data_dir_option(),
    per_class: int | None = per_class_option("Take"),
    case: CaseMode = case_option(),
    split: SplitMethod = split_option(),
    val_fraction: float = fraction_option(VAL_FRACTION, "Share of the images for validation."),
    test_fraction: float = fraction_option(
        TEST_FRACTION, "Share for test (stratified split, and sources without one)."
    ),
    seed: int = typer.Option(0, help="Seed for the subset and the split.", rich_help_panel=DATA_PANEL),
    out: Path = typer.Option(Path("out/inspect"), metavar="DIR", help="Folder for the figures, split and summary."),
) -> None:
    """Count images per letter and per split, and write EDA figures (distribution, samples, histogram, means)."""
    from hcr.atomic import write_text_atomic
    from hcr.configs import DataConfig
    from hcr.data import balanced_subset, load_datasets, make_split, select_case
    from hcr.data.eda import write_eda_figures
    from hcr.files import check_output_dir, make_output_dir

    # checked as a training's data settings are (a seed of -1 or a NaN fraction is refused here, not deep in numpy)
    DataConfig(
        per_class=per_class, split=split.value, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed,
        case=case.value,
    )  # fmt: skip
    check_output_dir(out)  # before the load, which can take a while; created only once there is something to write
    data = load_datasets(dataset, data_dir)
    data, case_dropped = select_case(data, case.value)
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
    output.print(_case_table(data))
    for line in _provenance_lines(data, case_dropped):
        output.print(line, highlight=False, soft_wrap=True)
    sizes = parts.sizes()
    output.print(
        f"{len(data):,} images from {', '.join(data.sources)}; {parts.method} split (seed {seed}): "
        + ", ".join(f"{k} {v:,}" for k, v in sizes.items()),
        highlight=False,
        soft_wrap=True,
    )

    make_output_dir(out)
    figures = write_eda_figures(data, out, seed)
    parts.save(out / "split.npz")
    summary = {
        "sources": list(data.sources),
        "n_images": len(data),
        "per_class": dict(zip(CLASSES, data.class_counts().tolist(), strict=True)),
        "per_source_and_case": _case_counts(data),
        "case": case.value,
        "case_dropped": case_dropped,
        "skipped": dict(data.skipped),
        "duplicates_removed": data.duplicates_removed,
        "duplicates": dict(data.duplicates),
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


def _case_counts(data) -> dict[str, dict[str, dict[str, int]]]:
    """{source: {case: {letter: images}}}, cases a source has none of left out."""
    from hcr.data.case import CASE_NAMES, case_counts

    per_source = case_counts(data)
    return {
        source: {
            CASE_NAMES[c]: dict(zip(CLASSES, per_case[c].tolist(), strict=True))
            for c in range(len(CASE_NAMES))
            if per_case[c].any()
        }
        for source, per_case in zip(data.sources, per_source, strict=True)
    }


def _case_table(data) -> Table:
    columns = [
        (f"{source}\n{case}", counts) for source, cases in _case_counts(data).items() for case, counts in cases.items()
    ]
    table = Table(title="Images per letter, source and case", show_footer=True)
    table.add_column("letter", footer="all")
    for name, counts in columns:
        table.add_column(name, justify="right", footer=f"{sum(counts.values()):,}")
    for letter in CLASSES:
        table.add_row(letter, *(f"{counts[letter]:,}" for _, counts in columns))
    return table


def _provenance_lines(data, case_dropped: dict[str, int]) -> list[str]:
    """What was left out on the way: skipped at loading, duplicates across sources, dropped by --case."""
    lines = [f"skipped while loading: {what} {n:,}" for what, n in data.skipped.items()]
    if len(data.sources) > 1:
        pairs = ", ".join(f"{pair} {n:,}" for pair, n in data.duplicates.items())
        lines.append(f"duplicates removed: {data.duplicates_removed:,}" + (f" ({pairs})" if pairs else ""))
    lines += [f"--case dropped: {what} {n:,}" for what, n in case_dropped.items()]
    return lines


@app.command()
def download(
    name: str = typer.Argument(..., help="emnist-letters (official archive), or az with --url (Kaggle needs a login)."),
    data_dir: Path | None = data_dir_option(panel=None),
    url: str | None = typer.Option(None, help="Fetch from this URL instead of the official one (a mirror)."),
    checksum: str | None = typer.Option(None, help="Expected checksum of the archive, as md5:HEX or sha256:HEX."),
    force: bool = typer.Option(False, "--force", help="Download again even if the files are already there."),
) -> None:
    """Download a public dataset archive, verify its checksum and extract only the files hcr reads."""
    from hcr.atomic import sigterm_cleans_up
    from hcr.data.download import download_dataset
    from hcr.paths import resolve_data_dir

    with sigterm_cleans_up():  # `kill` removes the partial download as Ctrl-C does
        folder = download_dataset(name, resolve_data_dir(data_dir), url=url, checksum=checksum, force=force)
    output.print(f"{name} is ready in {folder}", highlight=False, soft_wrap=True)
