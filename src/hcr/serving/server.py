"""Run the app with uvicorn, in this process or in several worker processes, each with its own listening socket.

hcr binds the port itself, so a port already in use is a clear one-line error (exit 2) rather than uvicorn's log
line and exit 3, and `--port 0` can report the port the system picked. More than one worker lets a busy server use
more than one core: a worker is one Python process, and the GIL keeps its request handling on about one core.

Workers do not share one listening socket (uvicorn's `--workers`): whichever worker wakes first then accepts every
connection waiting, and a burst of clients lands on one worker while the other idles (measured: all 32 clients of
the load benchmark on one of two workers in 2 runs of 3, doubling the latency). Each worker listens on the port
with SO_REUSEPORT instead, and the kernel spreads new connections over them; this process holds the port, bound
but not listening, and watches over the workers.

Two consequences are guarded against. SO_REUSEPORT lets a second server bind a port whose listeners also set it, and
the kernel would then share the connections between the two: before binding, hcr connects to the port, and
refuses to start if anything answers (a bind alone cannot tell). And workers die with their supervisor
(serving.lifetime), so a supervisor killed with SIGKILL leaves no worker listening behind it. (Two servers started
at the same instant on one port can both pass the check: the window is the time between the check and the bind.)

Each connection is served by serving.protocol's bounded HTTP protocol: header and body timeouts, a connection cap,
and a lingering close after an early 413.
"""

import gc
import logging
import multiprocessing
import os
import resource
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from hcr.errors import HcrError
from hcr.serving.app import load_app
from hcr.serving.lifetime import die_with_parent
from hcr.serving.protocol import protocol_class
from hcr.serving.settings import ServeLimits

UVICORN_OPTIONS = {"log_level": "warning", "access_log": False}  # errors are logged, requests are not one by one
BACKLOG = 2048
STOP_TIMEOUT_S = 10.0
SPARE_FILES = 64  # file descriptors beyond the connection cap: the model, pipes to image processes, logs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Worker:
    process: multiprocessing.Process
    came_up: Connection  # holds a message once the worker listens


def open_port(host: str, port: int, workers: int = 1) -> socket.socket:
    """The port to serve on: a listening socket for one worker; for several, the port held (bound, not listening)
    so each worker can listen on it too. A port something already listens on is refused, even one shared with
    SO_REUSEPORT."""
    _refuse_if_listened_on(host, port)
    sock = _bind(host, port, reuse_port=workers > 1)
    if workers == 1:
        sock.listen(BACKLOG)
    return sock


def run(app: FastAPI, sock: socket.socket, workers: int = 1) -> None:
    """Serve `app` (from `load_app`) on `sock` until interrupted (Ctrl-C, SIGTERM). With workers > 1, that many
    processes each build the same app again with its own predictor and serve it; this process only supervises."""
    if workers == 1:
        _serve(app, sock)
        return
    host, port = sock.getsockname()[:2]
    _supervise(host, port, app.state.load_args, workers)


def _serve(app: FastAPI, sock: socket.socket) -> None:
    """Serve on the listening `sock` in this process, each connection bounded by the app's ServeLimits."""
    limits: ServeLimits = app.state.limits
    _allow_open_files(limits.max_connections + SPARE_FILES)
    _freeze_startup_objects()
    config = uvicorn.Config(
        app, http=protocol_class(limits), timeout_graceful_shutdown=round(STOP_TIMEOUT_S), **UVICORN_OPTIONS
    )
    uvicorn.Server(config).run(sockets=[sock])


def _supervise(host: str, port: int, load_args: dict, workers: int) -> None:
    """Start the workers, replace one that dies once it was serving, and stop them all on SIGINT or SIGTERM. A worker
    that dies before it serves (a model that fails to load) stops the server: another would die the same way."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this process's state is shared

    def start() -> Worker:
        came_up, tell_parent = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker, args=(host, port, load_args, tell_parent, os.getpid()), name="hcr-serve-worker"
        )
        process.start()
        tell_parent.close()  # the child's end: the parent keeps only its own
        return Worker(process, came_up)

    running = [start() for _ in range(workers)]
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        while True:
            wait([worker.process.sentinel for worker in running])
            for i, worker in enumerate(running):
                if worker.process.is_alive():
                    continue
                if not worker.came_up.poll():
                    raise HcrError(f"a server worker stopped while starting (exit code {worker.process.exitcode})")
                logger.warning(
                    "worker %d stopped (exit code %s); starting another", worker.process.pid, worker.process.exitcode
                )
                running[i] = start()
    except KeyboardInterrupt:
        pass
    finally:
        _stop([worker.process for worker in running])


def _stop(processes: list[multiprocessing.Process]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn finishes the requests under way, then exits
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _worker(host: str, port: int, load_args: dict, tell_parent: Connection, parent_pid: int) -> None:
    """One worker process: the app built as its parent's was, then served on its own socket on the shared port.
    It gets SIGTERM when its supervisor dies (stops listening, finishes the requests under way, exits)."""
    die_with_parent(parent_pid, signal.SIGTERM)
    args = dict(load_args)
    app = load_app(Path(args.pop("model_path")), **args)
    sock = _bind(host, port, reuse_port=True)  # listening only once the model is loaded: no connection waits on it
    sock.listen(BACKLOG)
    tell_parent.send(True)
    tell_parent.close()
    _serve(app, sock)


def _refuse_if_listened_on(host: str, port: int) -> None:
    """A one-line error if a server answers on host:port (a wildcard host is tried on the loopback address)."""
    if port == 0:
        return
    target = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    try:
        with socket.create_connection((target, port), timeout=1.0):
            pass
    except OSError:  # refused (nothing listens), unreachable, or no answer: the bind decides
        return
    raise HcrError(f"cannot listen on {host}:{port}: Address already in use (a server is already listening there)")


def _allow_open_files(n: int) -> None:
    """Raise this process's open-file limit to `n` if it is lower and the hard limit allows: every connection is a
    file descriptor, and at the limit the server could accept no one (not even to close an idle connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n if hard == resource.RLIM_INFINITY else min(n, hard), hard))


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to host:port (an IPv6 address if the host has a colon)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait out TIME_WAIT
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise HcrError(f"cannot listen on {host}:{port}: {os.strerror(e.errno) if e.errno else e}") from None
    return sock


def _freeze_startup_objects() -> None:
    """Moves everything loaded so far (FastAPI, pydantic, ONNX Runtime, the model) out of the garbage collector's
    sight: they live as long as the server, and a full collection would otherwise walk them all again, a pause
    of several milliseconds that lands on whichever requests are waiting (the latency tail)."""
    gc.collect()
    gc.freeze()
