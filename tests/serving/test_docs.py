"""/docs works without internet: the page names only the app's own URLs for Swagger UI, and the app serves them.
(tests/serving/test_browser.py renders it in Chromium with every other host blocked.)"""

import re

import pytest
from fastapi.testclient import TestClient

from hcr.inference.predictor import Predictor
from hcr.serving.app import create_app


@pytest.fixture(scope="module")
def shipped_client() -> TestClient:
    """The app around the model shipped with hcr (no training needed for a page that does not predict)."""
    with TestClient(create_app(Predictor())) as client:
        yield client


def test_docs_load_swagger_ui_from_the_app_itself(shipped_client):
    response = shipped_client.get("/docs")
    assert response.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', response.text) + re.findall(r"url: '([^']+)'", response.text)
    assert len(urls) >= 4  # the script, the stylesheet, the icon and the schema
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls  # nothing from another host
    assert "cdn" not in response.text.lower()
    sizes = {}
    for url in urls:
        asset = shipped_client.get(url)
        assert asset.status_code == 200, url
        sizes[url.rsplit(".", 1)[-1]] = len(asset.content)
    assert sizes["js"] > 1_000_000  # the whole Swagger UI bundle, not a stub
    assert sizes["css"] > 100_000
    assert "/v1/predict" in shipped_client.get("/openapi.json").json()["paths"]
