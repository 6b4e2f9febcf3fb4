"""The per-request budget: a worst-case upload never stalls the server. Real server processes on 127.0.0.1 (see
slow_server.py) whose predictor holds the GIL for seconds on 200 px images, as the real preprocessing once did."""

import http.client
import io
import os
import signal
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import numpy as np
import pytest
from bench.serve_load import rss_mb
from PIL import Image

from hcr.labels import CLASSES
from tests.serving.conftest import alive, as_photo, running_server, server_pid, worker_pids
from tests.serving.slow_server import SLOW_S, SLOW_SIDE

SLOW_SERVER = ("tests.serving.slow_server",)


def _post(url: str, image: bytes) -> httpx.Response:
    return httpx.post(f"{url}/v1/predict", files={"file": ("a.png", image)}, timeout=60)


def _health_ms(url: str) -> float:
    """One GET /v1/health on a new connection, in ms, through http.client (httpx spends tens of ms of its own
    setting up each client, which is not the server's latency)."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection(*url.removeprefix("http://").split(":"), timeout=30)
    try:
        connection.request("GET", "/v1/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    return (time.perf_counter() - start) * 1000


@pytest.mark.slow
def test_health_answers_within_100_ms_while_a_worst_case_upload_is_processed(az_letters):
    with running_server(program=SLOW_SERVER) as url, ThreadPoolExecutor(1) as pool:
        _post(url, as_photo(az_letters[0][0]))  # warm: the first request may pay for start-up work
        upload = pool.submit(_post, url, as_photo(az_letters[0][0], side=SLOW_SIDE))
        time.sleep(0.5)  # the upload is being processed
        latencies = []
        while not upload.done() and len(latencies) < 15:
            latencies.append(_health_ms(url))
            time.sleep(0.1)
        assert upload.result().status_code == 200  # within the budget: answered
        assert len(latencies) >= 5, f"the upload took {SLOW_S} s, yet only {len(latencies)} health checks ran"
        assert statistics.median(latencies) <= 100, latencies
        assert max(latencies) <= 250, latencies  # the requirement is 100 ms; the margin is for a shared machine


@pytest.mark.slow
def test_an_upload_over_the_budget_gets_422_and_the_server_recovers(az_letters):
    """Two slow uploads at once (one per image process): both are cut off at the 1 s budget with a 422, their
    processes are replaced, and the server reads letters again once the replacements have loaded the model."""
    limits = ("--image-timeout", "1", "--image-processes", "2")
    with running_server(*limits, program=SLOW_SERVER) as url, ThreadPoolExecutor(2) as pool:
        assert _post(url, as_photo(az_letters[0][0])).status_code == 200  # both image processes are up
        started = time.monotonic()
        slow = [pool.submit(_post, url, as_photo(az_letters[0][i], side=SLOW_SIDE)) for i in range(2)]
        for response in (future.result() for future in slow):
            assert response.status_code == 422
            assert "longer than 1 s" in response.json()["detail"]
        assert time.monotonic() - started < SLOW_S  # cut off at the budget, not left to finish
        assert _health_ms(url) < 1000
        deadline = time.monotonic() + 30
        answer = _post(url, as_photo(az_letters[0][1]))
        while answer.status_code == 503 and time.monotonic() < deadline:  # "busy": the replacements are loading
            answer = _post(url, as_photo(az_letters[0][1]))
        assert answer.status_code == 200, answer.text
        assert answer.json()["letter"] in CLASSES


def _large_upload(side: int = 4000) -> bytes:
    """A letter-like bar on white, side×side RGBA: 64 MB once decoded (Pillow keeps 4 bytes a pixel), 100 kB of PNG."""
    pixels = np.full((side, side, 4), 255, np.uint8)
    pixels[side // 5 : -side // 5, side // 2 - side // 40 : side // 2 + side // 40, :3] = 0
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@pytest.mark.slow
def test_concurrent_large_uploads_are_decoded_a_few_at_a_time():
    """Eight 64 MB-decoded uploads at once: every one is answered, and the server's memory (all its processes) grows
    by what at most two decodes take (one per image process, one by default; ~1.8× the decoded size each,
    measured), not eight."""
    upload = _large_upload()
    with running_server() as url, ThreadPoolExecutor(8) as pool:
        pid = server_pid(url)
        base = rss_mb(pid)
        peak = base
        answers = [pool.submit(_post, url, upload) for _ in range(8)]
        while not all(answer.done() for answer in answers):
            peak = max(peak, rss_mb(pid))
            time.sleep(0.02)
        assert [answer.result().status_code for answer in answers] == [200] * 8
    assert peak - base < 2 * 3 * 64, f"RSS {base} MB → {peak} MB"


@pytest.mark.slow
def test_image_processes_die_with_their_worker(az_letters):
    """`kill -9` of the server while an image process is busy (with 4 s of work it would finish, and only then see
    its parent gone): the image processes die at once too."""
    with running_server("--image-processes", "2", program=SLOW_SERVER) as url, ThreadPoolExecutor(1) as pool:
        server = server_pid(url)
        image_processes = worker_pids(server)
        assert len(image_processes) == 2
        pool.submit(_post, url, as_photo(az_letters[0][0], side=SLOW_SIDE))
        time.sleep(0.5)  # one image process is busy with it
        os.kill(server, signal.SIGKILL)
        deadline = time.monotonic() + SLOW_S / 2
        try:
            while any(map(alive, image_processes)):
                assert time.monotonic() < deadline, "an image process outlived its worker"
                time.sleep(0.05)
        finally:
            for pid in filter(alive, image_processes):
                os.kill(pid, signal.SIGKILL)
