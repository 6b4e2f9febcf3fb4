"""`hcr serve` against clients that misbehave at the connection level, on a real server on 127.0.0.1 (the shipped
model): oversize uploads without `Expect: 100-continue`, slow partial requests, more connections than the cap, and a
supervisor killed with SIGKILL. Every wait is bounded by a deadline."""

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest

from tests.serving.conftest import alive, listening_sockets, running_server, server_pid, worker_pids

UPLOAD_LIMIT_MB = 0.05  # 50 kB: a 1 MB body is far over it


def _post_oversize(port: int, size: int = 1_000_000, chunked: bool = False) -> tuple[int, dict]:
    """A POST of `size` bytes the way Python's http.client sends it (the whole body, no Expect: 100-continue, then
    the response is read): (status, JSON body). Raises ConnectionResetError/BrokenPipeError if the server resets."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = b"{" + b" " * (size - 2) + b"}"
        headers = {"Content-Type": "application/json"}
        if chunked:
            connection.request("POST", "/v1/predict", body=iter([body]), headers=headers, encode_chunked=True)
        else:
            connection.request("POST", "/v1/predict", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.slow
def test_an_oversize_upload_gets_413_not_a_reset():
    """http.client sends the whole body before it reads the answer: a server that answers early and closes with the
    body still unread resets the connection, and the client never sees the 413."""
    with running_server("--max-upload-mb", str(UPLOAD_LIMIT_MB)) as url:
        port = int(url.rsplit(":", 1)[1])
        for chunked in (False, True):  # refused on the declared length, and on the bytes received
            for _ in range(5):
                status, body = _post_oversize(port, chunked=chunked)
                assert status == 413
                assert "upload limit" in body["detail"]
        with ThreadPoolExecutor(8) as pool:  # under load: 8 clients at once, 40 uploads
            answers = list(pool.map(lambda _: _post_oversize(port)[0], range(40)))
        assert answers == [413] * 40
        assert httpx.get(f"{url}/v1/health", timeout=5).status_code == 200


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes `sock` (EOF or reset, after whatever it sends first) within `seconds`."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            return False
        try:
            if not sock.recv(65536):
                return True
        except ConnectionResetError:
            return True
    return False


def _health_ms(url: str) -> float:
    start = time.perf_counter()
    assert httpx.get(f"{url}/v1/health", timeout=5).status_code == 200
    return (time.perf_counter() - start) * 1000


def _slow_client(port: int, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if sent:
        sock.sendall(sent)
    return sock


PARTIAL_HEADERS = b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.mark.slow
def test_slow_partial_requests_are_closed_after_the_header_timeout():
    """Connections that send nothing, or headers that never end, are closed once the header timeout passes; the
    server answers others meanwhile."""
    with running_server("--header-timeout", "1", "--body-timeout", "2") as url:
        port = int(url.rsplit(":", 1)[1])
        clients = [_slow_client(port, PARTIAL_HEADERS if i % 2 else b"") for i in range(40)]
        try:
            assert _health_ms(url) < 1000
            started = time.monotonic()
            assert all(_closed_within(sock, 6 - (time.monotonic() - started)) for sock in clients)
            assert time.monotonic() - started > 0.5  # not closed at once: they had their second
        finally:
            for sock in clients:
                sock.close()


@pytest.mark.slow
def test_a_body_trickled_in_slower_than_the_body_timeout_is_cut_off():
    with running_server("--header-timeout", "1", "--body-timeout", "2") as url:
        port = int(url.rsplit(":", 1)[1])
        sock = _slow_client(port, PARTIAL_HEADERS + b"Content-Length: 100000\r\n\r\n{")
        started = time.monotonic()
        try:
            closed = False
            while not closed and time.monotonic() - started < 8:  # a byte every 0.1 s: it would take hours
                try:
                    sock.sendall(b" ")
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                closed = closed or _closed_within(sock, 0.1)
            assert closed, "the trickled body was still being read after 8 s"
            assert 1.5 < time.monotonic() - started < 6
        finally:
            sock.close()


@pytest.mark.slow
def test_the_connection_cap_keeps_the_server_answering():
    """More slow connections than the cap: the oldest ones without a complete request make room for new clients,
    so a health check still gets through, and the server holds no more than the cap."""
    with running_server("--max-connections", "16", "--header-timeout", "30") as url:
        port = int(url.rsplit(":", 1)[1])
        clients = [_slow_client(port, PARTIAL_HEADERS) for _ in range(40)]
        try:
            time.sleep(0.5)  # the server has accepted them all
            for _ in range(5):
                assert _health_ms(url) < 2000
            evicted = sum(_closed_within(sock, 0.5) for sock in clients)
            assert evicted >= 40 - 16
            assert not _closed_within(clients[-1], 0.1)  # the newest are kept
        finally:
            for sock in clients:
                sock.close()


@pytest.mark.slow
def test_workers_die_with_their_supervisor():
    """`kill -9` of a `--workers 2` server: its workers exit too and nothing listens on the port any more."""
    with running_server("--workers", "2") as url:
        supervisor = server_pid(url)
        deadline = time.monotonic() + 60
        while listening_sockets(url) < 2:
            assert time.monotonic() < deadline, "the second worker never listened"
            time.sleep(0.05)
        workers = worker_pids(supervisor)
        assert len(workers) == 2
        os.kill(supervisor, signal.SIGKILL)
        deadline = time.monotonic() + 15
        try:
            while any(alive(pid) for pid in workers) or listening_sockets(url):
                assert time.monotonic() < deadline, "the workers outlived their supervisor"
                time.sleep(0.1)
        finally:  # whatever the outcome, no worker of this test is left running
            for pid in filter(alive, workers):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_port_another_server_listens_on_is_refused():
    """A socket listening with SO_REUSEPORT (as each worker of an older `hcr serve --workers N` does) lets a new one
    bind the same port: the kernel would then share connections between old and new. The new server refuses."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        command = [sys.executable, "-m", "hcr", "serve", "--workers", "2", "--port", str(port)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("hcr serve started on a port another server listens on")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "already" in result.stderr
