"""Uploads are decoded and read in image processes, each with its own predictor, under a deadline per upload.

What this guarantees, for each server worker (the README's Serving section says the same):

- The event loop never decodes or predicts. It parses HTTP, hands the upload's bytes to an idle image process
  over a pipe, and waits for the answer without blocking, so /v1/health and other requests are answered meanwhile.
  Threads could not give this: C code that holds the GIL (Pillow's rank filters held it for 21 s on a 200×200 bar)
  stalls every thread of its process, the event loop included.
- One upload gets at most `image_timeout_s` of an image process. Past that, the request is answered 422 ("took
  longer than N s") and the process is killed (SIGKILL) and replaced, which frees its CPU and memory whatever code it
  was in. A thread cannot be killed: work over its budget would run on, holding a core.
- At most `image_processes` uploads are decoded at once, so decode memory is bounded: open_image refuses images
  whose decoded size would be over MAX_DECODED_BYTES, and each process holds one image at a time.
- An upload waits at most `image_timeout_s` for a free image process, then gets 503 (busy; retry later).
- Image processes die with their worker (serving.lifetime), and are stopped with it.

Not guaranteed: a replacement process needs about a second to start (it loads the model); until it is ready, fewer
uploads are processed at once. The hand-over costs ~0.1 ms each way; a letter takes ~1 ms to read.
"""

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from hcr.inference.predictor import Predictor
from hcr.serving.lifetime import die_with_parent
from hcr.serving.schemas import LetterResult, ReadResult
from hcr.serving.work import Task, UnusableImageError, perform

RESTART_DELAY_S = 1.0  # before starting again an image process that failed to start
STOP_WAIT_S = 2.0  # at shutdown, for each killed process to be reaped
STARTUP_TIMEOUT_S = 120.0  # for the image processes to load the model when the server starts
READY = "ready"

logger = logging.getLogger(__name__)


class OverBudgetError(Exception):
    """The upload took longer than its budget; its image process was killed."""


class BusyError(Exception):
    """No image process became free within the budget."""


@dataclass(frozen=True)
class _Child:
    process: BaseProcess
    conn: Connection  # the parent's end of a duplex pipe: tasks go out, outcomes come back


class ImagePool:
    """`size` image processes, each running `load()` once (a Predictor), then one Task at a time. Used from one event
    loop: start() and close() on it (the app's lifespan), run() from request handlers."""

    def __init__(self, load: Callable[[], Predictor], size: int, timeout_s: float) -> None:
        self.load = load
        self.size = size
        self.timeout_s = timeout_s
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the server in it
        self._idle: asyncio.Queue[_Child] = asyncio.Queue()
        self._children: set[_Child] = set()
        self._closed = False

    async def start(self) -> None:
        """Start the image processes and wait until each has loaded its model (the server listens only then, so a
        first request does not wait on start-up). One that fails to start is an error: the model loaded here."""
        loop = asyncio.get_running_loop()
        started = [loop.create_future() for _ in range(self.size)]
        for future in started:
            self._spawn(future)
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            await asyncio.gather(*started)

    def close(self) -> None:
        """Kill every image process (they hold no state worth keeping) and wait for them."""
        self._closed = True
        for child in list(self._children):
            self._retire(child, wait=True)

    async def run(self, task: Task) -> LetterResult | ReadResult:
        """The answer to `task` from an image process. Raises UnusableImageError (the client's image),
        OverBudgetError (over the budget) or BusyError (no process free in time)."""
        try:
            async with asyncio.timeout(self.timeout_s):
                child = await self._idle.get()
        except TimeoutError:
            raise BusyError from None
        try:
            async with asyncio.timeout(self.timeout_s):
                kind, value = await self._call(child, task)
        except TimeoutError:
            self._replace(child)
            raise OverBudgetError from None
        except (EOFError, OSError) as e:  # the process died (killed for memory, crashed)
            self._replace(child)
            raise UnusableImageError(
                f"the image could not be processed (its process stopped: {e or 'no answer'})"
            ) from None
        except BaseException:  # cancelled mid-task: the process may still be working on it, so it cannot be reused
            self._replace(child)
            raise
        self._idle.put_nowait(child)
        if kind != "ok":
            raise UnusableImageError(value)
        return value

    async def _call(self, child: _Child, task: Task) -> tuple[str, object]:
        """Send the task, wait without blocking the loop until the answer is there, and read it."""
        loop = asyncio.get_running_loop()
        child.conn.send(task)  # an idle process is reading its pipe: this waits at most for the upload's bytes
        answered = loop.create_future()
        fd = child.conn.fileno()
        loop.add_reader(fd, lambda: answered.done() or answered.set_result(None))
        try:
            await answered
        finally:
            loop.remove_reader(fd)
        return child.conn.recv()

    def _spawn(self, started: asyncio.Future | None = None) -> None:
        """Start an image process; it joins the idle ones when it says it is ready (it first loads the model), and
        `started` then gets a result (an exception if it failed)."""
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve_tasks, args=(self.load, child_end, os.getpid()), name="hcr-image", daemon=True
        )
        process.start()
        child_end.close()
        child = _Child(process, parent_end)
        self._children.add(child)
        asyncio.get_running_loop().add_reader(parent_end.fileno(), self._on_ready, child, started)

    def _on_ready(self, child: _Child, started: asyncio.Future | None) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(child.conn.fileno())
        try:
            child.conn.recv()
        except (EOFError, OSError):
            self._retire(child)
            if started is not None:
                started.set_exception(RuntimeError(f"an image process failed to start ({child.process.exitcode})"))
            elif not self._closed:
                logger.error("an image process failed to start (exit code %s); retrying", child.process.exitcode)
                loop.call_later(RESTART_DELAY_S, self._spawn)
            return
        self._idle.put_nowait(child)
        if started is not None:
            started.set_result(None)

    def _replace(self, child: _Child) -> None:
        self._retire(child)
        if not self._closed:
            self._spawn()

    def _retire(self, child: _Child, wait: bool = False) -> None:
        """Kill the process; reap it now (`wait`, at shutdown) or once it has exited, without blocking the loop."""
        self._children.discard(child)
        loop = asyncio.get_running_loop()
        loop.remove_reader(child.conn.fileno())
        child.conn.close()
        child.process.kill()
        if wait:
            child.process.join(STOP_WAIT_S)
        else:
            loop.add_reader(child.process.sentinel, self._reap, child.process)

    @staticmethod
    def _reap(process: BaseProcess) -> None:
        asyncio.get_running_loop().remove_reader(process.sentinel)
        process.join()  # it has exited: this returns at once


def _serve_tasks(load: Callable[[], Predictor], conn: Connection, parent_pid: int) -> None:
    """An image process: load the predictor, say so, then answer tasks until the pipe closes. It dies with its
    parent, and ignores Ctrl-C (the terminal sends it to the whole process group; the parent stops it)."""
    die_with_parent(parent_pid, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    predictor = load()
    conn.send(READY)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        conn.send(_outcome(predictor, task))


def _outcome(predictor: Predictor, task: Task) -> tuple[str, object]:
    """("ok", result) or ("unusable", one line): any failure on an upload is answered as that upload's problem."""
    try:
        return "ok", perform(predictor, task)
    except UnusableImageError as e:
        return "unusable", str(e)
    except Exception as e:
        logger.exception("processing an upload failed")
        return "unusable", f"the image could not be processed ({type(e).__name__}: {e})"
