"""The parse cache: the second load skips parsing, a changed file is re-parsed, a broken cache is ignored."""

import json
import os
import shutil
import time

import numpy as np
import pytest

from hcr.data import az as az_module
from hcr.data import cache, load_datasets
from tests.realdata import AZ_CSV


@pytest.fixture
def az_copy(tmp_path):
    path = tmp_path / AZ_CSV.name
    shutil.copy(AZ_CSV, path)
    return path


@pytest.fixture
def parse_counter(monkeypatch):
    calls = []
    real = az_module.read_pixel_csv

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(az_module, "read_pixel_csv", counting)
    return calls


def test_second_load_comes_from_the_cache(az_copy, parse_counter, parse_cache_dir):
    first = load_datasets([f"az:{az_copy}"])
    second = load_datasets([f"az:{az_copy}"])
    assert len(parse_counter) == 1
    assert any(parse_cache_dir.iterdir())
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.y, second.y)
    assert second.sources == first.sources
    assert second.sources_without_split == first.sources_without_split


def test_a_changed_file_is_parsed_again(az_copy, parse_counter):
    before = load_datasets([f"az:{az_copy}"])
    lines = az_copy.read_text().splitlines()
    az_copy.write_text("\n".join(lines[:100]) + "\n")
    stat = az_copy.stat()
    os.utime(az_copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = load_datasets([f"az:{az_copy}"])
    assert len(parse_counter) == 2
    assert len(before) == 5_934
    assert len(after) == 100


def test_a_corrupt_cache_entry_is_ignored(az_copy, parse_counter, parse_cache_dir):
    load_datasets([f"az:{az_copy}"])
    for npy in parse_cache_dir.rglob("x.npy"):
        npy.write_bytes(b"garbage")
    again = load_datasets([f"az:{az_copy}"])
    assert len(parse_counter) == 2
    assert again.x.shape == (5_934, 28, 28)


def test_an_unwritable_cache_still_loads(az_copy, monkeypatch, tmp_path, caplog):
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("HCR_CACHE_DIR", str(blocker / "cache"))
    assert len(load_datasets([f"az:{az_copy}"])) == 5_934
    assert "could not write the parse cache" in caplog.text


@pytest.mark.parametrize("meta", ["[]", "null", '"text"', "{"], ids=repr)
def test_a_corrupt_meta_json_is_parsed_again_and_replaced(az_copy, parse_counter, parse_cache_dir, meta):
    """Whatever a crash or a disk error left in meta.json, the load re-parses and the next one is cached again."""
    load_datasets([f"az:{az_copy}"])
    [meta_json] = parse_cache_dir.rglob("meta.json")
    meta_json.write_text(meta)
    again = load_datasets([f"az:{az_copy}"])
    assert len(parse_counter) == 2
    assert again.x.shape == (5_934, 28, 28)
    load_datasets([f"az:{az_copy}"])
    assert len(parse_counter) == 2  # the entry was rewritten: a corrupt entry does not keep failing


def test_two_processes_writing_one_entry_at_once_leave_each_other_alone(az_copy, parse_cache_dir, monkeypatch, caplog):
    """Two hcr processes started together (tune workers sharing a study, a shell loop) parse the same uncached data
    and write its entry at the same moment. Here a second writer runs to the end in the middle of the first one's
    write: the first must neither lose its half-written folder nor warn, and the entry left behind is valid."""
    real_save = np.save
    interleaved = []

    def save_with_another_writer_in_between(path, array, *args, **kwargs):
        if not interleaved:
            interleaved.append(path)
            cache._write(entry, stamp, data)  # the other process, start to finish
        return real_save(path, array, *args, **kwargs)

    data = load_datasets([f"az:{az_copy}"])
    [entry] = [p for p in parse_cache_dir.iterdir() if p.is_dir()]
    stamp = json.loads((entry / "meta.json").read_text())["fingerprint"]
    shutil.rmtree(entry)
    with monkeypatch.context() as patch:
        patch.setattr(np, "save", save_with_another_writer_in_between)
        cache._write(entry, stamp, data)
    assert interleaved
    assert "could not write the parse cache" not in caplog.text
    assert [p.name for p in parse_cache_dir.iterdir()] == [entry.name]  # nothing half-written left behind
    assert cache._read(entry, stamp) is not None


def test_what_a_killed_writer_left_is_swept_and_a_write_in_progress_is_not(az_copy, parse_cache_dir):
    load_datasets([f"az:{az_copy}"])
    [entry] = [p for p in parse_cache_dir.iterdir() if p.is_dir()]
    (entry / "meta.json").write_text("{}")  # stale: the next load writes the entry again
    killed, in_progress = (parse_cache_dir / f"{entry.name}.tmp-{name}" for name in ("1-dead", "2-live"))
    for tmp in (killed, in_progress):
        tmp.mkdir()
        (tmp / "x.npy").write_bytes(b"half written")
    two_hours_ago = time.time() - 2 * cache.STALE_SECONDS
    os.utime(killed, (two_hours_ago, two_hours_ago))
    load_datasets([f"az:{az_copy}"])
    assert not killed.exists()
    assert (in_progress / "x.npy").read_bytes() == b"half written"
    assert oct((entry).stat().st_mode & 0o777) == oct(0o777 & ~_umask())  # readable by the cache's other users


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
