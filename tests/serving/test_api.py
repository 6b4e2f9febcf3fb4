"""The HTTP API with FastAPI's test client: every endpoint on real letters, and every kind of bad input.

Bad input must get a 4xx with a one-line `detail`, never a 500.
"""

import base64
import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hcr.inference.preprocess import MAX_PIXELS, PREPROCESS_VERSION, open_image
from hcr.inference.reading import read_line
from hcr.labels import CLASSES
from hcr.serving.app import create_app
from hcr.serving.settings import ServeLimits
from tests.lines import compose_line
from tests.serving.conftest import as_photo, decode_data_url, png_bytes


def assert_error(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "\n" not in detail
    for word in words:
        assert word in detail


# ---------------------------------------------------------------- the endpoints on real letters


def test_health_names_the_model(client, predictor):
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model": predictor.metadata_["model"]}


def test_model_card(client, predictor):
    card = client.get("/v1/model").json()
    assert card["name"] == predictor.metadata_["model"]
    assert card["classes"] == list(CLASSES)
    assert card["threshold"] == predictor.threshold_
    assert card["metadata"] == predictor.metadata_
    assert card["card"] == "# A tiny test model\n"


def test_predict_upload_answers_as_the_predictor_does(client, predictor, az_letters):
    x, y = az_letters
    letters = []
    for letter in x:
        photo = as_photo(letter)
        response = client.post("/v1/predict?model_input=true", files={"file": ("letter.png", photo, "image/png")})
        assert response.status_code == 200, response.text
        result = response.json()
        expected = predictor.predict_image(open_image(photo), top_k=3)
        assert result["letter"] == expected.letter
        assert result["status"] == expected.status
        assert result["confidence"] == pytest.approx(expected.confidence, abs=1e-6)  # JSON: 6 places
        assert [c["letter"] for c in result["top_k"]] == [letter for letter, _ in expected.top_k]
        probabilities = [c["probability"] for c in result["top_k"]]
        assert probabilities == sorted(probabilities, reverse=True)
        assert result["confidence"] == probabilities[0]
        np.testing.assert_array_equal(decode_data_url(result["model_input"]), expected.model_input)
        letters.append(result["letter"])
    assert np.mean([letter == CLASSES[label] for letter, label in zip(letters, y, strict=True)]) > 3 / 26


def test_uncommon_pixel_formats_are_answered_as_the_predictor_does(client, predictor, az_letters):
    """A Lab TIFF was answered 500 (Pillow cannot turn Lab grey) and a 3000 px 16-bit PNG 422 (nor reduce 16-bit by
    block means): both are letters."""
    big = Image.fromarray(255 - az_letters[0][0]).resize((140, 140), Image.Resampling.BICUBIC)
    files = {
        "lab.tif": big.convert("RGB").convert("LAB"),
        "deep.png": Image.fromarray(np.asarray(big.resize((3000, 3000)), dtype=np.uint16) * 257),
    }
    for name, image in files.items():
        buffer = io.BytesIO()
        image.save(buffer, "TIFF" if name.endswith(".tif") else "PNG")
        response = client.post("/v1/predict", files={"file": (name, buffer.getvalue(), "image/png")})
        assert response.status_code == 200, response.text
        expected = predictor.predict_image(open_image(buffer.getvalue()))
        assert response.json()["letter"] == expected.letter is not None


def test_the_page_gets_the_model_file_and_how_to_read_its_answers(client, predictor):
    """What the page's in-browser model loads: the very file the server runs, and the server's own thresholds."""
    info = client.get("/v1/model/browser").json()
    assert info["classes"] == list(predictor.classes_)
    assert info["n_letters"] == len(predictor.letters_)
    assert (info["threshold"], info["not_a_letter_threshold"]) == (
        predictor.threshold_,
        predictor.not_a_letter_threshold_,
    )
    assert info["preprocess"]["version"] == PREPROCESS_VERSION
    model = client.get(info["model_url"])
    assert model.status_code == 200
    assert hashlib.sha256(model.content).hexdigest() == info["onnx_sha256"] == predictor.metadata_["onnx_sha256"]


def test_the_image_the_model_saw_only_when_asked(client, az_letters):
    photo = as_photo(az_letters[0][3])
    plain = client.post("/v1/predict", files={"file": ("a.png", photo, "image/png")}).json()
    asked = client.post("/v1/predict?model_input=true", files={"file": ("a.png", photo, "image/png")}).json()
    assert plain["model_input"] is None
    assert decode_data_url(asked["model_input"]).shape == (28, 28)
    assert {**asked, "model_input": None} == plain


def test_predict_json_base64_and_data_url_agree_with_the_upload(client, az_letters):
    photo = as_photo(az_letters[0][5])
    upload = client.post("/v1/predict", files={"file": ("a.png", photo, "image/png")}).json()
    encoded = base64.b64encode(photo).decode()
    bare = client.post("/v1/predict", json={"image": encoded})
    data_url = client.post("/v1/predict", json={"image": f"data:image/png;base64,{encoded}"})
    wrapped = client.post("/v1/predict", json={"image": "\n".join(encoded[i : i + 76] for i in range(0, 9999, 76))})
    for response in (bare, data_url, wrapped):  # MIME-style line breaks are tolerated
        assert response.status_code == 200, response.text
        assert response.json() == upload


def test_large_photos_are_read_as_small_ones_are(client, predictor, az_letters):
    """A letter-sized image and a large photo of it give the predictor's own answer through the image processes."""
    for letter in az_letters[0][:5]:
        small, large = (as_photo(letter, side) for side in (160, 1200))
        assert Image.open(io.BytesIO(large)).size == (1200, 1200)
        answers = [client.post("/v1/predict", files={"file": ("a.png", p, "image/png")}).json() for p in (small, large)]
        for answer, photo in zip(answers, (small, large), strict=True):
            assert answer["letter"] == predictor.predict_image(open_image(photo)).letter


def test_predict_top_k(client, az_letters):
    photo = as_photo(az_letters[0][0])
    result = client.post("/v1/predict?top_k=5", files={"file": ("a.png", photo)}).json()
    assert len(result["top_k"]) == 5
    assert len({c["letter"] for c in result["top_k"]}) == 5
    for bad in ("0", "27", "x"):
        assert_error(client.post(f"/v1/predict?top_k={bad}", files={"file": ("a.png", photo)}), 422, "top_k")


@pytest.mark.parametrize("colour", [0, 255])
def test_blank_image_is_a_result_not_an_error(client, colour):
    canvas = np.full((280, 280), colour, np.uint8)  # an untouched canvas, black or white
    response = client.post("/v1/predict", files={"file": ("blank.png", png_bytes(canvas), "image/png")})
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "blank"
    assert result["letter"] is None
    assert result["top_k"] == []
    assert result["model_input"] is None
    assert "blank" in result["message"]


def test_read_a_line_of_real_capitals(client, predictor, az_letters):
    x, _ = az_letters
    rng = np.random.default_rng(0)
    picks = rng.choice(len(x), size=7, replace=False)
    line = compose_line(x[picks], rng, space_before=[False, False, False, True, False, False, False])
    response = client.post("/v1/read", files={"file": ("line.png", png_bytes(line.image), "image/png")})
    assert response.status_code == 200, response.text
    result = response.json()
    expected = read_line(line.image, predictor)
    assert result["text"] == expected.text
    assert len(result["text"].split(" ")) == 2  # the word gap is found
    assert len(result["characters"]) == 7
    assert [c["space_before"] for c in result["characters"]] == line.space_before
    for character, truth, alone in zip(result["characters"], line.boxes, expected.characters, strict=True):
        assert character["letter"] == alone.letter
        assert character["confidence"] == pytest.approx(alone.confidence, abs=1e-6)
        assert np.abs(np.subtract(character["box"], truth)).max() <= 3  # where the letter was put, to a few px
    low = any(c["status"] == "low-confidence" for c in result["characters"])
    assert result["status"] == ("low-confidence" if low else "ok")
    as_json = client.post("/v1/read", json={"image": base64.b64encode(png_bytes(line.image)).decode()})
    assert as_json.json() == result


def test_read_blank_and_bad_input(client):
    blank = client.post("/v1/read", files={"file": ("blank.png", png_bytes(np.full((80, 400), 255, np.uint8)))})
    assert blank.status_code == 200
    assert blank.json() == {"text": "", "status": "blank", "message": blank.json()["message"], "characters": []}
    assert "blank" in blank.json()["message"]
    assert_error(client.post("/v1/read", files={"file": ("x.png", b"GIF89a nonsense")}), 422, "cannot read")
    assert_error(client.post("/v1/read", content=b"A", headers={"Content-Type": "text/plain"}), 415)
    assert_error(client.post("/v1/read", json={"image": "%%%"}), 422, "base64")


# ---------------------------------------------------------------- bad input: 413, 415, 422


@pytest.fixture(scope="module")
def small_limit_client(predictor):
    with TestClient(create_app(predictor, limits=ServeLimits(max_upload_bytes=10_000))) as test_client:
        yield test_client


def test_body_over_the_limit_is_413_by_declared_length(small_limit_client, az_letters):
    big = as_photo(az_letters[0][0], side=900)  # a real photo-sized letter, > 10 kB
    assert len(big) > 10_000
    response = small_limit_client.post("/v1/predict", files={"file": ("big.png", big, "image/png")})
    assert_error(response, 413, "upload limit")
    small = small_limit_client.post("/v1/predict", files={"file": ("a.png", as_photo(az_letters[0][0], 56))})
    assert small.status_code == 200


def test_body_over_the_limit_is_413_by_bytes_received(small_limit_client):
    def chunks():  # no Content-Length: chunked transfer, only the bytes that arrive can be counted
        for _ in range(20):
            yield b"x" * 1_000

    response = small_limit_client.post("/v1/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "upload limit")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"A"), ("image/png", b"\x89PNG"), ("application/x-www-form-urlencoded", b"file=abc"), (None, b"")],
)
def test_unsupported_content_type_is_415(client, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/predict", content=body, headers=headers)
    assert_error(response, 415, "multipart/form-data", "application/json")


def test_undecodable_images_are_422(client, az_letters):
    photo = as_photo(az_letters[0][0])
    for name, data in [("text.png", b"hello, not an image"), ("truncated.png", photo[: len(photo) // 2])]:
        response = client.post("/v1/predict", files={"file": (name, data, "image/png")})
        assert_error(response, 422, "cannot read the image")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"image": ', ["malformed JSON", "Invalid JSON"]),
        (b"[1, 2]", ["malformed JSON"]),
        (b'{"picture": "iVBORw0KGgo="}', ["malformed JSON", "image"]),
        (b'{"image": 12}', ["malformed JSON", "image"]),
        (b"", ["malformed JSON"]),
    ],
)
def test_malformed_json_is_422(client, body, words):
    response = client.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, *words)


@pytest.mark.parametrize(
    ("image", "words"),
    [
        ("not base64 at all!", ["not valid base64"]),
        ("iVBORw0KGgo", ["not valid base64"]),  # bad padding
        ("data:image/png,iVBORw0KGgo=", ["malformed data URL"]),  # no ;base64
        ("data:image/png;base64", ["malformed data URL"]),  # no comma, no data
        ("", ["empty"]),
        ("data:image/png;base64,", ["empty"]),
    ],
)
def test_bad_base64_is_422(client, image, words):
    assert_error(client.post("/v1/predict", json={"image": image}), 422, *words)


def test_empty_or_fileless_multipart_is_422(client):
    assert_error(client.post("/v1/predict", files={"file": ("empty.png", b"", "image/png")}), 422, "empty")
    assert_error(client.post("/v1/predict", data={"file": "just text"}, files={"x": ("a", b"1")}), 422, "field")
    broken = client.post("/v1/predict", content=b"--nope\r\n", headers={"Content-Type": "multipart/form-data"})
    assert broken.status_code == 422  # no boundary: a malformed multipart body
    assert_error(broken, 422, "multipart")


def test_decompression_bombs_are_refused_before_decoding(client):
    side = int(MAX_PIXELS**0.5) + 500  # just over hcr's pixel limit: a few kB of PNG, ~45 M pixels decoded
    bomb = png_bytes(Image.new("1", (side, side)))
    assert len(bomb) < 100_000
    assert_error(client.post("/v1/predict", files={"file": ("bomb.png", bomb)}), 422, "too large")
    assert_error(client.post("/v1/predict", files={"file": ("huge.png", _png_claiming(50_000, 50_000))}), 422, "bomb")


def _png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims width×height pixels: Pillow's own bomb check refuses it on open."""
    raw = png_bytes(np.zeros((1, 1), np.uint8))
    ihdr = raw[12:16] + struct.pack(">II", width, height) + raw[24:29]  # chunk type, then the patched fields
    return raw[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + raw[33:]


# ---------------------------------------------------------------- the page, the docs, CORS


def test_page_and_its_assets(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for needle in ('id="pad"', 'id="clear"', 'type="file"', 'for="upload"', 'aria-live="polite"', 'name="viewport"'):
        assert needle in html
    for asset, kind in (("/static/app.js", "javascript"), ("/static/app.css", "text/css")):
        assert asset in html
        response = client.get(asset)
        assert response.status_code == 200
        assert kind in response.headers["content-type"]


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/read", "/v1/health", "/v1/model"} <= set(spec["paths"])
    for path in ("/v1/predict", "/v1/read"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]
        assert set(body) == {"multipart/form-data", "application/json"}
    assert client.get("/docs").status_code == 200


def test_cors_is_off_by_default_and_configurable(client, predictor):
    origin = "https://forms.example"
    assert "access-control-allow-origin" not in client.get("/v1/health", headers={"Origin": origin}).headers
    with TestClient(create_app(predictor, cors_origins=[origin])) as cors_client:
        preflight = cors_client.options(
            "/v1/predict", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        other = cors_client.get("/v1/health", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
