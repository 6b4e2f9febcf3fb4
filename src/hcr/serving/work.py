"""What is done with one upload: decode it, then predict its letter or read its line, into the API's shapes.

This runs in an image process (serving.compute), never on the server's event loop, so it imports neither FastAPI
nor uvicorn: an image process starts with only the predictor and what decoding needs. A problem with the image is
an UnusableImageError, which the app answers with 422.
"""

import base64
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image

from hcr.inference.predictor import Prediction, Predictor
from hcr.inference.preprocess import ImageError, open_image
from hcr.serving.schemas import LetterResult, ReadResult

if TYPE_CHECKING:
    from hcr.inference.reading import LineReading


class UnusableImageError(Exception):
    """The upload cannot be turned into an answer (undecodable, too large, not a letter): the client's error."""


@dataclass(frozen=True)
class Task:
    """One upload and what to do with it: sent to an image process, so everything in it pickles."""

    kind: Literal["predict", "read"]
    data: bytes
    top_k: int
    model_input: bool = False


def perform(predictor: Predictor, task: Task) -> LetterResult | ReadResult:
    """The answer to `task`; UnusableImageError if the image cannot give one."""
    try:
        image = open_image(task.data)
    except ImageError as e:
        raise UnusableImageError(f"cannot read the image: {e}") from None
    if task.kind == "read":
        return _read(predictor, image, task.top_k)
    return letter_result(predictor.predict_image(image, top_k=task.top_k), task.model_input)


def _read(predictor: Predictor, image: Image.Image, top_k: int) -> ReadResult:
    """The line in the image. Reading needs SciPy (~35 MB, 1.4 s to import): imported on the first line read, so
    neither the server nor an image process that only predicts letters pays for it."""
    from hcr.inference.reading import read_image

    return read_result(read_image(image, predictor, top_k=top_k))


def letter_result(prediction: Prediction, model_input: bool = False) -> LetterResult:
    """The API's shape of a Prediction, with the image the model saw if asked (the page shows it; most clients
    need not pay for the PNG); a blank image is an answer, an unusable one the client's error (422)."""
    if prediction.status == "error":
        raise UnusableImageError(f"cannot use the image: {prediction.message}")
    seen = None if not model_input or prediction.model_input is None else png_data_url(prediction.model_input)
    return LetterResult.model_validate({**prediction.to_dict(), "model_input": seen})


def read_result(reading: "LineReading") -> ReadResult:
    """The API's shape of a LineReading."""
    return ReadResult.model_validate(reading.to_dict())


def png_data_url(x: np.ndarray) -> str:
    """uint8 [28, 28] → 'data:image/png;base64,…', which an <img> shows as it is."""
    buffer = io.BytesIO()
    Image.fromarray(x).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
