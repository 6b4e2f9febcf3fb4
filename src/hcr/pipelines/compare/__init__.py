"""Train and evaluate the whole model zoo on one split, rank it, and export the best model with its card.

hcr compare --preset quick --data-dir ../shared/data                  # → out/compare/
hcr compare --models baseline-cnn,regularized-cnn --out out/cnns
hcr compare --models baseline-cnn,compact-cnn --seeds 0,1,2          # mean ± sd over three training seeds

    out/compare/
        compare_state.json          settings and progress: an interrupted comparison resumes from here (state.py)
        eda/*.png                   the data, before any model (report.py)
        tuning/<stamp>-tune-<space>/  the Optuna study behind each tuned-* model (model_step.py, hcr.tuning)
        runs/<stamp>-<model>/       one run folder per model and seed (hcr.training.fit), with evaluation/ inside
        leaderboard.csv  leaderboard.md  report.html    (with every model's accuracy on test letters drawn as files,
                                    and the exported model against the shipped one on them: on_files.py)
        best/model.onnx  best/model.json  best/MODEL_CARD.md    (best.py)

With `seeds`, every model trains once per training seed, on the same split (the data settings' seed makes it):
the leaderboard ranks by the mean validation accuracy over the seeds and shows mean ± sd, and the model exported is
the top model's run of its best seed. A model whose run folder (for that seed) holds metrics.json is finished and
never retrained; one with a checkpoint but no metrics.json was interrupted and is resumed from its last epoch. A
tuned model is searched for first, within the preset's budget, and only once (for all seeds): a finished study (its
best_params.json) is reused, an interrupted one is joined.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hcr.configs import SEED, DataConfig
from hcr.console import console
from hcr.errors import HcrError
from hcr.evaluation.leaderboard import LeaderboardRow, combine_seeds, rank, write_leaderboard
from hcr.evaluation.report import write_report
from hcr.inference.predictor import DEFAULT_MODEL_DIR, Predictor, read_metadata
from hcr.pipelines.compare.best import export_best
from hcr.pipelines.compare.model_step import Setup, evaluation_of, leaderboard_row, plan, run_model
from hcr.pipelines.compare.on_files import against_shipped, file_test
from hcr.pipelines.compare.presets import PRESETS, ZOO, Preset, default_models
from hcr.pipelines.compare.report import data_overview, report_content
from hcr.pipelines.compare.state import STATE_FILE, CompareState

__all__ = [
    "DEPLOYABLE_SETTINGS",
    "PRESETS",
    "STATE_FILE",
    "ZOO",
    "Comparison",
    "Preset",
    "compare_models",
    "deployable_data_settings",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Comparison:
    out_dir: Path
    leaderboard: list[LeaderboardRow]  # best first
    skipped: dict[str, str]  # model → why it is not compared
    best_model_path: Path  # the exported model.onnx
    model_card_path: Path
    report_path: Path
    leaderboard_paths: tuple[Path, Path]  # csv, md
    against_shipped: str  # how the exported model and the shipped one read the same test files (on_files.py)


def compare_models(
    preset: Preset,
    models: Sequence[str] = (),
    datasets: Sequence[str] = (),
    data_dir: Path | None = None,
    out_dir: Path = Path("out/compare"),
    weights: Path | None = None,
    *,
    data_settings: DataConfig | None = None,
    seeds: Sequence[int] = (0,),
) -> Comparison:
    """Train (or resume, or reuse) and evaluate every model on one split, then write the leaderboard, the report
    and the best model by validation accuracy, exported to ONNX with its model card.

    `data_settings` are the data settings a deployable model is trained with (case, bars as I, canonical
    preprocessing, rendered copies, split shares; e.g. the shipped model's recipe file), so that the comparison ranks
    what users would get; by default, those of the shipped model that shape what a model reads
    (deployable_data_settings); `datasets` and `data_dir` replace theirs when given, and the preset's per-letter sample
    applies unless they set one. Each model trains once per training seed of `seeds` (see above)."""
    seeds = _checked_seeds(seeds)
    base = data_settings or DataConfig(**deployable_data_settings())
    data_config = replace(
        base,
        datasets=tuple(datasets) or base.datasets,
        data_dir=str(Path(data_dir).resolve()) if data_dir else base.data_dir,
        per_class=base.per_class or preset.per_class,
    )
    setup = Setup(preset, data_config, out_dir.resolve(), str(weights) if weights else None)
    state = CompareState.open(setup.out_dir, preset, data_config)
    plans, skipped = plan(setup, list(models) or default_models())
    for name, why in skipped.items():
        log.warning("skipping %s: %s", name, why)
    if not plans:
        raise HcrError("nothing to compare: " + "; ".join(f"{name}: {why}" for name, why in skipped.items()))
    state.save()  # the output folder is made only now, once the request is known to be sound

    eda_figures, data_facts = data_overview(data_config, setup.out_dir / "eda")
    files = file_test(data_config, preset.file_letters_for(data_config.per_class))
    runs: dict[str, dict[int, Path]] = {}  # model → seed → run folder
    with _progress() as progress:
        task = progress.add_task("models", total=len(plans) * len(seeds))
        for place, (name, config) in enumerate(plans.items(), start=1):
            log.info("model %d/%d: %s", place, len(plans), name)
            try:
                for seed in seeds:
                    progress.update(task, description=f"{name}{_seed_label(seed, seeds)}: training")
                    runs.setdefault(name, {})[seed] = run_model(setup, state, name, config, seed)
                    progress.update(task, description=f"{name}{_seed_label(seed, seeds)}: evaluating")
                    evaluation_of(runs[name][seed])
                    progress.advance(task)
            except HcrError as e:  # a model some seed cannot train is not ranked: its spread would be partial
                skipped[name] = str(e)
                runs.pop(name, None)
                log.warning("skipping %s: %s", name, e)
        progress.update(task, description="models")
    if not runs:
        raise HcrError("no model could be trained: " + "; ".join(f"{name}: {why}" for name, why in skipped.items()))

    seed_rows = {
        name: [leaderboard_row(state, name, seed, path, files.files) for seed, path in by_seed.items()]
        for name, by_seed in runs.items()
    }
    rows = rank([combine_seeds(model_rows) for model_rows in seed_rows.values()])
    caption = (
        f"Accuracies are mean ± sd (n − 1) over the training seeds {', '.join(map(str, seeds))}, on one split (data "
        f"seed {data_config.seed}); ranked by the mean; size, speed, time and run are the best seed's."
        if len(seeds) > 1
        else ""
    )
    leaderboard_paths = write_leaderboard(rows, setup.out_dir, notes=skipped, caption=caption)
    best_model_path, card_path = export_best(rows[0], len(rows), setup.out_dir / "best")
    versus_shipped = against_shipped(files, Predictor(best_model_path))  # the CLI prints it; the report shows it
    content = report_content(
        rows, seed_rows, skipped, data_facts, eda_figures, setup, state, best_model_path, card_path,
        f"{caption} {versus_shipped}".strip(),
    )  # fmt: skip
    report_path = write_report(content, setup.out_dir / "report.html")
    return Comparison(
        setup.out_dir, rows, skipped, best_model_path, card_path, report_path, leaderboard_paths, versus_shipped
    )


# the shipped model's data settings that decide what a model reads: the case it answers in, a plain bar read as I,
# letters preprocessed as `hcr predict` preprocesses files. Rendered copies and not-a-letter examples, which about
# double the training time, are left to `--config recipes/shipped-model.toml`.
DEPLOYABLE_SETTINGS = ("case", "capitals", "canonical")


def deployable_data_settings() -> dict[str, Any]:
    """A comparison's default data settings: those of DEPLOYABLE_SETTINGS the shipped model was trained with (its
    model.json records them), so that by default a comparison trains its models the way a deployable model is
    trained, and its best model can stand in for the shipped one."""
    path = DEFAULT_MODEL_DIR / "model.onnx"
    try:
        shipped = read_metadata(path)["data"]
        return {key: shipped[key] for key in DEPLOYABLE_SETTINGS}
    except (KeyError, TypeError) as e:
        raise HcrError(f"{path.with_name('model.json')}: records no data settings ({type(e).__name__}: {e})") from None


def _checked_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    """The training seeds, refused with a one-line error unless there is at least one, none twice, each valid."""
    check, accepted = SEED
    if not seeds:
        raise HcrError("seeds: give at least one training seed")
    for seed in seeds:
        if not check(seed):
            raise HcrError(f"seeds: each must be {accepted}, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise HcrError(f"seeds: a seed is given twice in {list(seeds)}")
    return tuple(seeds)


def _seed_label(seed: int, seeds: Sequence[int]) -> str:
    return f" (seed {seed})" if len(seeds) > 1 else ""


def _progress() -> Progress:
    """One bar across the models; each model's own training bars appear beneath it while it trains."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
