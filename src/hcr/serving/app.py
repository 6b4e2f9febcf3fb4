"""The HTTP API and the draw-a-letter page, around one `Predictor` (ONNX Runtime: no TensorFlow in this process).

    hcr serve --model runs/…/model.onnx      # then open http://127.0.0.1:8000/ (API docs at /docs)

`create_app(predictor)` builds the app around a predictor already loaded, so tests inject a tiny model and nothing
loads at import. A letter-sized image is decoded and predicted right on the event loop: about a millisecond of
CPU, most of it holding the GIL, so handing it to a thread only adds the hand-over (and the GIL's switch interval
to the latency). Larger images, and lines to read, run in Starlette's thread pool (an ONNX Runtime session is
thread-safe) so a big photo does not stall the requests behind it.

Bad input never gives a 500: 413 for a body over the upload limit, 415 for another content type, 422 for a
malformed body or an undecodable image, and a blank image is a result.
"""

import base64
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image
from starlette.concurrency import run_in_threadpool

from hcr import __version__
from hcr.inference.predictor import Prediction, Predictor, resolve_model_path
from hcr.inference.preprocess import BlankImageError, ImageError, open_image
from hcr.inference.reading import LineReading, read_line
from hcr.serving.limits import BodySizeLimit, ServeLimits
from hcr.serving.schemas import Candidate, ErrorBody, Health, LetterResult, ModelInfo, ReadCharacter, ReadResult
from hcr.serving.uploads import IMAGE_REQUEST_BODY, read_image_bytes

STATIC_DIR = Path(__file__).parent / "static"
MODEL_CARD = "MODEL_CARD.md"
DEFAULT_LIMITS = ServeLimits()
INLINE_MAX_PIXELS = 300 * 300  # images up to this size are predicted on the event loop (a drawn or scanned letter)
ERROR_RESPONSES = {
    413: {"model": ErrorBody, "description": "the body is over the upload limit"},
    415: {"model": ErrorBody, "description": "neither multipart/form-data nor application/json"},
    422: {"model": ErrorBody, "description": "a malformed body, bad base64, or an image that cannot be decoded"},
}


def load_app(
    model_path: Path | None = None, *, limits: ServeLimits = DEFAULT_LIMITS, cors_origins: Sequence[str] = ()
) -> FastAPI:
    """The app for a model file or folder (None: the model shipped with hcr), with its model card when it has one."""
    onnx_path = resolve_model_path(model_path)
    card_path = onnx_path.with_name(MODEL_CARD)
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else None
    app = create_app(Predictor(onnx_path), card=card, limits=limits, cors_origins=cors_origins)
    # How to build this very app again: each worker process of `hcr serve --workers N` does (see serving.server).
    app.state.load_args = {"model_path": str(onnx_path), "limits": limits, "cors_origins": list(cors_origins)}
    return app


def create_app(
    predictor: Predictor,
    *,
    card: str | None = None,
    limits: ServeLimits = DEFAULT_LIMITS,
    cors_origins: Sequence[str] = (),
) -> FastAPI:
    """The FastAPI app serving `predictor`, within `limits`. CORS is off unless origins are given ("*" allows any)."""
    max_upload_bytes = limits.max_upload_bytes
    app = FastAPI(
        title="hcr",
        version=__version__,
        summary="Handwritten capital letters (A–Z) recognised from images.",
        description=f"Upload limit {max_upload_bytes / 1_000_000:g} MB. The web page is at [/](/).",
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_upload_bytes)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"])
    app.add_exception_handler(RequestValidationError, _one_line_validation_error)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    model_name = app.state.model_name = str(predictor.metadata_.get("model", "unnamed model"))
    app.state.limits = limits

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.post("/v1/predict", responses=ERROR_RESPONSES, openapi_extra={"requestBody": IMAGE_REQUEST_BODY})
    async def predict(
        request: Request,
        top_k: int = Query(3, ge=1, le=len(predictor.classes_)),
        model_input: bool = Query(False, description="Also return the 28×28 image the model saw (a PNG data URL)."),
    ) -> LetterResult:
        """The letter in an image: a multipart upload (field `file`) or JSON `{"image": base64 or data URL}`."""
        data = await read_image_bytes(request)
        if _is_small(data):
            return _predict_bytes(predictor, data, top_k, model_input)
        return await run_in_threadpool(_predict_bytes, predictor, data, top_k, model_input)

    @app.post("/v1/read", responses=ERROR_RESPONSES, openapi_extra={"requestBody": IMAGE_REQUEST_BODY})
    async def read(request: Request, top_k: int = Query(3, ge=1, le=len(predictor.classes_))) -> ReadResult:
        """A line of separate handwritten capitals (as on a form) → the text, and each letter with its box."""
        data = await read_image_bytes(request)
        return await run_in_threadpool(_read_bytes, predictor, data, top_k)

    @app.get("/v1/health")
    def health() -> Health:
        """Whether the server is up, and which model it serves."""
        return Health(status="ok", model=model_name)

    @app.get("/v1/model")
    def model() -> ModelInfo:
        """The model card: what the model is, how it was trained and exported, and how well it did."""
        return ModelInfo(
            name=model_name,
            classes=list(predictor.classes_),
            threshold=predictor.threshold_,
            metadata=predictor.metadata_,
            card=card,
        )

    return app


async def _one_line_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 for a bad query parameter, in the API's one error shape: {"detail": "one line"}."""
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
    return JSONResponse({"detail": problems}, status_code=422)


def _decode(data: bytes) -> Image.Image:
    """An image that cannot be decoded (or is too large to) is the client's error: 422."""
    try:
        return open_image(data)
    except ImageError as e:
        raise HTTPException(422, f"cannot read the image: {e}") from None


def _is_small(data: bytes) -> bool:
    """Whether the image has at most INLINE_MAX_PIXELS, from its header alone (no decoding); unreadable: False."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.width * image.height <= INLINE_MAX_PIXELS
    except Exception:  # whatever is wrong with it is reported by the full decode, in the thread pool
        return False


def _predict_bytes(predictor: Predictor, data: bytes, top_k: int, model_input: bool) -> LetterResult:
    """Decode and predict."""
    return letter_result(predictor.predict_image(_decode(data), top_k=top_k), model_input)


def _read_bytes(predictor: Predictor, data: bytes, top_k: int) -> ReadResult:
    """Decode and read the line, in a worker thread."""
    try:
        return read_result(read_line(_decode(data), predictor, top_k=top_k))
    except BlankImageError as e:
        return ReadResult(text="", status="blank", message=str(e), characters=[])


def letter_result(prediction: Prediction, model_input: bool = False) -> LetterResult:
    """The API's shape of a Prediction, with the image the model saw if asked (the page shows it; most clients
    need not pay for the PNG); a blank image is an answer, an unusable one the client's error (422)."""
    if prediction.status == "error":
        raise HTTPException(422, f"cannot use the image: {prediction.message}")
    return LetterResult(
        letter=prediction.letter,
        confidence=prediction.confidence,
        status=prediction.status,
        message=prediction.message,
        top_k=[Candidate(letter=letter, probability=p) for letter, p in prediction.top_k],
        model_input=None if not model_input or prediction.model_input is None else png_data_url(prediction.model_input),
    )


def read_result(reading: LineReading) -> ReadResult:
    """The API's shape of a LineReading; the line is 'low-confidence' when any of its letters is."""
    characters = [
        ReadCharacter(
            letter=c.letter,
            confidence=c.confidence,
            status=c.status,
            top_k=[Candidate(letter=letter, probability=p) for letter, p in c.top_k],
            box=c.box,
            space_before=c.space_before,
        )
        for c in reading.characters
    ]
    status = "low-confidence" if any(c.status != "ok" for c in characters) else "ok"
    return ReadResult(text=reading.text, status=status, characters=characters)


def png_data_url(x: np.ndarray) -> str:
    """uint8 [28, 28] → 'data:image/png;base64,…', which an <img> shows as it is."""
    buffer = io.BytesIO()
    Image.fromarray(x).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
