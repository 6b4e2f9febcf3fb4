"""Uploads are decoded and read in image processes, each with its own predictor, under a deadline per upload.

What this guarantees, for each server worker (docs/serving.md says the same):

- The event loop never decodes or predicts. It parses HTTP, hands the upload's bytes to an idle image process
  over a socket pair (asyncio streams: neither sending nor waiting blocks), so /v1/health and other requests are
  answered meanwhile.
  Threads could not give this: C code that holds the GIL (Pillow's rank filters held it for 21 s on a 200×200 bar)
  stalls every thread of its process, the event loop included.
- One upload gets at most `image_timeout_s` of an image process. Past that, the request is answered 422 ("took
  longer than N s") and the process is killed (SIGKILL) and replaced, which frees its CPU and memory whatever code it
  was in. A thread cannot be killed: work over its budget would run on, holding a core.
- At most `image_processes` uploads are decoded at once, so decode memory is bounded: open_image refuses images
  whose decoded size would be over MAX_DECODED_BYTES, and each process holds one image at a time.
- An upload waits at most `queue_timeout_s` for a free image process, then gets 503 (busy; retry later).
- Image processes run at a lower CPU priority (nice +10) than the server: when the cores are busy decoding, the
  event loop is still scheduled first, and answers in milliseconds.
- Image processes die with their worker (serving.lifetime), and are stopped with it.

Not guaranteed: a replacement process needs about a second to start (it loads the model); until it is ready, fewer
uploads are processed at once. The hand-over costs ~0.1 ms each way; a letter takes ~1 ms to read.
"""

import asyncio
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, BinaryIO

from hcr.inference.predictor import Predictor
from hcr.serving.lifetime import die_with_parent
from hcr.serving.schemas import LetterResult, ReadResult
from hcr.serving.work import Task, UnusableImageError, perform

RESTART_DELAY_S = 1.0  # before starting again an image process that failed to start
STOP_WAIT_S = 2.0  # at shutdown, for each killed process to be reaped
STARTUP_TIMEOUT_S = 120.0  # for the image processes to load the model when the server starts
NICENESS = 10  # added to the image processes' nice value: the server's event loop gets the CPU first
READY = "ready"
FRAME_HEADER = struct.Struct("!Q")  # each message: its length, then the pickled object

logger = logging.getLogger(__name__)


class OverBudgetError(Exception):
    """The upload took longer than its budget; its image process was killed."""


class BusyError(Exception):
    """No image process became free within the budget."""


@dataclass(frozen=True, eq=False)
class _Child:
    process: BaseProcess
    reader: asyncio.StreamReader  # outcomes come back on a socket pair's parent end, tasks go out on it
    writer: asyncio.StreamWriter


class ImagePool:
    """`size` image processes, each running `load()` once (a Predictor), then one Task at a time. Used from one event
    loop: start() and close() on it (the app's lifespan), run() from request handlers."""

    def __init__(self, load: Callable[[], Predictor], size: int, timeout_s: float, queue_timeout_s: float) -> None:
        self.load = load
        self.size = size
        self.timeout_s = timeout_s
        self.queue_timeout_s = queue_timeout_s
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the server in it
        self._idle: asyncio.Queue[_Child] = asyncio.Queue()
        self._children: set[_Child] = set()
        self._starting: set[asyncio.Task] = set()  # held here: the loop keeps only weak references to tasks
        self._closed = False

    async def start(self) -> None:
        """Start the image processes and wait until each has loaded its model (the server listens only then, so a
        first request does not wait on start-up). One that fails to start is an error: the model loaded here."""
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            await asyncio.gather(*(self._bring_up(retry=False) for _ in range(self.size)))

    def close(self) -> None:
        """Kill every image process (they hold no state worth keeping) and wait for them."""
        self._closed = True
        for task in self._starting:
            task.cancel()
        for child in list(self._children):
            self._retire(child, wait=True)

    async def run(self, task: Task) -> LetterResult | ReadResult:
        """The answer to `task` from an image process. Raises UnusableImageError (the client's image),
        OverBudgetError (over the budget) or BusyError (no process free in time)."""
        try:
            async with asyncio.timeout(self.queue_timeout_s):
                child = await self._idle.get()
        except TimeoutError:
            raise BusyError from None
        try:
            async with asyncio.timeout(self.timeout_s):
                kind, value = await self._call(child, task)
        except TimeoutError:
            self._replace(child)
            raise OverBudgetError from None
        except (asyncio.IncompleteReadError, OSError) as e:  # the process died (killed for memory, crashed)
            self._replace(child)
            raise UnusableImageError(f"the image could not be processed (its process stopped: {e})") from None
        except BaseException:  # cancelled mid-task: the process may still be working on it, so it cannot be reused
            self._replace(child)
            raise
        self._idle.put_nowait(child)
        if kind != "ok":
            raise UnusableImageError(value)
        return value

    @staticmethod
    async def _call(child: _Child, task: Task) -> tuple[str, Any]:
        child.writer.write(_frame(task))
        await child.writer.drain()
        return await _read_frame(child.reader)

    async def _bring_up(self, retry: bool) -> None:
        """Start an image process and add it to the idle ones once it says it has loaded the model. If it fails to
        start: raise, or with `retry` log it and try again a little later."""
        parent_end, child_end = socket.socketpair()
        process = self._context.Process(
            target=_serve_tasks, args=(self.load, child_end, os.getpid()), name="hcr-image", daemon=True
        )
        process.start()
        _lower_priority(process.pid)
        child_end.close()
        reader, writer = await asyncio.open_connection(sock=parent_end)
        child = _Child(process, reader, writer)
        self._children.add(child)
        try:
            await _read_frame(reader)
        except (asyncio.IncompleteReadError, OSError):
            self._retire(child)
            if not retry:
                raise RuntimeError(f"an image process failed to start (exit code {process.exitcode})") from None
            logger.error("an image process failed to start (exit code %s); retrying", process.exitcode)
            await asyncio.sleep(RESTART_DELAY_S)
            self._replace(None)
            return
        self._idle.put_nowait(child)

    def _replace(self, child: _Child | None) -> None:
        """Retire `child` (if any) and start another in the background."""
        if child is not None:
            self._retire(child)
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self._bring_up(retry=True))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    def _retire(self, child: _Child, wait: bool = False) -> None:
        """Kill the process; reap it now (`wait`, at shutdown) or once it has exited, without blocking the loop."""
        self._children.discard(child)
        child.writer.close()
        child.process.kill()
        if wait:
            child.process.join(STOP_WAIT_S)
        else:
            asyncio.get_running_loop().add_reader(child.process.sentinel, self._reap, child.process)

    @staticmethod
    def _reap(process: BaseProcess) -> None:
        asyncio.get_running_loop().remove_reader(process.sentinel)
        process.join()  # it has exited: this returns at once


def _lower_priority(pid: int) -> None:
    """Nice the new process by NICENESS, from here and at once: it then starts its interpreter and imports (a second
    of CPU) at the lower priority too, so replacing several image processes at once does not hold up the server."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, pid, min(own + NICENESS, 19))


def _frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME_HEADER.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = FRAME_HEADER.unpack(await reader.readexactly(FRAME_HEADER.size))
    return pickle.loads(await reader.readexactly(size))


def _serve_tasks(load: Callable[[], Predictor], sock: socket.socket, parent_pid: int) -> None:
    """An image process: load the predictor, say so, then answer tasks until the socket closes. It dies with its
    parent, and ignores Ctrl-C (the terminal sends it to the whole process group; the parent stops it)."""
    die_with_parent(parent_pid, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    predictor = load()
    with sock, sock.makefile("rb") as incoming:
        sock.sendall(_frame(READY))
        while (task := _read_frame_blocking(incoming)) is not None:
            sock.sendall(_frame(_outcome(predictor, task)))


def _read_frame_blocking(incoming: BinaryIO) -> Any:
    """The next message, or None once the parent has closed its end."""
    header = incoming.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    (size,) = FRAME_HEADER.unpack(header)
    return pickle.loads(incoming.read(size))


def _outcome(predictor: Predictor, task: Task) -> tuple[str, object]:
    """("ok", result) or ("unusable", one line): any failure on an upload is answered as that upload's problem."""
    try:
        return "ok", perform(predictor, task)
    except UnusableImageError as e:
        return "unusable", str(e)
    except Exception as e:
        logger.exception("processing an upload failed")
        return "unusable", f"the image could not be processed ({type(e).__name__}: {e})"
