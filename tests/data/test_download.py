"""`hcr data download` against a real HTTP server on 127.0.0.1 serving a zip of the real EMNIST files."""

import hashlib
import http.client
import http.server
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from hcr.data import download, load_datasets
from hcr.data.download import download_dataset
from hcr.errors import DataError, HcrError
from tests.data.archive_server import DIGITS_MEMBER, LETTERS_FILES, zip_archive
from tests.realdata import AZ_CSV, N_EMNIST_TEST, N_EMNIST_TRAIN


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_downloads_verifies_and_extracts_only_the_letters(server, emnist_zip, tmp_path, shared_data):
    server.routes["/gzip.zip"] = emnist_zip
    data_dir = tmp_path / "data"

    folder = download_dataset("emnist-letters", data_dir, url=server.url("/gzip.zip"), checksum=_sha256(emnist_zip))

    assert folder == data_dir / "emnist"
    assert [p.name for p in _files(data_dir)] == list(LETTERS_FILES)  # flattened; no digits, no archive
    assert all(p.parent == folder for p in _files(data_dir))
    for name in LETTERS_FILES:
        assert (folder / name).read_bytes() == (shared_data / "emnist" / name).read_bytes()
    data = load_datasets(["emnist-letters"], data_dir)
    assert len(data) == N_EMNIST_TRAIN + N_EMNIST_TEST == 11_312


def test_second_call_is_a_no_op_and_force_downloads_again(server, emnist_zip, tmp_path, caplog):
    server.routes["/gzip.zip"] = emnist_zip
    data_dir = tmp_path / "data"
    args = {"url": server.url("/gzip.zip"), "checksum": _sha256(emnist_zip)}
    download_dataset("emnist-letters", data_dir, **args)
    assert len(server.requests) == 1

    with caplog.at_level(logging.INFO, logger="hcr.data.download"):
        download_dataset("emnist-letters", data_dir, **args)
    assert len(server.requests) == 1
    assert "already present" in caplog.text

    download_dataset("emnist-letters", data_dir, force=True, **args)
    assert len(server.requests) == 2
    assert [p.name for p in _files(data_dir)] == list(LETTERS_FILES)


def test_a_mirror_without_checksum_is_downloaded_but_reported_unverified(server, emnist_zip, tmp_path, caplog):
    server.routes["/gzip.zip"] = emnist_zip
    with caplog.at_level(logging.INFO, logger="hcr.data.download"):
        download_dataset("emnist-letters", tmp_path, url=server.url("/gzip.zip"))
    assert "unverified" in caplog.text
    assert hashlib.sha256(emnist_zip).hexdigest() in caplog.text  # so the user can pin it
    assert len(_files(tmp_path / "emnist")) == len(LETTERS_FILES)


def test_the_official_checksum_applies_to_the_official_url_only(server, emnist_zip, tmp_path, monkeypatch):
    server.routes["/gzip.zip"] = emnist_zip
    server.routes["/mirror.zip"] = emnist_zip
    official = download.DATASETS["emnist-letters"]
    wrong = "md5:" + "0" * 32  # what the official checksum would say about a different file
    monkeypatch.setitem(
        download.DATASETS, "emnist-letters", replace(official, url=server.url("/gzip.zip"), checksum=wrong)
    )
    with pytest.raises(DataError, match="checksum mismatch"):
        download_dataset("emnist-letters", tmp_path / "a")
    download_dataset("emnist-letters", tmp_path / "b", url=server.url("/mirror.zip"))  # unverified, not wrong
    download_dataset("emnist-letters", tmp_path / "c", checksum=_sha256(emnist_zip))  # the user's value wins
    assert _files(tmp_path / "a") == []
    assert len(_files(tmp_path / "b")) == len(_files(tmp_path / "c")) == len(LETTERS_FILES)


def test_wrong_checksum_deletes_everything(server, emnist_zip, tmp_path):
    server.routes["/gzip.zip"] = emnist_zip
    data_dir = tmp_path / "data"
    with pytest.raises(DataError, match="checksum mismatch") as raised:
        download_dataset("emnist-letters", data_dir, url=server.url("/gzip.zip"), checksum="md5:" + "0" * 32)
    assert "md5:" + hashlib.md5(emnist_zip).hexdigest() in str(raised.value)
    assert server.url("/gzip.zip") in str(raised.value)
    assert _files(data_dir) == []


def test_truncated_transfer_leaves_nothing(server, emnist_zip, tmp_path):
    server.truncated["/gzip.zip"] = emnist_zip
    data_dir = tmp_path / "data"
    with pytest.raises(DataError, match="truncated") as raised:
        download_dataset("emnist-letters", data_dir, url=server.url("/gzip.zip"), checksum=_sha256(emnist_zip))
    assert f"got {len(emnist_zip):,} of {len(emnist_zip) + 1000:,} bytes" in str(raised.value)
    assert _files(data_dir) == []


def _patch_second_read(monkeypatch, error: BaseException) -> list[int]:
    """Make the response raise `error` on its second read, after one full chunk arrived."""
    real_urlopen = urllib.request.urlopen
    reads: list[int] = []

    def urlopen(*args, **kwargs):
        response = real_urlopen(*args, **kwargs)
        real_read = response.read

        def read(*read_args):
            if reads:
                raise error
            chunk = real_read(*read_args)
            reads.append(len(chunk))
            return chunk

        response.read = read
        return response

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return reads


def test_incomplete_read_is_reported_as_truncated(server, emnist_zip, tmp_path, monkeypatch):
    server.routes["/gzip.zip"] = emnist_zip
    reads = _patch_second_read(monkeypatch, http.client.IncompleteRead(b"x" * 10, 500))
    with pytest.raises(DataError, match="transfer truncated") as raised:
        download_dataset("emnist-letters", tmp_path, url=server.url("/gzip.zip"), checksum=_sha256(emnist_zip))
    assert f"got {(1 << 20) + 10:,} of {len(emnist_zip):,} bytes" in str(raised.value)
    assert reads == [1 << 20]
    assert _files(tmp_path) == []


def test_keyboard_interrupt_mid_download_leaves_nothing(server, emnist_zip, tmp_path, monkeypatch):
    server.routes["/gzip.zip"] = emnist_zip
    data_dir = tmp_path / "data"
    reads = _patch_second_read(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        download_dataset("emnist-letters", data_dir, url=server.url("/gzip.zip"), checksum=_sha256(emnist_zip))
    assert reads == [1 << 20]  # it really stopped in the middle
    assert _files(data_dir) == []


def test_http_404(server, tmp_path):
    with pytest.raises(DataError, match="HTTP 404") as raised:
        download_dataset("emnist-letters", tmp_path, url=server.url("/nothing.zip"))
    assert server.url("/nothing.zip") in str(raised.value)
    assert _files(tmp_path) == []


def test_connection_refused(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match="cannot connect"):
        download_dataset("emnist-letters", tmp_path, url=f"http://127.0.0.1:{port}/gzip.zip")
    assert _files(tmp_path) == []


def test_not_a_zip(server, tmp_path):
    server.routes["/gzip.zip"] = b"<html>this is a web page, not an archive</html>\n"
    with pytest.raises(DataError, match="not a valid zip"):
        download_dataset("emnist-letters", tmp_path, url=server.url("/gzip.zip"))
    assert _files(tmp_path) == []


def test_zip_without_the_letters(server, tmp_path):
    server.routes["/gzip.zip"] = zip_archive({DIGITS_MEMBER: b"digits only"})
    with pytest.raises(DataError, match="lacks emnist-letters-train-images"):
        download_dataset("emnist-letters", tmp_path, url=server.url("/gzip.zip"))
    assert _files(tmp_path) == []


def test_crc_error_extracts_nothing(server, shared_data, tmp_path):
    payload = bytes(range(256)) * 64
    members = {f"gzip/{name}": (shared_data / "emnist" / name).read_bytes() for name in LETTERS_FILES}
    members["gzip/emnist-letters-zz-extra.txt"] = payload  # extracted last, after the real files
    archive = bytearray(zip_archive(members, zipfile.ZIP_STORED))
    at = archive.index(payload) + 1000
    archive[at] ^= 0xFF
    server.routes["/gzip.zip"] = bytes(archive)
    with pytest.raises(DataError, match=r"corrupt archive.*zz-extra"):
        download_dataset("emnist-letters", tmp_path, url=server.url("/gzip.zip"))
    assert _files(tmp_path) == []  # all or nothing: the members extracted before are gone too


def test_bad_checksum_strings_are_refused(tmp_path):
    for bad in ("58c8d27c78d21e728a6bc7b3cc06412e", "md5:xyz", "sha1:" + "0" * 40, "sha256:" + "0" * 32):
        with pytest.raises(HcrError, match="bad checksum"):
            download_dataset("emnist-letters", tmp_path, url="http://127.0.0.1:9/never", checksum=bad)


def test_unknown_dataset_lists_the_known_ones(tmp_path):
    with pytest.raises(HcrError, match="emnist-letters, az"):
        download_dataset("mnist", tmp_path)


def test_az_needs_a_url(tmp_path):
    with pytest.raises(HcrError, match=r"kaggle\.com") as raised:
        download_dataset("az", tmp_path)
    assert "A_Z Handwritten Data.csv" in str(raised.value)
    assert str(tmp_path / "az") in str(raised.value)


def test_az_from_a_csv_or_a_zip(server, tmp_path):
    csv = AZ_CSV.read_bytes()
    server.routes["/az.csv"] = csv
    server.routes["/archive.zip"] = zip_archive({"A_Z Handwritten Data.csv": csv, "readme.txt": b"unrelated"})

    folder = download_dataset("az", tmp_path / "a", url=server.url("/az.csv"), checksum=_sha256(csv))
    assert _files(tmp_path / "a") == [folder / "A_Z Handwritten Data.csv"]
    assert (folder / "A_Z Handwritten Data.csv").read_bytes() == csv  # the loader tests cover reading it

    folder = download_dataset("az", tmp_path / "b", url=server.url("/archive.zip"))
    assert _files(tmp_path / "b") == [folder / "A_Z Handwritten Data.csv"]
    assert (folder / "A_Z Handwritten Data.csv").read_bytes() == csv


def test_az_login_page_instead_of_csv(server, tmp_path):
    server.routes["/download"] = b"<!DOCTYPE html><html>Sign in to Kaggle</html>"
    with pytest.raises(DataError, match="not a pixel CSV"):
        download_dataset("az", tmp_path, url=server.url("/download"))
    assert _files(tmp_path) == []


def _hcr(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # HCR_CACHE_DIR is already isolated by the autouse fixture
    env.pop("HCR_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "hcr", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_cli_success_and_404(server, emnist_zip, tmp_path):
    server.routes["/gzip.zip"] = emnist_zip
    data_dir = tmp_path / "data"
    common = ["data", "download", "emnist-letters", "--data-dir", str(data_dir)]

    done = _hcr(*common, "--url", server.url("/gzip.zip"), "--checksum", _sha256(emnist_zip))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in _files(data_dir)] == list(LETTERS_FILES)

    failed = _hcr(*common, "--force", "--url", server.url("/missing.zip"), "--checksum", _sha256(emnist_zip))
    assert failed.returncode == 2
    assert "404" in failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    assert [p.name for p in _files(data_dir)] == list(LETTERS_FILES)  # a failed --force keeps the old copy


def test_sigterm_mid_download_leaves_nothing(server, emnist_zip, tmp_path):
    """`kill` (SIGTERM) cleans up as Ctrl-C does, then the process ends by SIGTERM as a killed process should."""
    server.stalled["/gzip.zip"] = emnist_zip
    data_dir = tmp_path / "data"
    command = ["data", "download", "emnist-letters", "--data-dir", str(data_dir), "--url", server.url("/gzip.zip")]
    process = subprocess.Popen([sys.executable, "-m", "hcr", *command], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size >= 1 << 20 for p in _files(data_dir)):  # the first MiB is on disk
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert not data_dir.exists()  # no partial archive, and not the folders the download created either
