"""What a comparison shows besides its leaderboard: the data (EDA figures drawn once, and the facts about the data
and split), and the HTML report's content."""

from pathlib import Path

from hcr.configs import DataConfig
from hcr.data.prepare import prepare_data
from hcr.evaluation.evaluate import evaluation_dir
from hcr.evaluation.flagging import RISK_COVERAGE_FIGURE
from hcr.evaluation.leaderboard import HEADERS, LeaderboardRow, formatted
from hcr.evaluation.report import ModelSection, ReportContent
from hcr.pipelines.compare.model_step import Setup, evaluation_of
from hcr.pipelines.compare.state import CompareState

EDA_FIGURES = ("class_distribution.png", "samples.png", "pixel_histogram.png", "mean_images.png")


def data_overview(data_config: DataConfig, eda_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """The EDA figures (drawn once) and the facts about the data and split the report and model card show."""
    from hcr.data.eda import write_eda_figures  # matplotlib: loaded only to draw

    data, split = prepare_data(data_config)
    figures = [eda_dir / name for name in EDA_FIGURES]
    if not all(path.is_file() for path in figures):
        figures = write_eda_figures(data, eda_dir, data_config.seed)
    facts = {
        "sources": ", ".join(data.sources),
        "data dir": str(data_config.data_dir or "default ($HCR_DATA_DIR or ~/.cache/hcr/data)"),
        "images": f"{len(data):,}"
        + (f" (a balanced subset of {data_config.per_class} per letter)" if data_config.per_class else ""),
        "split": f"{split.method}, seed {split.seed}: "
        + ", ".join(f"{part} {n:,}" for part, n in split.sizes().items()),
        "data fingerprint": split.data_fingerprint,
    }
    if len(data.sources) > 1:
        pairs = ", ".join(f"{pair}: {n:,}" for pair, n in data.duplicates.items())
        facts["duplicates removed"] = f"{data.duplicates_removed:,}" + (f" ({pairs})" if pairs else "")
    if data.skipped:
        facts["left out while loading"] = ", ".join(f"{what} {n:,}" for what, n in data.skipped.items())
    return figures, facts


def report_content(
    rows: list[LeaderboardRow],
    seed_rows: dict[str, list[LeaderboardRow]],
    skipped: dict[str, str],
    data_facts: dict[str, str],
    eda_figures: list[Path],
    setup: Setup,
    state: CompareState,
    best_model_path: Path,
    card_path: Path,
    caption: str = "",
) -> ReportContent:
    """What report.html shows: the leaderboard (and `caption`, how it was ranked), the data, and a section per model
    with its figures (of its best seed's run, and every seed's accuracies when there are several)."""
    out_dir = setup.out_dir
    sections = []
    for row in rows:
        evaluation = evaluation_of(Path(row.run))
        folder = evaluation_dir(Path(row.run))
        sections.append(
            ModelSection(
                name=row.model,
                evaluation=evaluation,
                # and, for the model exported as the best, the risk–coverage curve its export calibrated on
                figures=[folder / name for name in evaluation["figures"]]
                + [path for path in [folder / RISK_COVERAGE_FIGURE] if path.is_file()],
                extra={
                    "validation accuracy": formatted([row])[0][HEADERS.index("val acc")],
                    **({"seeds": _per_seed(seed_rows[row.model], row.seed)} if row.seeds > 1 else {}),
                    "epochs": str(row.epochs),
                    "training time": f"{row.train_seconds / 60:.1f} min",
                    **({"tuning": note} if (note := _tuning_note(state, row.model)) else {}),
                    "run folder": str(Path(row.run).relative_to(out_dir)),
                },
            )
        )
    return ReportContent(
        title="hcr model comparison",
        subtitle=f"{len(rows)} models, {setup.preset.name} preset, on {data_facts['sources']} "
        f"({data_facts['images']} images)",
        leaderboard_headers=HEADERS,
        leaderboard_rows=formatted(rows),
        best_row=0,
        data_facts=data_facts,
        eda_figures=eda_figures,
        models=sections,
        skipped=skipped,
        best_note=f"Best by {'mean ' if rows[0].seeds > 1 else ''}validation accuracy: {rows[0].model}"
        + (f" (its seed {rows[0].seed} run)" if rows[0].seeds > 1 else "")
        + f", exported to {best_model_path.relative_to(out_dir)} with its model card {card_path.relative_to(out_dir)}."
        + (f" {caption}" if caption else ""),
    )


def _per_seed(rows: list[LeaderboardRow], shown: int) -> str:
    """Each seed's accuracies, the seed whose run is shown marked."""
    return "; ".join(
        f"seed {row.seed}{' (shown)' if row.seed == shown else ''}: val {row.val_accuracy:.2%}, "
        f"test {row.test_accuracy:.2%}"
        for row in sorted(rows, key=lambda row: row.seed)
    )


def _tuning_note(state: CompareState, name: str) -> str | None:
    tuning = state.record(name).get("tuning")
    if not tuning:
        return None
    return (
        f"{tuning['trials']} trials of at most {tuning['trial_epochs']} epochs, best validation accuracy "
        f"{tuning['best_val_accuracy']:.2%}, {tuning['seconds'] / 60:.1f} min ({tuning['dir']})"
    )
