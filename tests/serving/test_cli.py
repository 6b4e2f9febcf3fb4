"""`hcr serve` as a command: clear one-line errors for a missing model, and a server process without TensorFlow."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx2 as httpx
import numpy as np
import pytest

from hcr.labels import CLASSES
from tests.realdata import REPO_ROOT
from tests.serving.conftest import as_photo, listening_sockets, running_server, server_pid, worker_pids


def run_hcr(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=120, **kwargs)


def test_missing_model_is_a_one_line_error(tmp_path):
    result = run_hcr("serve", "--model", str(tmp_path / "nowhere" / "model.onnx"))
    assert result.returncode == 2
    assert "model not found" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_model_without_its_metadata_is_refused(onnx_model_dir, tmp_path):
    (tmp_path / "model.onnx").write_bytes((onnx_model_dir / "model.onnx").read_bytes())
    result = run_hcr("serve", "--model", str(tmp_path))
    assert result.returncode == 2
    assert "model.json" in result.stderr


def test_a_port_in_use_is_a_one_line_error(onnx_model_dir):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_hcr("serve", "--model", str(onnx_model_dir), "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"error: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_serving_process_never_loads_tensorflow(onnx_model_dir, az_letters, tmp_path):
    """The app `hcr serve` runs, built and answering a real request, in a fresh interpreter."""
    letter_path = tmp_path / "letter.npy"
    np.save(letter_path, az_letters[0][0])
    code = f"""
import sys
from pathlib import Path
import httpx2 as httpx
import numpy as np
from fastapi.testclient import TestClient
from hcr.serving.app import load_app
from tests.serving.conftest import as_photo

with TestClient(load_app(Path({str(onnx_model_dir)!r}))) as client:
    response = client.post("/v1/predict", files={{"file": ("a.png", as_photo(np.load({str(letter_path)!r})))}})
    assert response.status_code == 200, response.text
print(",".join(m for m in ("tensorflow", "keras", "tf2onnx") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.slow
def test_several_workers_serve_and_stop(onnx_model_dir, az_letters):
    with running_server("--model", str(onnx_model_dir), "--workers", "2") as url:
        photos = [as_photo(letter) for letter in az_letters[0][:8]]
        answers = [httpx.post(f"{url}/v1/predict", files={"file": ("a.png", photo)}) for photo in photos]
        assert all(a.status_code == 200 for a in answers)
        assert all(a.json()["letter"] in CLASSES for a in answers)


@pytest.mark.slow
def test_a_worker_that_dies_is_replaced(onnx_model_dir, az_letters):
    """Each worker listens on the port itself: one killed, the other still answers, and a new one takes its place."""
    with running_server("--model", str(onnx_model_dir), "--workers", "2") as url:
        supervisor = server_pid(url)
        workers = worker_pids(supervisor)
        assert len(workers) == 2
        deadline = time.monotonic() + 30
        while listening_sockets(url) < 2:  # the server answers once one worker listens; the other may be loading
            assert time.monotonic() < deadline, "the second worker never listened"
            time.sleep(0.05)
        os.kill(workers[0], signal.SIGKILL)
        while workers[0] in worker_pids(supervisor):  # gone (a zombie has no command line): its socket is closed
            assert time.monotonic() < deadline, "the killed worker did not exit"
            time.sleep(0.05)
        photo = as_photo(az_letters[0][0])
        for _ in range(20):  # fresh connections, spread over whichever workers listen
            assert httpx.post(f"{url}/v1/predict", files={"file": ("a.png", photo)}).status_code == 200
        while len(worker_pids(supervisor)) < 2:
            assert time.monotonic() < deadline, "no worker took the killed one's place"
            time.sleep(0.2)


@pytest.mark.parametrize(
    "option", ["--image-timeout", "--header-timeout", "--body-timeout", "--max-upload-mb"], ids=str.lstrip
)
@pytest.mark.parametrize("value", ["nan", "inf", "1e308"])
def test_a_limit_that_is_no_finite_number_is_refused_at_start(option, value):
    """NaN passed the options' minimum check and broke the running server (every connection dropped, or a 500 on
    the first large upload); inf and 1e308 megabytes crashed it while starting (a new user's report)."""
    result = run_hcr("serve", option, value, "--port", "0")
    assert result.returncode == 2, result.stderr
    assert option in result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("origin", ["not a url", "https://forms.example.org/", "forms.example.org"])
def test_a_cors_origin_no_browser_would_send_is_refused(origin):
    result = run_hcr("serve", "--cors-origin", origin, "--port", "0")
    assert result.returncode == 2, result.stderr
    assert "not an origin" in result.stderr
