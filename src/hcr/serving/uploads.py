"""Get the image bytes out of a request, whichever way the client sent them, or say clearly what is wrong.

Two ways in: a multipart form upload (field `file`, what `curl -F file=@a.png` and an HTML file input send) and
JSON `{"image": BASE64}` (what a page sends from a canvas's `toDataURL()`, so a data URL is accepted as is).
The body's size is already bounded by `limits.BodySizeLimit`; decoding the image itself happens later.
"""

import base64
import binascii

from fastapi import HTTPException, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from hcr.serving.schemas import ImageBody

FORM_FIELD = "file"
MULTIPART = "multipart/form-data"
JSON = "application/json"

# The request body of /v1/predict and /v1/read in the OpenAPI docs: parsed by hand, so described by hand.
IMAGE_REQUEST_BODY = {
    "required": True,
    "content": {
        MULTIPART: {
            "schema": {
                "type": "object",
                "required": [FORM_FIELD],
                "properties": {FORM_FIELD: {"type": "string", "format": "binary", "description": "the image file"}},
            }
        },
        JSON: {"schema": ImageBody.model_json_schema()},
    },
}


async def read_image_bytes(request: Request) -> bytes:
    """The uploaded image's bytes: 415 for another content type, 422 for a malformed or empty body."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == MULTIPART:
        data = await _from_form(request)
    elif media_type == JSON:
        data = _from_json(await request.body())
    else:
        raise HTTPException(
            415,
            f"unsupported content type '{media_type or 'none'}': send {MULTIPART} with the image in a field "
            f'named \'{FORM_FIELD}\', or {JSON} like {{"image": "<base64 or data URL>"}}',
        )
    if not data:
        raise HTTPException(422, "the image is empty (0 bytes)")
    return data


async def _from_form(request: Request) -> bytes:
    try:
        form = await request.form(max_files=1, max_fields=10)
    except StarletteHTTPException as e:  # Starlette's 400 for a malformed multipart body
        raise HTTPException(422, f"malformed multipart body: {e.detail}") from None
    upload = form.get(FORM_FIELD)
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, f"no file in the form: send the image in a field named '{FORM_FIELD}'")
    return await upload.read()


def _from_json(body: bytes) -> bytes:
    try:
        text = ImageBody.model_validate_json(body).image
    except ValidationError as e:
        problem = e.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise HTTPException(
            422, f'malformed JSON body: {problem["msg"]}{f" at {where}" if where else ""}; expected {{"image": …}}'
        ) from None
    return decode_base64_image(text)


def decode_base64_image(text: str) -> bytes:
    """Bytes from base64 text, bare or as a `data:<type>;base64,` URL; line breaks inside are tolerated."""
    if text.startswith("data:"):
        header, comma, text = text.partition(",")
        if not comma or not header.endswith(";base64"):
            raise HTTPException(422, "malformed data URL: expected 'data:<type>;base64,<data>'")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, "the image is not valid base64") from None
