"""Fixtures for the server tests: real letters as image files, and the app around the tiny real model."""

import base64
import contextlib
import io
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hcr.data import load_datasets
from hcr.inference.predictor import Predictor
from hcr.serving.app import create_app
from tests.realdata import AZ_CSV


def png_bytes(image: Image.Image | np.ndarray) -> bytes:
    buffer = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_data_url(url: str) -> np.ndarray:
    """uint8 [H, W] grey pixels of a PNG data URL (the API's model_input, or a canvas's own 28×28)."""
    header, _, data = url.partition(",")
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"))


def as_photo(letter: np.ndarray, side: int = 160) -> bytes:
    """A real 28×28 letter as people send one: dark ink on white paper, upscaled, as a PNG file."""
    return png_bytes(Image.fromarray(255 - letter).resize((side, side), Image.Resampling.BICUBIC))


@contextlib.contextmanager
def running_server(*options: str, program: tuple[str, ...] = ("hcr", "serve"), startup_s: float = 60) -> Iterator[str]:
    """`python -m hcr serve --port PORT OPTIONS` (or another `program`) in a subprocess on a free 127.0.0.1 port, up
    and answering; its URL. Stopped after."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", *program, "--port", str(port), *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_s
    try:
        while not _is_up(url):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"`{' '.join(command)}` did not come up: {process.communicate()[0]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _is_up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="session")
def az_letters(tmp_path_factory) -> tuple[np.ndarray, np.ndarray]:
    """Two real Kaggle A–Z capitals of each letter: uint8 [52, 28, 28] and labels [52]."""
    with pytest.MonkeyPatch.context() as patch:  # session-scoped: the per-test parse cache is not set up yet
        patch.setenv("HCR_CACHE_DIR", str(tmp_path_factory.mktemp("parse-cache")))
        data = load_datasets([f"az:{AZ_CSV}"])
    picks = np.concatenate([np.flatnonzero(data.y == label)[:2] for label in range(26)])
    return data.x[picks], data.y[picks]


@pytest.fixture(scope="session")
def predictor(onnx_model_dir) -> Predictor:
    return Predictor(onnx_model_dir / "model.onnx")


@pytest.fixture(scope="session")
def client(predictor) -> TestClient:
    """The app as `hcr serve` builds it (default limits, CORS off), around the tiny model."""
    with TestClient(create_app(predictor, card="# A tiny test model\n")) as test_client:
        yield test_client


def server_pid(url: str) -> int:
    """The server process started by running_server for `url` (the supervisor, with several workers): the one whose
    command line says `--port PORT`."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--port" in argv[:-1] and argv[argv.index(b"--port") + 1] == port.encode():
                return int(proc.name)
    raise AssertionError(f"no hcr serve process for {url}")


def listening_sockets(url: str) -> int:
    """How many sockets listen on the port of `url` (each worker has its own; the supervisor's is only bound)."""
    port = int(url.rsplit(":", 1)[1])
    listening = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if int(local.split(":")[1], 16) == port and state == "0A":  # 0A: TCP_LISTEN
            listening += 1
    return listening


def worker_pids(pid: int) -> list[int]:
    """The worker processes of the server `pid` (multiprocessing's spawned children, not its resource tracker)."""
    workers = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(int(child))
        except OSError:  # it has just exited
            continue
    return workers


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
