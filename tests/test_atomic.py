"""Atomic writes: all or nothing, and the result is an ordinary file."""

import subprocess
import sys

import pytest

from hcr.atomic import atomic_path, write_text_atomic


def test_an_atomic_file_gets_the_same_permissions_as_a_plain_one(tmp_path):
    (tmp_path / "plain.txt").write_text("x")
    write_text_atomic(tmp_path / "atomic.txt", "x")
    assert (tmp_path / "atomic.txt").stat().st_mode == (tmp_path / "plain.txt").stat().st_mode


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path):
    target = tmp_path / "model.onnx"

    def write_half_then_crash() -> None:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        write_half_then_crash()
    assert list(tmp_path.iterdir()) == []


def test_the_umask_is_honoured_and_left_as_it_was(tmp_path):
    """A file written atomically gets 0o666 less the umask, and importing or writing never changes the umask (it
    used to be set and put back at import, racing any thread creating a file meanwhile)."""
    code = (
        "import os, pathlib, sys\n"
        "os.umask(0o027)\n"
        "from hcr.atomic import write_text_atomic\n"
        "path = pathlib.Path(sys.argv[1]) / 'x.txt'\n"
        "write_text_atomic(path, 'x')\n"
        "print(oct(path.stat().st_mode & 0o777), oct(os.umask(0)))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0o640", "0o27"]
