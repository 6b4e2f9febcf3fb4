"""Atomic writes: all or nothing, and the result is an ordinary file."""

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
