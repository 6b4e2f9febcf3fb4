"""A real PostgreSQL server for the tests in which several `hcr tune` workers share one study.

The server binaries come from Debian's packages (.ci/debian-package.sh installs them; `make test` runs it). The fixture
starts a throwaway cluster with initdb/pg_ctl in a temporary folder, listening on 127.0.0.1 on a free port, and
stops and deletes it after the module. PostgreSQL refuses to run as root, so under root the cluster belongs to
Debian's `postgres` system user.
"""

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SERVER_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # a throwaway cluster


def find_postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian keeps them in /usr/lib/postgresql/<version>/bin, off PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if versions:
        return versions[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Callable[[], str]]:
    """A function that creates a fresh database in the running server and returns its SQLAlchemy URL."""
    bindir = find_postgres_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) are NOT installed, so the shared-study tests did NOT run: "
            "install them with `make postgres` as root (`make test` runs it)"
        )
    run_as: dict[str, int] = {}
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root, and no 'postgres' user exists to own the test cluster (initdb refuses root)")
        run_as = {"user": owner.pw_uid, "group": owner.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="hcr-pg-"))  # not pytest's tmp_path: its parents are closed to other users
    if run_as:
        os.chown(root, run_as["user"], run_as["group"])

    def pg(tool: str, *args: str) -> None:
        result = subprocess.run([str(bindir / tool), *args], capture_output=True, text=True, cwd=root, timeout=120,
                                **run_as)  # fmt: skip
        if result.returncode != 0:
            log = root / "server.log"
            raise RuntimeError(f"{tool} failed: {result.stderr}{log.read_text() if log.exists() else ''}")

    data = root / "data"
    pg("initdb", "-D", str(data), "-U", "hcr", "--auth=trust", "--no-sync", "-E", "UTF8")
    for attempt in range(3):  # a free port can be taken by someone else before the server binds it
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k {root} {SERVER_SETTINGS}"
        try:
            pg("pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "-t", "60", "start")
            break
        except RuntimeError:
            if attempt == 2:
                raise
    names = (f"hcr_test_{n}" for n in itertools.count())

    def new_database() -> str:
        name = next(names)
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "hcr", name)
        return f"postgresql://hcr@127.0.0.1:{port}/{name}"

    try:
        yield new_database
    finally:
        with contextlib.suppress(RuntimeError):
            pg("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
