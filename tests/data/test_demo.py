"""`make demo` on a fresh clone: without the data folder it downloads EMNIST Letters through `hcr data download`
(here from a local server serving the real files, as NIST's archive lays them out), then compares on it. The
comparison itself (about 15 minutes) is replaced by a stub that records how it was called."""

import os
import subprocess
import sys
from pathlib import Path

from tests.data.archive_server import LETTERS_FILES
from tests.realdata import MOBILENET_WEIGHTS, REPO_ROOT

DEMO = REPO_ROOT / "scripts" / "demo.sh"


def _stub_hcr(tmp_path: Path, real_download: bool) -> Path:
    """An `hcr` that logs each call's arguments to calls.txt; `hcr data …` runs the real hcr when asked."""
    stub = tmp_path / "hcr"
    run_data = f'[ "$1" = data ] && exec "{sys.executable}" -m hcr "$@"\n' if real_download else ""
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path}/calls.txt"\n{run_data}exit 0\n')
    stub.chmod(0o755)
    return stub


def _demo(tmp_path: Path, real_download: bool = False, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    variables = {"HCR": str(_stub_hcr(tmp_path, real_download)), "DEMO_DATA": str(tmp_path / "data"), "OUT": "out"}
    result = subprocess.run(
        ["sh", str(DEMO)], cwd=tmp_path, env=os.environ | variables | env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result, (tmp_path / "calls.txt").read_text().splitlines()


def test_without_the_data_folder_the_demo_downloads_emnist_and_compares_on_it(server, emnist_zip, tmp_path):
    server.routes["/gzip.zip"] = emnist_zip
    url, demo_data = server.url("/gzip.zip"), tmp_path / "data"

    result, calls = _demo(
        tmp_path, real_download=True, DATA=str(tmp_path / "absent"), WEIGHTS=str(tmp_path / "absent.h5"), EMNIST_URL=url
    )

    assert "no data folder at" in result.stdout
    assert "NIST's official archive" in result.stdout
    assert f"downloading emnist-letters from {url}" in result.stderr  # hcr names the source
    assert "MobileNetV2 models are skipped" in result.stdout  # no weights: said, not an error
    assert calls == [
        f"data download emnist-letters --data-dir {demo_data} --url {url}",
        f"compare --preset quick --data-dir {demo_data} --out out",
    ]
    assert server.requests == ["/gzip.zip"]
    assert sorted(p.name for p in (demo_data / "emnist").iterdir()) == list(LETTERS_FILES)


def test_without_a_mirror_the_demo_downloads_from_the_official_url(tmp_path):
    _, calls = _demo(tmp_path, DATA=str(tmp_path / "absent"))  # no --url: hcr uses NIST's URL and its checksum
    assert calls[0] == f"data download emnist-letters --data-dir {tmp_path / 'data'}"


def test_with_the_data_folder_and_weights_the_demo_compares_the_whole_zoo(shared_data, tmp_path):
    result, calls = _demo(tmp_path, DATA=str(shared_data), WEIGHTS=str(MOBILENET_WEIGHTS))
    assert calls == [f"compare --preset quick --data-dir {shared_data} --weights {MOBILENET_WEIGHTS} --out out"]
    assert "download" not in result.stdout
    assert "skipped" not in result.stdout


def test_make_demo_runs_the_script_with_its_variables():
    dry = subprocess.run(
        ["make", "-n", "demo", "DATA=/nowhere", "DEMO_DATA=/tmp/d"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert "DATA='/nowhere'" in dry.stdout
    assert "DEMO_DATA='/tmp/d'" in dry.stdout
    assert "sh scripts/demo.sh" in dry.stdout
