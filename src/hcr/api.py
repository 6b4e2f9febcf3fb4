"""What a notebook types: `hcr.Recognizer`, `hcr.load_dataset`, `hcr.train`, `hcr.tune`, `hcr.compare`,
`hcr.evaluate` and `hcr.export` (examples/walkthrough.ipynb goes through them all).

    import hcr
    recognizer = hcr.Recognizer()                 # the model shipped with hcr (ONNX Runtime: no TensorFlow)
    recognizer.predict("letter.png").letter       # also a PIL image, an array, or a batch of them
    recognizer.read("line.png").text              # a line of separate capitals, as `hcr read`

Each name is a thin layer over the library function the CLI uses, so the two cannot drift: the functions import
their layer (and, for training, TensorFlow) only when called.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from hcr.errors import HcrError, InputError
from hcr.inference.predictor import Prediction, Predictor, load_letter
from hcr.inference.preprocess import deep_levels

if TYPE_CHECKING:
    from hcr.configs import DataConfig
    from hcr.data.dataset import LetterData
    from hcr.evaluation.evaluate import Evaluation
    from hcr.inference.reading import LineReading
    from hcr.pipelines.compare import Comparison
    from hcr.pipelines.tune_retrain import TunedAndRetrained
    from hcr.training.fit import TrainResult

ImageLike = Image.Image | str | Path | np.ndarray  # one image; a list of them, or an [N, H, W] array, is a batch
MAX_LEVEL = 255  # the brightest grey level of an 8-bit image


class Recognizer(Predictor):
    """An exported model that reads letters from whatever a notebook holds: a PIL image, an image file, an array.

    Every image goes through the same preprocessing as `hcr predict` gives a file (polarity, paper, box, pen), so
    an array is a picture, not model input: uint8 0..255, or float 0..1, any polarity, either a [H, W] image or an
    [N, H, W] batch (a dataset's [N, 28, 28] letters included). Deeper levels (uint16, int32, whole float levels
    beyond 255: a scan read with its full depth) are scaled by each image's largest value, as a 16-bit file is. A
    float array with values above 1 is refused unless every value is a whole number (an image cast to float):
    scaling fractions is too easy to get wrong to guess. Bad arrays raise hcr.errors.InputError; a blank or
    unreadable image is a Prediction saying so, as in `hcr predict`."""

    @classmethod
    def from_run(cls, run_dir: Path | str) -> "Recognizer":
        """The model of a run folder (`hcr train`'s), once `hcr export` has written its model.onnx there."""
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise HcrError(f"{run_dir}: no such run folder")
        if not (run_dir / "model.onnx").is_file():
            raise HcrError(f"{run_dir}: not exported yet (no model.onnx); run `hcr export {run_dir}` first")
        return cls(run_dir / "model.onnx")

    def predict(self, images: ImageLike | Sequence[ImageLike], top_k: int = 3) -> Prediction | list[Prediction]:
        """The letter in one image (a Prediction), or in each of a batch (a list of them, in order)."""
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise InputError(f"top_k must be a whole number, at least 1, not {top_k!r}")
        if isinstance(images, np.ndarray) and images.ndim == 3 and not _is_one_image(images):
            return self.predict_loaded([load_letter(_image_of(x)) for x in _checked_levels(images, batch=True)], top_k)
        if isinstance(images, list | tuple):
            return self.predict_loaded([load_letter(_source(image)) for image in images], top_k)
        (prediction,) = self.predict_loaded([load_letter(_source(images))], top_k)
        return prediction

    def read(self, images: ImageLike | Sequence[ImageLike], top_k: int = 3) -> "LineReading | list[LineReading]":
        """The lines of separate capitals in an image (or in each of a list: form fields in a batch), as `hcr read`
        reads them: `.text` (? for a character that is not a letter), `.status`, `.characters` (each a Prediction
        with its box). An image with nothing to read is a reading with status "blank" or "error" and its
        `.message`, as `hcr read` reports it: one empty field never stops a batch."""
        from hcr.inference.reading import read_image

        if isinstance(images, list | tuple):
            return [read_image(_source(image), self, top_k) for image in images]
        return read_image(_source(images), self, top_k)


def _source(image: object) -> Image.Image | Path:
    """A decoded image or an image file, from anything one image may be given as."""
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, str | Path):
        return Path(image)
    if isinstance(image, np.ndarray):
        if image.ndim == 3 and _is_one_image(image) and image.shape[-1] != 2:  # [H, W, 1, 3 or 4]: grey, RGB(A)
            levels = _checked_levels(image)
            return _image_of(levels[..., 0] if levels.shape[-1] == 1 else levels)
        if image.ndim != 2:
            raise InputError(
                f"an image array must be [H, W] (grey) or [H, W, 1, 3 or 4], not {list(image.shape)}; "
                "a batch is [N, H, W]"
            )
        return _image_of(_checked_levels(image))
    raise InputError(f"cannot read a {type(image).__name__} as an image: give a PIL image, a path or an array")


def _is_one_image(x: np.ndarray) -> bool:
    """Whether a 3-d array looks like one image with a channel axis [H, W, 1 to 4] rather than a batch of grey ones
    [N, H, W]: a batch of images 1 to 4 px wide is no batch of letters (2 channels are then refused). An [H, W, 1]
    array was read as H images one pixel wide, each blank."""
    return x.shape[-1] <= 4 and x.shape[1] > 4


def _checked_levels(x: np.ndarray, batch: bool = False) -> np.ndarray:
    """uint8, same shape: the grey levels of an image or (`batch`) of each of a batch's images, once its dtype and
    values are known to be sound; deeper levels (16-bit, 32-bit, whole float levels) scaled as an image file of that
    depth is, each image by its own largest value."""
    if x.size == 0:
        raise InputError(f"the array is empty ({list(x.shape)})")
    if np.issubdtype(x.dtype, np.bool_) or not np.issubdtype(x.dtype, np.number):
        raise InputError(f"an image array must hold numbers (uint8 0..255 or float 0..1), not {x.dtype}")
    if np.issubdtype(x.dtype, np.complexfloating):
        raise InputError(f"an image array must hold real numbers, not {x.dtype}")
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            raise InputError("the image array holds NaN or infinite values")
        if x.min() >= 0 and x.max() <= 1:
            return np.round(x * MAX_LEVEL).astype(np.uint8)
        if not (x.min() >= 0 and np.array_equal(x, np.round(x))):
            raise InputError(
                f"a float image array must lie in 0..1 or hold whole levels (this one spans {x.min():g}..{x.max():g}); "
                "divide by its maximum, or pass 8-bit levels as uint8"
            )
    elif x.min() < 0:
        raise InputError(
            f"an integer image array must lie in 0..255, or 0.. its depth (this one spans {x.min()}..{x.max()})"
        )
    if x.dtype == np.uint8:
        return x
    return np.stack([deep_levels(image) for image in x]) if batch else deep_levels(x)


def _image_of(levels: np.ndarray) -> Image.Image:
    """uint8 [H, W] (or [H, W, 3 or 4]) → a greyscale (RGB, RGBA) PIL image of those pixels."""
    return Image.fromarray(np.ascontiguousarray(levels))


Data = str | Sequence[str] | tuple[np.ndarray, np.ndarray] | None  # dataset names, or letters and labels


def train(
    model: str = "compact-cnn",
    data: Data = None,
    *,
    data_dir: Path | str | None = None,
    epochs: int | None = None,
    out: Path | str = "runs",
    **settings: Any,
) -> "TrainResult":
    """Train `model` into a new run folder under `out`, as `hcr train` does; `.run.path` is the folder and
    `.metrics` its scores. `data`: dataset names (e.g. "az", ["az", "emnist-letters"]; None: every dataset found
    in data_dir), or arrays (x uint8 [N, 28, 28] letters as the datasets hold them, y labels 0..25), written once
    as a pixel CSV in `out`, so the run stays reproducible and resumable. `epochs` None keeps the model's recipe.
    `settings` are any other fields of TrainConfig or DataConfig (learning_rate=…, per_class=…, seed=…,
    mixed_precision=True for an NVIDIA GPU: see docs/gpu.md)."""
    from dataclasses import fields

    from hcr.configs import TrainConfig
    from hcr.pipelines.tune_retrain import resolve_config

    train_fields = {f.name for f in fields(TrainConfig)} - {"model", "epochs"}
    data_config = _data_config(data, data_dir, Path(out), settings, train_fields, "training")
    train_settings = {k: v for k, v in settings.items() if k in train_fields}  # seed is both configs'
    config = resolve_config(model, runs_dir=Path(out), epochs=epochs, **train_settings)
    from hcr.training.fit import train as fit  # TensorFlow: only once the settings are known to be sound

    return fit(config, data_config, Path(out))


def tune(
    space: str = "cnn",
    data: Data = None,
    *,
    data_dir: Path | str | None = None,
    trials: int = 10,
    epochs: int | None = None,
    final_epochs: int | None = None,
    retrain: bool = True,
    out: Path | str = "runs",
    **settings: Any,
) -> "TunedAndRetrained":
    """Search a space's hyperparameters ("cnn" or "mobilenetv2") with Optuna, `trials` trials of at most `epochs`
    epochs each (None: the space's), as `hcr tune` does; then, unless `retrain` is False, train the best settings
    as a tuned-* run for at most `final_epochs`. `.tuning` holds `best_params` and `tuning_dir` (trials.csv, plots),
    `.retrained` the run, as hcr.train returns it. `data` and `data_dir` as for hcr.train; `settings` are
    DataConfig fields (per_class=…, seed=…, which also seeds the trials and the sampler)."""
    data_config = _data_config(data, data_dir, Path(out), settings, set(), "tuning")
    from hcr.pipelines.tune_retrain import tune_then_retrain
    from hcr.tuning import TuneConfig  # TensorFlow: only once the data settings are known to be sound

    config = TuneConfig(search=space, n_trials=trials, epochs=epochs, seed=data_config.seed)
    return tune_then_retrain(config, data_config, Path(out), retrain=retrain, final_epochs=final_epochs)


def _data_config(
    data: Data, data_dir: Path | str | None, out: Path, settings: dict[str, Any], others: set[str], what: str
) -> "DataConfig":
    """The data settings of a train or tune call: `data` (names, or arrays written as a pixel CSV in `out`) and the
    DataConfig fields among `settings`; a setting that is neither one of those nor one of `others` is refused."""
    from dataclasses import fields

    from hcr.configs import DataConfig

    data_fields = {f.name for f in fields(DataConfig)} - {"datasets", "data_dir"}
    unknown = set(settings) - data_fields - others
    if unknown:
        raise HcrError(f"unknown {what} settings: {', '.join(sorted(unknown))}")
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
        datasets: tuple[str, ...] = (f"az:{_write_arrays(*data, out)}",)
    else:
        datasets = (data,) if isinstance(data, str) else tuple(data or ())
    return DataConfig(
        datasets=datasets,
        data_dir=str(data_dir) if data_dir is not None else None,
        **{k: v for k, v in settings.items() if k in data_fields},
    )


def _write_arrays(x: np.ndarray, y: np.ndarray, out: Path) -> Path:
    """The arrays as a pixel CSV (Kaggle A–Z's format: label, then 784 pixels) named by their content, in `out`."""
    import hashlib

    from hcr.atomic import atomic_path

    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
        raise InputError(f"x must be uint8 [N, 28, 28] letters, not {x.dtype} {list(x.shape)}")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 25:
        raise InputError(f"y must hold one label 0..25 per letter of x ({len(x)}), not {y.dtype} {list(y.shape)}")
    rows = np.column_stack([y.astype(np.int64), x.reshape(len(x), -1)])  # [N, 785]
    path = out / f"arrays-{hashlib.sha256(rows.tobytes()).hexdigest()[:16]}.csv"
    if not path.is_file():
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            np.savetxt(tmp, rows, fmt="%d", delimiter=",")
    return path


def compare(
    models: Sequence[str] = (),
    datasets: Sequence[str] = (),
    *,
    data_dir: Path | str | None = None,
    preset: str = "quick",
    out: Path | str = "out/compare",
    seeds: Sequence[int] = (0,),
) -> "Comparison":
    """Train and evaluate several models on one split, as `hcr compare` does: the leaderboard, the report and the
    best model exported (`.best_model_path`). `preset` is one of "quick", "seed", "full"; with several training
    `seeds`, accuracies are mean ± sd over them and the ranking uses the mean."""
    from hcr.pipelines.compare import PRESETS, compare_models

    if preset not in PRESETS:
        raise HcrError(f"unknown preset '{preset}': use {', '.join(PRESETS)}")
    return compare_models(
        PRESETS[preset], models, datasets, Path(data_dir) if data_dir else None, Path(out), seeds=seeds
    )


def evaluate(run_dir: Path | str, datasets: Sequence[str] = (), data_dir: Path | str | None = None) -> "Evaluation":
    """Score a run's best model as `hcr evaluate` does, on its test split or on every image of `datasets`:
    `.summary` (accuracy, per-letter scores, confused pairs, size, speed) and `.figures`, the PNG files written
    (confusion matrices, learning curves, the most confident mistakes), for IPython.display.Image."""
    from hcr.evaluation.evaluate import evaluate_run

    return evaluate_run(Path(run_dir), datasets, data_dir)


def export(run_dir: Path | str, out: Path | str | None = None) -> Path:
    """Export a run's best model as `hcr export` does: model.onnx and model.json, checked against Keras, into the
    run folder (or `out`); returns the model.onnx path, which hcr.Recognizer(path) loads."""
    from hcr.training.export import export_onnx

    return export_onnx(Path(run_dir), Path(out) if out is not None else None)


def load_dataset(name: str, data_dir: Path | str | None = None) -> "LetterData":
    """One dataset ("az", "emnist-letters", "folder:PATH", …) as LetterData: x uint8 [N, 28, 28], y 0..25."""
    from hcr.data.sources import load_datasets

    return load_datasets([name], data_dir)
