"""Child processes of `hcr serve` (server workers, image processes) that die with their parent.

A worker left behind by a supervisor killed with SIGKILL keeps listening on the port (SO_REUSEPORT), serving an old
model next to whatever starts there next; an image process left behind holds its memory for nothing. Each child
asks the kernel for a signal when its parent dies (Linux: prctl PR_SET_PDEATHSIG), and checks that the parent it
was started by is still its parent, in case that one died before the request was made. Elsewhere a daemon thread
polls the parent instead, once a second.

The death signal is tied to the thread that created the child: children must be started from a thread that lives
as long as the parent process means to keep them (the main thread, or the one running the event loop).
"""

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_S = 1.0


def die_with_parent(parent_pid: int, signum: int = signal.SIGTERM) -> None:
    """Get `signum` (SIGTERM: a uvicorn worker finishes its requests; SIGKILL: nothing to finish) when the process
    `parent_pid`, our parent, dies; at once if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        threading.Thread(target=_watch_parent, args=(parent_pid, signum), daemon=True, name="hcr-parent").start()
    if os.getppid() != parent_pid:  # it died before the request above: we were re-parented already
        os.kill(os.getpid(), signum)


def _watch_parent(parent_pid: int, signum: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_S)
    os.kill(os.getpid(), signum)
