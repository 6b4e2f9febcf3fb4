"""The HTTP API and the draw-a-letter page, around one `Predictor` (ONNX Runtime: no TensorFlow in this process).

    hcr serve --model runs/…/model.onnx      # then open http://127.0.0.1:8000/ (API docs at /docs)

`create_app(predictor)` builds the app around a predictor already loaded (and checked), so tests inject a tiny model
and nothing loads at import. A letter-sized upload (at most LOOP_MAX_SIDE px a side, by its header) is read on the
event loop: its cost is bounded (preprocessing is linear in the pixels, its worst shapes and a fuzz of random masks
measured ≤ 5 ms at 300 px by bench/worst_case_preprocess.py) and, at ~1 ms, below what handing it to another process
costs. Every other upload, and every line to read, is decoded and read in image processes (serving.compute), each
loading the same kind of predictor from the same file, under a deadline per upload, so one bad upload can neither
stall the other requests nor run on unbounded.

Bad input never gives a 500: 413 for a body over the upload limit, 415 for another content type, 422 for a
malformed body, an undecodable image or one that takes longer than the budget, 503 when every image process stays
busy for the whole budget; a blank image is a result.
"""

import functools
import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image

from hcr import __version__
from hcr.inference.predictor import Predictor, resolve_model_path
from hcr.serving.browser import MODEL_FILE_URL, browser_model
from hcr.serving.compute import BusyError, ImagePool, OverBudgetError
from hcr.serving.limits import BodySizeLimit
from hcr.serving.schemas import BrowserModel, ErrorBody, Health, LetterResult, ModelInfo, ReadResult
from hcr.serving.settings import ServeLimits
from hcr.serving.uploads import IMAGE_REQUEST_BODY, read_image_bytes
from hcr.serving.work import Task, UnusableImageError, perform

STATIC_DIR = Path(__file__).parent / "static"
SWAGGER_URL = "/static/swagger"  # Swagger UI's files, vendored from the npm package swagger-ui-dist
LOOP_MAX_SIDE = 300  # px: a letter of at most this size is read on the event loop (bounded, ≤ 5 ms worst case)
MODEL_CARD = "MODEL_CARD.md"
DEFAULT_LIMITS = ServeLimits()
ERROR_RESPONSES = {
    413: {"model": ErrorBody, "description": "the body is over the upload limit"},
    415: {"model": ErrorBody, "description": "neither multipart/form-data nor application/json"},
    422: {
        "model": ErrorBody,
        "description": "a malformed body, bad base64, an image that cannot be decoded, or one that took longer than "
        "the time limit per upload",
    },
    503: {"model": ErrorBody, "description": "every image process stayed busy for the whole time limit"},
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
    """The FastAPI app serving `predictor`, within `limits`. CORS is off unless origins are given ("*" allows any).
    Its image processes (started with the app, stopped with it) each load `type(predictor)` from the same file."""
    max_upload_bytes = limits.max_upload_bytes
    load = functools.partial(type(predictor), predictor.path_)
    pool = ImagePool(load, limits.image_processes, limits.image_timeout_s, limits.queue_timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        lifespan=lifespan,
        title="hcr",
        version=__version__,
        summary="Handwritten capital letters (A–Z) recognised from images.",
        description=f"Upload limit {max_upload_bytes / 1_000_000:g} MB. The web page is at [/](/).",
        docs_url=None,  # served below from the package's own copy of Swagger UI, not from a CDN
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

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API docs page. FastAPI's default loads Swagger UI from a CDN, a blank page without internet: this one
        loads the copy in static/swagger/ (see its README for the version and licence), and turns off the badge that
        would send the schema to an online validator."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.post("/v1/predict", responses=ERROR_RESPONSES, openapi_extra={"requestBody": IMAGE_REQUEST_BODY})
    async def predict(
        request: Request,
        top_k: int = Query(3, ge=1, le=len(predictor.letters_)),
        model_input: bool = Query(False, description="Also return the 28×28 image the model saw (a PNG data URL)."),
    ) -> LetterResult:
        """The letter in an image: a multipart upload (field `file`) or JSON `{"image": base64 or data URL}`."""
        return await _answer(pool, predictor, Task("predict", await read_image_bytes(request), top_k, model_input))

    @app.post("/v1/read", responses=ERROR_RESPONSES, openapi_extra={"requestBody": IMAGE_REQUEST_BODY})
    async def read(request: Request, top_k: int = Query(3, ge=1, le=len(predictor.letters_))) -> ReadResult:
        """A line of separate handwritten capitals (as on a form) → the text, and each letter with its box."""
        return await _answer(pool, predictor, Task("read", await read_image_bytes(request), top_k))

    @app.get("/v1/health")
    async def health() -> Health:
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

    @app.get("/v1/model/browser")
    def model_for_browser() -> BrowserModel:
        """What the draw-a-letter page needs to run the model itself: the model file's URL, its classes and
        thresholds, and the preprocessing constants its JavaScript port reads (see docs/browser.md)."""
        return browser_model(predictor)

    @app.get(
        MODEL_FILE_URL, response_class=FileResponse, responses={200: {"content": {"application/octet-stream": {}}}}
    )
    def model_file() -> FileResponse:
        """The ONNX model the server runs, for ONNX Runtime Web on the page."""
        return FileResponse(predictor.path_, media_type="application/octet-stream")

    return app


async def _one_line_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 for a bad query parameter, in the API's one error shape: {"detail": "one line"}."""
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
    return JSONResponse({"detail": problems}, status_code=422)


async def _answer(pool: ImagePool, predictor: Predictor, task: Task) -> LetterResult | ReadResult:
    """The task's answer, on the event loop for a letter-sized image, else from an image process; its failures as
    one-line HTTP errors (never a 500)."""
    try:
        if task.kind == "predict" and _letter_sized(task.data):
            return perform(predictor, task)
        return await pool.run(task)
    except UnusableImageError as e:
        raise HTTPException(422, str(e)) from None
    except OverBudgetError:
        raise HTTPException(
            422, f"processing the image took longer than {pool.timeout_s:g} s (the limit per upload); it was stopped"
        ) from None
    except BusyError:
        raise HTTPException(
            503, "the server is busy with other images; try again shortly", headers={"Retry-After": "1"}
        ) from None


def _letter_sized(data: bytes) -> bool:
    """Whether the upload's header says at most LOOP_MAX_SIDE px a side (read, not decoded: tens of µs). One whose
    header cannot be read goes to an image process, which says what is wrong with it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return max(image.size) <= LOOP_MAX_SIDE
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
