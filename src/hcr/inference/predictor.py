"""Letters from images with an exported model: ONNX Runtime, numpy and Pillow only, so it starts fast and installs
without TensorFlow.

    predictor = Predictor(Path("runs/…/model.onnx"))     # or Predictor() for the model shipped with hcr
    for path, prediction in predictor.predict_files(paths):
        print(path, prediction.letter, prediction.confidence, prediction.status)
"""

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
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
    SIDE,
    BlankImageError,
    ImageError,
    open_image,
    register_heif,
    to_letter_array,
    to_model_input,
)
from hcr.inference.second_look import check_settings, looked_again
from hcr.labels import NOT_A_LETTER

DEFAULT_MODEL_DIR = Path(__file__).parent / "default_model"
MODEL_BATCH = 256  # images per ONNX Runtime call: amortises the call, and splits a batch over the cores
FILE_BATCH = 256  # files decoded before they go through the model together
logger = logging.getLogger(__name__)

STDIN = "-"  # what many tools take for standard input: refused by name, not reported as a file not found

NOT_A_LETTER_REASON = "looks like a digit, a scribble or several glyphs, not one letter"  # the message of its status


@dataclass(frozen=True)
class Prediction:
    letter: str | None  # None when blank, not a letter (or the file failed)
    confidence: float  # probability of `letter`; for not-a-letter, of the likeliest letter (which lost); blank: 0
    top_k: list[tuple[str, float]]  # the likeliest letters, best first (never not-a-letter)
    status: str  # "ok" | "low-confidence" | "not-a-letter" | "blank" | "error"
    message: str | None  # for not-a-letter/blank/error: why, one line
    model_input: np.ndarray | None = field(repr=False)  # uint8 [28, 28]: the image the model actually saw

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a prediction, the one `hcr predict --json`, `hcr read --json` and the HTTP API all
        give (probabilities rounded to 6 places: more is noise)."""
        return {
            "letter": self.letter,
            "confidence": round(self.confidence, 6),
            "status": self.status,
            "top_k": [{"letter": letter, "probability": round(p, 6)} for letter, p in self.top_k],
            "message": self.message,
        }


class Predictor:
    """An exported model (model.onnx with its model.json) ready to read letters.

    `threshold_` is the low-confidence threshold calibrated at export on the validation split: a top-1 probability
    below it is reported as "low-confidence" (the letter is still given). `second_look_` (from model.json) says
    which answers are read again from tilted and scaled copies of the letter, and how. A model trained with
    out-of-scope examples has one more class after the letters, not-a-letter (hcr.labels.NOT_A_LETTER): where it
    is the likeliest, the image is reported as "not-a-letter", with no letter. `letters_` are the classes that are
    letters."""

    def __init__(self, model_path: Path | str | None = None) -> None:
        onnx_path = resolve_model_path(model_path)
        self.path_ = onnx_path
        self.metadata_: dict[str, Any] = read_metadata(onnx_path)
        self.classes_: tuple[str, ...] = tuple(self.metadata_["classes"])
        self.letters_: tuple[str, ...] = tuple(c for c in self.classes_ if c != NOT_A_LETTER)
        self.threshold_: float = float(self.metadata_["low_confidence"]["threshold"])
        # a 27-class model answers not-a-letter only this sure of it (calibrated at export; 0 for older exports)
        self.not_a_letter_threshold_: float = float(self.metadata_.get("not_a_letter", {}).get("threshold", 0.0))
        # unsure answers are read again from tilted and scaled copies (None for models exported before)
        self.second_look_: dict[str, Any] | None = self.metadata_.get("second_look")
        try:
            self.session_ = self.create_session(onnx_path)
        except Exception as e:  # ONNX Runtime raises its own exception types for files it cannot load
            raise HcrError(f"{onnx_path}: not a model ONNX Runtime can load ({e})") from None
        check_signature(self.session_, len(self.classes_), onnx_path)
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
        """uint8 [N, 28, 28] letter arrays → float32 [N, n_classes] probabilities, columns in the order of classes_;
        an unsure answer is the mean of its second look (hcr.inference.second_look)."""

        def read(letters: np.ndarray) -> np.ndarray:
            return run_session(self.session_, letters, self.pool_)

        return looked_again(read(x), x, read, len(self.letters_), self.second_look_)

    def predict_image(self, image: Image.Image, top_k: int = 3) -> Prediction:
        """One decoded image → its Prediction; a blank or unusable image is reported, not raised."""
        (prediction,) = self.predict_loaded([load_letter(image)], top_k)
        return prediction

    def predict_files(self, paths: Iterable[Path], top_k: int = 3) -> Iterator[tuple[Path, Prediction]]:
        """(path, Prediction) for each file, in order; files go through the model in batches. A file that cannot be
        read gives status "error" with a one-line message, and the rest go on. (Decoding stays on one thread: the
        preprocessing holds the GIL often enough that decoding on the pool's threads was slower on 2 cores.)"""
        remaining = iter(paths)
        while chunk := [Path(path) for path in islice(remaining, FILE_BATCH)]:
            yield from zip(chunk, self.predict_loaded([load_letter(path) for path in chunk], top_k), strict=True)

    def predict_loaded(self, loaded: list[np.ndarray | Prediction], top_k: int = 3) -> list[Prediction]:
        """load_letter's results → their Predictions, in order: the letter arrays through the model in one batch,
        the failures' Predictions as they are."""
        letters = [item for item in loaded if isinstance(item, np.ndarray)]
        probabilities = iter(self.predict_arrays(np.stack(letters)) if letters else [])
        return [
            self._interpret(next(probabilities), item, top_k) if isinstance(item, np.ndarray) else item
            for item in loaded
        ]

    def _interpret(self, probabilities: np.ndarray, letter: np.ndarray, top_k: int) -> Prediction:
        """float32 [n_classes] → the Prediction. The letters come first in classes_, so not-a-letter (if the model
        has it) is the one column after them."""
        n_letters = len(self.letters_)
        order = np.argsort(probabilities[:n_letters])[::-1][: max(1, top_k)]
        top = [(self.letters_[i], float(probabilities[i])) for i in order]
        confidence = top[0][1]
        refusal = probabilities[n_letters] if n_letters < len(self.classes_) else 0.0
        if refusal > confidence and refusal >= self.not_a_letter_threshold_:
            return Prediction(None, confidence, top, NOT_A_LETTER, NOT_A_LETTER_REASON, letter)
        status = "ok" if confidence >= self.threshold_ else "low-confidence"
        return Prediction(top[0][0], confidence, top, status, None, letter)


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
    if onnx_path.suffix.lower() != ".onnx":  # an image given as --model: say so, not that a model.json is missing
        raise HcrError(f"{model_path}: not a model (expected a model.onnx, or a folder holding one)")
    return onnx_path


def find_images(inputs: Iterable[Path]) -> list[Path]:
    """Files as given (even without an image extension: they are reported if unreadable), plus every file with an
    extension Pillow reads under each folder, recursively and sorted; hidden files and folders are skipped."""
    files: list[Path] = []
    for path in inputs:
        if str(path) == STDIN:
            raise HcrError(
                "-: images are not read from standard input; give the file's path (for a file named -, its full path)"
            )
        if not path.is_dir():
            files.append(path)
            continue
        register_heif()  # a phone's photos in the folder
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
        _check_classes(metadata["classes"])
        _check_threshold(metadata["low_confidence"]["threshold"])
        if "second_look" in metadata:
            check_settings(metadata["second_look"])
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


def _check_classes(classes: object) -> None:
    """Each output column is named by a class: a list of at least two distinct non-empty names, not-a-letter (if
    there) last, after the letters, as training writes it."""
    if not isinstance(classes, list) or len(classes) < 2:
        raise ValueError("'classes' must list at least two classes")
    if not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise ValueError("'classes' must be distinct non-empty names")
    if NOT_A_LETTER in classes[:-1]:
        raise ValueError(f"'{NOT_A_LETTER}' must be the last class, after the letters")


def _check_threshold(threshold: object) -> None:
    """The low-confidence threshold is compared with probabilities: a number in 0..1 (JSON true is not one)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"low_confidence.threshold must be a number in 0..1, not {threshold!r}")


def check_signature(session: ort.InferenceSession, n_classes: int, onnx_path: Path) -> None:
    """Refuses, at load, a model that would fail on every image: the input must be float [N, 28, 28, 1] with any N,
    and the first output [N, n_classes] probabilities. Checked on the declared shapes (clear messages), then by
    running two blank letters through it (what the declarations cannot say: the output really is that shape, and
    probabilities)."""
    problem = _signature_problem(session, n_classes)
    if problem is None:
        probe = run_session(session, np.zeros((2, SIDE, SIDE), np.uint8))
        if probe.shape != (2, n_classes):
            problem = f"its output is {list(probe.shape)} for 2 images, not [2, {n_classes}]"
        elif not (np.isfinite(probe).all() and probe.min() >= 0 and np.allclose(probe.sum(axis=1), 1.0, atol=1e-3)):
            problem = "its output is not probabilities (each row must be ≥ 0 and sum to 1)"
    if problem is not None:
        raise HcrError(f"{onnx_path}: {problem}; not a letter model as `hcr export` writes them")


def _signature_problem(session: ort.InferenceSession, n_classes: int) -> str | None:
    """What is wrong with the model's declared input and output, or None."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1:
        return f"it takes {len(inputs)} inputs, not one image tensor"
    shape, expected = inputs[0].shape, [SIDE, SIDE, 1]
    if len(shape) != 4 or shape[1:] != expected or isinstance(shape[0], int):
        return f"its input is {_shape(shape)}, not [N, {SIDE}, {SIDE}, 1] (any N)"
    if inputs[0].type != "tensor(float)":
        return f"its input is {inputs[0].type}, not tensor(float)"
    out_shape = outputs[0].shape
    if len(out_shape) != 2 or (isinstance(out_shape[1], int) and out_shape[1] != n_classes):
        return f"its output is {_shape(out_shape)}, not [N, {n_classes}] (one column per class in model.json)"
    return None


def _shape(shape: list) -> str:
    """An ONNX shape as text, a named or unknown dimension shown as N."""
    return "[" + ", ".join(str(d) if isinstance(d, int) else "N" for d in shape) + "]"


def run_session(session: ort.InferenceSession, x: np.ndarray, pool: Executor | None = None) -> np.ndarray:
    """uint8 [N, 28, 28] → float32 [N, n_classes] probabilities, MODEL_BATCH images per call, calls spread over
    `pool`'s threads when there are several."""
    name = session.get_inputs()[0].name
    chunks = [x[i : i + MODEL_BATCH] for i in range(0, max(len(x), 1), MODEL_BATCH)]
    mapper = pool.map if pool is not None and len(chunks) > 1 else map
    return np.concatenate(list(mapper(lambda chunk: session.run(None, {name: to_model_input(chunk)})[0], chunks)))


def load_letter(source: Image.Image | Path) -> np.ndarray | Prediction:
    """uint8 [28, 28]: the letter of a decoded image or an image file, as the model sees it; or, for a blank or
    unusable image, the Prediction that says why there is none. An image that fails in a way no rule foresaw is that
    image's error too (its traceback logged at debug level): one odd file must not end a batch of thousands."""
    try:
        return to_letter_array(source if isinstance(source, Image.Image) else open_image(source))
    except ImageError as e:
        return _failed(e)
    except Exception as e:
        logger.debug("an image could not be processed", exc_info=True)
        return _failed(ImageError(f"could not be processed ({type(e).__name__}: {e})"))


def _n_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _failed(error: ImageError) -> Prediction:
    status = "blank" if isinstance(error, BlankImageError) else "error"
    return Prediction(letter=None, confidence=0.0, top_k=[], status=status, message=str(error), model_input=None)
