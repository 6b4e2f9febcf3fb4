"""Letters from images with an exported model: ONNX Runtime, numpy and Pillow only, so it starts fast and installs
without TensorFlow.

    predictor = Predictor(Path("runs/…/model.onnx"))     # or Predictor() for the model shipped with hcr
    for path, prediction in predictor.predict_files(paths):
        print(path, prediction.letter, prediction.confidence, prediction.status)
"""

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image

from hcr.errors import HcrError
from hcr.files import is_file_entry
from hcr.inference.preprocess import (
    PREPROCESS_VERSION,
    BlankImageError,
    ImageError,
    open_image,
    to_letter_array,
    to_model_input,
)

DEFAULT_MODEL_DIR = Path(__file__).parent / "default_model"
MODEL_BATCH = 256  # images per ONNX Runtime call: amortises the call, and splits a batch over the cores
FILE_BATCH = 256  # files decoded before they go through the model together


@dataclass(frozen=True)
class Prediction:
    letter: str | None  # None when blank (or the file failed)
    confidence: float  # probability of `letter`
    top_k: list[tuple[str, float]]
    status: str  # "ok" | "low-confidence" | "blank" | "error"
    message: str | None  # for blank/error: why, one line
    model_input: np.ndarray | None  # uint8 [28, 28]: the image the model actually saw


class Predictor:
    """An exported model (model.onnx with its model.json) ready to read letters.

    `threshold_` is the low-confidence threshold calibrated at export on the validation split: a top-1 probability
    below it is reported as "low-confidence" (the letter is still given)."""

    def __init__(self, model_path: Path | str | None = None) -> None:
        onnx_path = resolve_model_path(model_path)
        self.metadata_: dict[str, Any] = read_metadata(onnx_path)
        self.classes_: tuple[str, ...] = tuple(self.metadata_["classes"])
        self.threshold_: float = float(self.metadata_["low_confidence"]["threshold"])
        try:
            self.session_ = self.create_session(onnx_path)
        except Exception as e:  # ONNX Runtime raises its own exception types for files it cannot load
            raise HcrError(f"{onnx_path}: not a model ONNX Runtime can load ({e})") from None
        self.pool_ = ThreadPoolExecutor(_n_cores(), thread_name_prefix="hcr-predict")  # threads start on first use

    @staticmethod
    def create_session(onnx_path: Path) -> ort.InferenceSession:
        """A single-threaded CPU session. One image then runs on the calling thread with no hand-over to a worker
        (which costs more than the model itself on a busy machine), and large batches still use every core: they
        are split over the predictor's threads, each running the same session (ONNX Runtime releases the GIL)."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def predict_arrays(self, x: np.ndarray) -> np.ndarray:
        """uint8 [N, 28, 28] letter arrays → float32 [N, 26] probabilities, columns in the order of classes_."""
        return run_session(self.session_, x, self.pool_)

    def predict_image(self, image: Image.Image, top_k: int = 3) -> Prediction:
        """One decoded image → its Prediction; a blank or unusable image is reported, not raised."""
        try:
            letter = to_letter_array(image)
        except ImageError as e:
            return _failed(e)
        return self._interpret(self.predict_arrays(letter[np.newaxis])[0], letter, top_k)

    def predict_files(self, paths: Iterable[Path], top_k: int = 3) -> Iterator[tuple[Path, Prediction]]:
        """(path, Prediction) for each file, in order; files go through the model in batches. A file that cannot be
        read gives status "error" with a one-line message, and the rest go on. (Decoding stays on one thread: the
        preprocessing holds the GIL often enough that decoding on the pool's threads was slower on 2 cores.)"""
        remaining = iter(paths)
        while chunk := [Path(path) for path in islice(remaining, FILE_BATCH)]:
            loaded = [_load(path) for path in chunk]  # letter arrays, or the failures' Predictions
            letters = [item for item in loaded if isinstance(item, np.ndarray)]
            probabilities = iter(self.predict_arrays(np.stack(letters)) if letters else [])
            for path, item in zip(chunk, loaded, strict=True):
                yield path, self._interpret(next(probabilities), item, top_k) if isinstance(item, np.ndarray) else item

    def _interpret(self, probabilities: np.ndarray, letter: np.ndarray, top_k: int) -> Prediction:
        order = np.argsort(probabilities)[::-1][: max(1, top_k)]
        confidence = float(probabilities[order[0]])
        return Prediction(
            letter=self.classes_[order[0]],
            confidence=confidence,
            top_k=[(self.classes_[i], float(probabilities[i])) for i in order],
            status="ok" if confidence >= self.threshold_ else "low-confidence",
            message=None,
            model_input=letter,
        )


def resolve_model_path(model_path: Path | str | None) -> Path:
    """The model.onnx to load: the given file (or the model.onnx in a given folder), else the shipped default."""
    if model_path is None:
        onnx_path = DEFAULT_MODEL_DIR / "model.onnx"
        if not onnx_path.is_file():
            raise HcrError(
                "this hcr has no default model yet: pass --model PATH/model.onnx, or train and export one "
                "(hcr train --model regularized-cnn, then hcr export RUN_DIR)"
            )
        return onnx_path
    model_path = Path(model_path)
    onnx_path = model_path / "model.onnx" if model_path.is_dir() else model_path
    if not onnx_path.is_file():
        raise HcrError(f"{model_path}: model not found (expected a model.onnx, or a folder holding one)")
    return onnx_path


def find_images(inputs: Iterable[Path]) -> list[Path]:
    """Files as given (even without an image extension: they are reported if unreadable), plus every file with an
    extension Pillow reads under each folder, recursively and sorted; hidden files and folders are skipped."""
    files: list[Path] = []
    for path in inputs:
        if not path.is_dir():
            files.append(path)
            continue
        extensions = Image.registered_extensions()  # loads every Pillow plugin (~0.2 s): only when a folder is given
        found = sorted(
            p
            for p in path.rglob("*")
            if p.suffix.lower() in extensions
            and is_file_entry(p)
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            raise HcrError(f"{path}: no image files found in this folder")
        files += found
    return files


def read_metadata(onnx_path: Path) -> dict[str, Any]:
    """The model.json beside `onnx_path`, checked to describe this very file and this version of preprocessing."""
    json_path = onnx_path.with_name("model.json")
    try:
        metadata = json.loads(json_path.read_text(encoding="utf-8"))
        expected_sha = metadata["onnx_sha256"]
        version = metadata["preprocess_version"]
        if len(metadata["classes"]) < 2 or "threshold" not in metadata["low_confidence"]:
            raise ValueError("no classes or no threshold")
    except FileNotFoundError:
        raise HcrError(f"{json_path}: missing; a model.onnx needs the model.json that `hcr export` writes") from None
    except (ValueError, KeyError, TypeError) as e:
        raise HcrError(f"{json_path}: not a valid model.json ({type(e).__name__}: {e})") from None
    if hashlib.sha256(onnx_path.read_bytes()).hexdigest() != expected_sha:
        raise HcrError(f"{onnx_path}: does not match its model.json (sha256 differs); export the model again")
    if version != PREPROCESS_VERSION:
        raise HcrError(
            f"{onnx_path}: exported for preprocessing version {version}, but this hcr preprocesses with version "
            f"{PREPROCESS_VERSION}; export the model again with this hcr"
        )
    return metadata


def run_session(session: ort.InferenceSession, x: np.ndarray, pool: Executor | None = None) -> np.ndarray:
    """uint8 [N, 28, 28] → float32 [N, n_classes] probabilities, MODEL_BATCH images per call, calls spread over
    `pool`'s threads when there are several."""
    name = session.get_inputs()[0].name
    chunks = [x[i : i + MODEL_BATCH] for i in range(0, max(len(x), 1), MODEL_BATCH)]
    mapper = pool.map if pool is not None and len(chunks) > 1 else map
    return np.concatenate(list(mapper(lambda chunk: session.run(None, {name: to_model_input(chunk)})[0], chunks)))


def _load(path: Path) -> np.ndarray | Prediction:
    """The letter array of an image file, or the Prediction that says why there is none."""
    try:
        return to_letter_array(open_image(path))
    except ImageError as e:
        return _failed(e)


def _n_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _failed(error: ImageError) -> Prediction:
    status = "blank" if isinstance(error, BlankImageError) else "error"
    return Prediction(letter=None, confidence=0.0, top_k=[], status=status, message=str(error), model_input=None)
