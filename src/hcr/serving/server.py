"""Run the app with uvicorn, in this process or in several worker processes sharing one listening socket.

hcr binds the socket itself, so a port already in use is a clear one-line error (exit 2) rather than uvicorn's log
line and exit 3, and `--port 0` can report the port the system picked. More than one worker lets a busy server use
more than one core: a worker is one Python process, and the GIL keeps its request handling on about one core.
"""

import json
import os
import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from hcr.errors import HcrError
from hcr.serving.app import load_app

WORKER_ARGS_ENV = "HCR_SERVE_WORKER_ARGS"  # how spawned workers learn what to serve: load_app's arguments, as JSON
UVICORN_OPTIONS = {"log_level": "warning", "access_log": False}  # errors are logged, requests are not one by one


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (an IPv6 address if the host has a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as e:
        raise HcrError(f"cannot listen on {host}:{port}: {os.strerror(e.errno) if e.errno else e}") from None


def run(app: FastAPI, sock: socket.socket, workers: int = 1) -> None:
    """Serve `app` (from `load_app`) on `sock` until interrupted (Ctrl-C, SIGTERM).

    With workers > 1, uvicorn's supervisor spawns that many processes, each building the same app again with its
    own predictor (`worker_app`); this process only watches over them."""
    if workers == 1:
        uvicorn.Server(uvicorn.Config(app, **UVICORN_OPTIONS)).run(sockets=[sock])
        return
    os.environ[WORKER_ARGS_ENV] = json.dumps(app.state.load_args)
    config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=workers, **UVICORN_OPTIONS)
    Multiprocess(config, sockets=[sock]).run()


def worker_app() -> FastAPI:
    """The app of one worker process, built as its parent's was."""
    args = json.loads(os.environ[WORKER_ARGS_ENV])
    return load_app(Path(args.pop("model_path")), **args)
