"""Train and evaluate the whole model zoo on one split, rank it, and export the best model with its card.

hcr compare --preset quick --data-dir ../shared/data                  # → out/compare/
hcr compare --models baseline-cnn,regularized-cnn --out out/cnns

    out/compare/
        compare_state.json          settings and progress: an interrupted comparison resumes from here
        eda/*.png                   the data, before any model
        tuning/<stamp>-tune-<space>/  the Optuna study behind each tuned-* model (hcr.tuning)
        runs/<stamp>-<model>/       one run folder per model (hcr.training.fit), with evaluation/ inside
        leaderboard.csv  leaderboard.md  report.html
        best/model.onnx  best/model.json  best/MODEL_CARD.md

Training goes through hcr.training.fit (the one training loop) and evaluation through evaluate_run; both load
Keras, so they are imported inside the functions that need them and this module stays importable without it.
A model whose run folder holds metrics.json is finished and never retrained; one with a checkpoint but no
metrics.json was interrupted and is resumed from its last epoch. A tuned model is searched for first, within the
preset's budget, and only once: a finished study (its best_params.json) is reused, an interrupted one is joined.
"""

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hcr.atomic import write_text_atomic
from hcr.console import console
from hcr.errors import HcrError
from hcr.evaluation.evaluate import EVALUATION_FILE, evaluate_run, evaluation_dir
from hcr.evaluation.leaderboard import HEADERS, LeaderboardRow, formatted, rank, write_leaderboard
from hcr.evaluation.model_card import CardFacts, render_model_card
from hcr.evaluation.report import ModelSection, ReportContent, write_report
from hcr.runs import RunDir
from hcr.training.config import DataConfig, TrainConfig

log = logging.getLogger(__name__)

# The zoo the issue compares, in the order it is presented. Names not (yet) in the registry are skipped with a note.
ZOO = (
    "baseline-cnn",
    "regularized-cnn",
    "tuned-cnn",
    "mobilenetv2-frozen",
    "mobilenetv2-finetune",
    "tuned-mobilenetv2",
)
STATE_FILE = "compare_state.json"
EDA_FIGURES = ("class_distribution.png", "samples.png", "pixel_histogram.png", "mean_images.png")


@dataclass(frozen=True)
class Preset:
    """How much data and how many epochs every model gets; each model's own recipe is scaled, not replaced."""

    name: str
    per_class: int | None  # a balanced subset of this many images per letter; None: every image
    epoch_scale: float  # × the epochs of each model's recipe
    min_epochs: int = 1
    max_epochs: int | None = None
    # search space (hcr.tuning.spaces) → (trials, maximum epochs per trial); a tuned-* model whose space has no
    # budget here is skipped with a note
    tuning: dict[str, tuple[int, int]] = field(default_factory=dict)

    def epochs(self, recipe_epochs: int) -> int:
        epochs = max(self.min_epochs, round(recipe_epochs * self.epoch_scale))
        return min(epochs, self.max_epochs) if self.max_epochs else epochs


PRESETS = {
    # at most 650 images per letter (16,900: the size of the dev pool, on which quick was sized to 15 min on 2 cores;
    # every image of the 151 k pool of every shared dataset would take ~2 hours, of a 0.8 M pool half a day),
    # a quarter of each recipe's epochs (baseline/regularized 5, frozen 10, fine-tuning 2, tuned-cnn 8); a small CNN
    # search; a MobileNetV2 trial alone (a feature pass, then epochs at 96 px) would not fit in 15 min
    "quick": Preset("quick", per_class=650, epoch_scale=0.25, min_epochs=2, tuning={"cnn": (4, 2)}),
    # the seed notebook's protocol: 400 images per letter where available, 20–60 epochs, both searches
    "seed": Preset(
        "seed",
        per_class=400,
        epoch_scale=1.0,
        min_epochs=20,
        max_epochs=60,
        tuning={"cnn": (12, 8), "mobilenetv2": (6, 3)},
    ),
    # every image, every recipe as it is (early stopping decides), the search spaces' own trial epochs
    "full": Preset("full", per_class=None, epoch_scale=1.0, tuning={"cnn": (30, 12), "mobilenetv2": (15, 5)}),
}


@dataclass(frozen=True)
class Comparison:
    out_dir: Path
    leaderboard: list[LeaderboardRow]  # best first
    skipped: dict[str, str]  # model → why it is not compared
    best_model_path: Path  # the exported model.onnx
    model_card_path: Path
    report_path: Path
    leaderboard_paths: tuple[Path, Path]  # csv, md


def compare_models(
    preset: Preset,
    models: Sequence[str] = (),
    datasets: Sequence[str] = (),
    data_dir: Path | None = None,
    out_dir: Path = Path("out/compare"),
    weights: Path | None = None,
) -> Comparison:
    """Train (or resume, or reuse) and evaluate every model on one split, then write the leaderboard, the report
    and the best model by validation accuracy, exported to ONNX with its model card."""
    data_config = DataConfig(
        datasets=tuple(datasets), data_dir=str(Path(data_dir).resolve()) if data_dir else None,
        per_class=preset.per_class,
    )  # fmt: skip
    out_dir = out_dir.resolve()
    session = _Session(preset, data_config, out_dir, str(weights) if weights else None)
    plans, skipped = session.plan(list(models) or _default_models())
    for name, why in skipped.items():
        log.warning("skipping %s: %s", name, why)
    if not plans:
        raise HcrError("nothing to compare: " + "; ".join(f"{name}: {why}" for name, why in skipped.items()))
    session.save()  # the output folder is made only now, once the request is known to be sound

    eda_figures, data_facts = _data_overview(data_config, out_dir / "eda")
    runs: dict[str, Path] = {}
    with _progress() as progress:
        task = progress.add_task("models", total=len(plans))
        for place, (name, config) in enumerate(plans.items(), start=1):
            log.info("model %d/%d: %s", place, len(plans), name)
            progress.update(task, description=f"{name}: training")
            try:
                runs[name] = session.run_model(name, config)
                progress.update(task, description=f"{name}: evaluating")
                _evaluation_of(runs[name])
            except HcrError as e:
                skipped[name] = str(e)
                runs.pop(name, None)
                log.warning("skipping %s: %s", name, e)
            progress.advance(task)
        progress.update(task, description="models")
    if not runs:
        raise HcrError("no model could be trained: " + "; ".join(f"{name}: {why}" for name, why in skipped.items()))

    rows = rank([session.leaderboard_row(name, path) for name, path in runs.items()])
    leaderboard_paths = write_leaderboard(rows, out_dir, notes=skipped)
    best_model_path, card_path = _export_best(rows[0], len(rows), out_dir / "best")
    content = _report_content(rows, runs, skipped, data_facts, eda_figures, session, best_model_path, card_path)
    report_path = write_report(content, out_dir / "report.html")
    return Comparison(out_dir, rows, skipped, best_model_path, card_path, report_path, leaderboard_paths)


def _default_models() -> list[str]:
    from hcr.models import list_models

    return list(ZOO) + [name for name in list_models() if name not in ZOO]


@dataclass
class _Session:
    """One comparison's settings and its state file (settings, and per model: run folder, training and tuning
    time), saved after every step so an interrupted comparison knows what it had done."""

    preset: Preset
    data_config: DataConfig
    out_dir: Path
    weights: str | None
    state: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        settings = json.loads(json.dumps({"preset": asdict(self.preset), "data": self.data_config.to_dict()}))
        path = self.out_dir / STATE_FILE
        if path.is_file():
            self.state = RunDir(self.out_dir).read_json(path)  # a damaged state file is bad input naming it
            if self.state["settings"] != settings:
                found = self.state["settings"]
                raise HcrError(
                    f"{self.out_dir} holds a comparison with other settings ({found['preset']['name']} preset, data "
                    f"{found['data']}); use another --out, or the same settings to resume it"
                )
            log.info("resuming the comparison in %s", self.out_dir)
        else:
            self.state = {"settings": settings, "models": {}}

    runs_dir = property(lambda self: self.out_dir / "runs")
    tuning_dir = property(lambda self: self.out_dir / "tuning")

    def plan(self, names: Sequence[str]) -> tuple[dict[str, TrainConfig | None], dict[str, str]]:
        """{model: its TrainConfig for this preset, or None for a tuned model still to be searched} for the models
        that can run, and {model: why not} for the others.

        A MobileNetV2 model without its weights file, or a tuned model the preset has no tuning budget for, is
        skipped, not fatal: the other models are still worth comparing."""
        from hcr.models import get_model_entry, list_models
        from hcr.models.weights import resolve_weights

        available = set(list_models())
        plans, skipped = {}, {}
        for name in dict.fromkeys(names):
            if name not in available and name in ZOO:
                skipped[name] = "not in this version's model registry"
                continue
            entry = get_model_entry(name)  # an unknown name stops here, with the list of models
            try:
                if entry.needs_weights:
                    resolve_weights(self.weights)
                if entry.tuned_from and entry.tuned_from not in self.preset.tuning:
                    raise HcrError(
                        f"the {self.preset.name} preset has no tuning budget for it (its search would take longer "
                        "than the whole preset); --preset seed or full tunes it"
                    )
            except HcrError as e:
                skipped[name] = str(e)
                continue
            plans[name] = None if entry.tuned_from else self._config(name)
        return plans, skipped

    def run_model(self, name: str, config: TrainConfig | None) -> Path:
        """The model's run folder: reused if finished, resumed if interrupted after an epoch, else trained anew
        (a tuned model's search first)."""
        from hcr.training.fit import resume, train

        finished, interrupted = _existing_runs(self.runs_dir, name)
        if finished is not None:
            log.info("%s: finished earlier in %s; not retrained", name, finished)
            return finished
        if interrupted is None and config is None:
            config = self._config(name, tuned_params=self._tune(name))
        started = time.perf_counter()
        if interrupted is not None:
            log.info("%s: resuming the interrupted run %s", name, interrupted)
            run_path = resume(interrupted).run.path
        else:
            run_path = train(config, self.data_config, self.runs_dir).run.path
        record = self._record(name)
        record["train_seconds"] = record.get("train_seconds", 0.0) + time.perf_counter() - started
        record["run"] = str(run_path.relative_to(self.out_dir))
        self.save()
        return run_path

    def leaderboard_row(self, name: str, run_path: Path) -> LeaderboardRow:
        run = RunDir(run_path)
        metrics = run.read_json(run.metrics_path)
        evaluation = _evaluation_of(run_path)
        record = self._record(name)
        return LeaderboardRow(
            model=name,
            val_accuracy=metrics["val"]["accuracy"],
            test_accuracy=evaluation["accuracy"],
            test_macro_f1=evaluation["macro"]["f1"],
            parameters=evaluation["size"]["parameters"],
            file_bytes=evaluation["size"]["file_bytes"],
            train_seconds=round(record.get("train_seconds", metrics["train_seconds_this_session"]), 1),
            tune_seconds=round(record.get("tuning", {}).get("seconds", 0.0), 1),
            images_per_second=round(evaluation["speed"]["batch_images_per_second"], 1),
            single_image_ms=round(evaluation["speed"]["single_image_ms"], 2),
            epochs=metrics["epochs_done"],
            run=str(run_path),
        )

    def tuning_note(self, name: str) -> str | None:
        tuning = self._record(name).get("tuning")
        if not tuning:
            return None
        return (
            f"{tuning['trials']} trials of at most {tuning['trial_epochs']} epochs, best validation accuracy "
            f"{tuning['best_val_accuracy']:.2%}, {tuning['seconds'] / 60:.1f} min ({tuning['dir']})"
        )

    def _config(self, name: str, tuned_params: Path | None = None) -> TrainConfig:
        from hcr.training.fit import resolve_config

        config = resolve_config(name, tuned_params=tuned_params, weights=self._weights_for(name))
        return config.with_overrides(epochs=self.preset.epochs(config.epochs))

    def _tune(self, name: str) -> Path:
        """The best_params.json of the model's search: a finished study's, else a new (or the interrupted) study
        run within the preset's budget, on the comparison's own data and split."""
        from hcr.models import get_model_entry
        from hcr.training.tuned import BEST_PARAMS_NAME, find_best_params, tuning_run_name
        from hcr.tuning import TuneConfig, tune

        search = get_model_entry(name).tuned_from
        try:
            return find_best_params(name, search, self.tuning_dir)
        except HcrError:
            pass  # not searched yet
        n_trials, trial_epochs = self.preset.tuning[search]
        interrupted = sorted(
            path for path in self.tuning_dir.glob(f"*-{tuning_run_name(search)}*/tuning.json")
            if not (path.parent / BEST_PARAMS_NAME).is_file()
        )  # fmt: skip
        joined = RunDir(self.tuning_dir).read_json(interrupted[-1]) if interrupted else {}
        config = TuneConfig(
            search=search, n_trials=n_trials, epochs=trial_epochs, retrain=False, seed=self.data_config.seed,
            weights=self._weights_for(name), study_name=joined.get("study"), storage=joined.get("storage"),
        )  # fmt: skip
        log.info("%s: tuning (%d trials of at most %d epochs)", name, n_trials, trial_epochs)
        started = time.perf_counter()
        result = tune(config, self.data_config, self.tuning_dir)
        self._record(name)["tuning"] = {
            "dir": str(result.tuning_dir.relative_to(self.out_dir)),
            "trials": n_trials,
            "trial_epochs": trial_epochs,
            "best_val_accuracy": result.best_value,
            "seconds": time.perf_counter() - started,
        }
        self.save()
        return result.tuning_dir / BEST_PARAMS_NAME

    def _weights_for(self, name: str) -> str | None:
        """--weights only for the models built on them: a run records (and fingerprints) any weights it is given."""
        from hcr.models import get_model_entry

        return self.weights if get_model_entry(name).needs_weights else None

    def _record(self, name: str) -> dict[str, Any]:
        return self.state["models"].setdefault(name, {})

    def save(self) -> None:
        RunDir(self.out_dir).write_json(self.out_dir / STATE_FILE, self.state)


def _data_overview(data_config: DataConfig, eda_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """The EDA figures (drawn once) and the facts about the data and split the report and model card show."""
    from hcr.data.eda import write_eda_figures
    from hcr.training.fit import prepare_data

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


def _existing_runs(runs_dir: Path, name: str) -> tuple[Path | None, Path | None]:
    """(the newest finished run of `name`, the newest interrupted one with a checkpoint) in `runs_dir`."""
    finished = interrupted = None
    for path in sorted(runs_dir.glob("*")) if runs_dir.is_dir() else []:
        run = RunDir(path)
        if not run.config_path.is_file() or run.read_json(run.config_path)["train"]["model"] != name:
            continue
        if run.metrics_path.is_file():
            finished = path
        elif run.state_path.is_file():
            interrupted = path
    return finished, interrupted


def _evaluation_of(run_path: Path) -> dict[str, Any]:
    path = evaluation_dir(run_path) / EVALUATION_FILE
    if path.is_file():
        return RunDir(run_path).read_json(path)
    return evaluate_run(run_path).summary


def _export_best(best: LeaderboardRow, n_compared: int, best_dir: Path) -> tuple[Path, Path]:
    """model.onnx + model.json (hcr.training.export, verified against Keras) and MODEL_CARD.md in `best_dir`.

    An export already there from the same run is kept: exporting converts and verifies, which takes a while."""
    from hcr.models import get_model_entry
    from hcr.training.export import export_onnx

    run = RunDir(Path(best.run))
    onnx_path, json_path = best_dir / "model.onnx", best_dir / "model.json"
    current = json.loads(json_path.read_text()) if json_path.is_file() else {}
    if not (onnx_path.is_file() and current.get("source_run") == str(run.path.resolve())):
        with console.status(f"Exporting {best.model} to ONNX…"):
            onnx_path = export_onnx(run.path, best_dir)
    facts = CardFacts(
        model=best.model,
        summary=get_model_entry(best.model).summary,
        config=run.read_json(run.config_path),
        metrics=run.read_json(run.metrics_path),
        evaluation=_evaluation_of(run.path),
        n_compared=n_compared,
        train_seconds=best.train_seconds,
        tune_seconds=best.tune_seconds,
        files={
            "model.onnx": "the model (ONNX, float32 [N, 28, 28, 1] in 0..1 → [N, 26] probabilities)",
            "model.json": "classes, input convention, confidence threshold, provenance (hcr.training.export)",
        },
    )
    card_path = best_dir / "MODEL_CARD.md"
    write_text_atomic(card_path, render_model_card(facts))
    return onnx_path, card_path


def _report_content(
    rows: list[LeaderboardRow],
    runs: dict[str, Path],
    skipped: dict[str, str],
    data_facts: dict[str, str],
    eda_figures: list[Path],
    session: _Session,
    best_model_path: Path,
    card_path: Path,
) -> ReportContent:
    out_dir = session.out_dir
    sections = []
    for row in rows:
        evaluation = _evaluation_of(runs[row.model])
        folder = evaluation_dir(runs[row.model])
        sections.append(
            ModelSection(
                name=row.model,
                evaluation=evaluation,
                figures=[folder / name for name in evaluation["figures"]],
                extra={
                    "validation accuracy": f"{row.val_accuracy:.2%}",
                    "epochs": str(row.epochs),
                    "training time": f"{row.train_seconds / 60:.1f} min",
                    **({"tuning": note} if (note := session.tuning_note(row.model)) else {}),
                    "run folder": str(Path(row.run).relative_to(out_dir)),
                },
            )
        )
    return ReportContent(
        title="hcr model comparison",
        subtitle=f"{len(rows)} models, {session.preset.name} preset, on {data_facts['sources']} "
        f"({data_facts['images']} images)",
        leaderboard_headers=HEADERS,
        leaderboard_rows=formatted(rows),
        best_row=0,
        data_facts=data_facts,
        eda_figures=eda_figures,
        models=sections,
        skipped=skipped,
        best_note=f"Best by validation accuracy: {rows[0].model}, exported to {best_model_path.relative_to(out_dir)} "
        f"with its model card {card_path.relative_to(out_dir)}.",
    )


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
