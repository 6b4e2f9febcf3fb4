"""The parse cache: the second load skips parsing, a changed file is re-parsed, a broken cache is ignored."""

import os
import shutil

import numpy as np
import pytest

from hcr.data import az as az_module
from hcr.data import load_datasets
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
