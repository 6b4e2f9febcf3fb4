"""The HTTP API with a model that has the not-a-letter class: a dash is answered as not a letter, with its reason,
in /v1/predict and in each character of /v1/read (a ? in the text); the schema at /docs says so."""

import pytest
from fastapi.testclient import TestClient

from hcr.inference.predictor import Predictor
from hcr.labels import NOT_A_LETTER
from hcr.serving.app import create_app
from tests.onnx_models import bar, bar_model, bars_line
from tests.serving.conftest import png_bytes


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    predictor = Predictor(bar_model(tmp_path_factory.mktemp("bars") / "model"))
    with TestClient(create_app(predictor)) as test_client:
        yield test_client


def test_predict_answers_not_a_letter_with_the_reason(client):
    response = client.post("/v1/predict", files={"file": ("dash.png", png_bytes(bar(vertical=False)))})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["letter"], result["status"]) == (None, NOT_A_LETTER)
    assert "not one letter" in result["message"]
    assert NOT_A_LETTER not in [c["letter"] for c in result["top_k"]]
    letter = client.post("/v1/predict", files={"file": ("i.png", png_bytes(bar(vertical=True)))}).json()
    assert letter["letter"] == "I"


def test_top_k_is_bounded_by_the_letters(client):
    assert client.post("/v1/predict?top_k=26", files={"file": ("i.png", png_bytes(bar(True)))}).status_code == 200
    assert client.post("/v1/predict?top_k=27", files={"file": ("i.png", png_bytes(bar(True)))}).status_code == 422


def test_read_marks_the_character_that_is_not_a_letter(client):
    response = client.post("/v1/read", files={"file": ("line.png", png_bytes(bars_line("|-|")))})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["text"] == "I?I"
    assert result["status"] == "low-confidence"
    unread = result["characters"][1]
    assert (unread["letter"], unread["status"]) == (None, NOT_A_LETTER)
    assert "not one letter" in unread["message"]


def test_the_schema_lists_the_status(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert NOT_A_LETTER in schemas["LetterResult"]["properties"]["status"]["enum"]
    character = schemas["CharacterResult"]["properties"]
    assert NOT_A_LETTER in character["status"]["enum"]
    assert "message" in character
