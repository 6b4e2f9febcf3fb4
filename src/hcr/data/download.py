"""Download a public dataset archive, verify its checksum and extract only the files hcr reads.

    hcr data download emnist-letters
    hcr data download emnist-letters --url https://mirror.example/gzip.zip --checksum sha256:HEX
    hcr data download az --url https://my.host/A_Z.zip      # Kaggle needs a login: bring your own copy

Nothing half-done is ever left behind: the archive is streamed into a temporary file and only gets its name
once complete and verified, the members are extracted to temporary files that are moved into place together,
and the archive is deleted after extraction. An interrupted (Ctrl-C, or SIGTERM under
`hcr data download`) or failed download leaves the data dir as it was.
"""

import contextlib
import fnmatch
import hashlib
import http.client
import logging
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hcr import __version__
from hcr.atomic import atomic_path
from hcr.console import byte_progress
from hcr.data import az, emnist
from hcr.data.locate import find_file
from hcr.errors import DataError, HcrError

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20  # 1 MiB: large enough for speed, small enough for a smooth progress bar
TIMEOUT_S = 60  # per socket operation, so a stalled server fails instead of hanging forever
HEX_DIGITS = {"md5": 32, "sha256": 64}


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset `hcr data download` knows: where it comes from, where it goes, which of its files hcr reads."""

    name: str
    folder: str  # under the data dir
    url: str | None  # None: no public URL (a login is needed), so the user must pass --url
    checksum: str | None  # ALGO:HEX of the archive at `url`
    wanted: str  # fnmatch pattern on the basenames of the archive members to extract
    required: tuple[str, ...]  # basenames the archive must contain
    is_present: Callable[[Path], bool]  # whether the target folder already holds a usable copy
    plain_file: str | None = None  # a download that is not a zip is kept under this name (None: must be a zip)
    no_url_hint: str = ""


def _emnist_present(folder: Path) -> bool:
    try:
        return emnist.find_emnist_files(folder) is not None
    except DataError:  # a broken copy (images without labels): download over it
        return False


def _az_present(folder: Path) -> bool:
    return find_file(folder, az.FILE_NAME) is not None


DATASETS: dict[str, RemoteDataset] = {
    d.name: d
    for d in (
        RemoteDataset(
            name=emnist.NAME,
            folder="emnist",
            url="https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
            checksum="md5:58c8d27c78d21e728a6bc7b3cc06412e",
            wanted="emnist-letters-*",
            required=tuple(
                f"emnist-letters-{split}-{kind}-ubyte.gz"
                for split in emnist.SPLITS
                for kind in ("images-idx3", "labels-idx1")
            ),
            is_present=_emnist_present,
        ),
        RemoteDataset(
            name=az.NAME,
            folder="az",
            url=None,
            checksum=None,
            wanted=az.FILE_NAME,
            required=(az.FILE_NAME,),
            is_present=_az_present,
            plain_file=az.FILE_NAME,
            no_url_hint=(
                f"the Kaggle A–Z set needs a Kaggle login, so hcr cannot fetch it: download it from "
                f"{az.KAGGLE_URL} and put '{az.FILE_NAME}' in {{target}} (or pass --url for a copy of your own)"
            ),
        ),
    )
}


def download_dataset(
    name: str, data_dir: Path, url: str | None = None, checksum: str | None = None, force: bool = False
) -> Path:
    """Fetch dataset `name` into its folder under `data_dir` and return that folder.

    `url` replaces the official URL (a mirror); `checksum` (md5:HEX or sha256:HEX) replaces the official one.
    A mirror without a checksum is downloaded unverified, since the official checksum describes another file.
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise HcrError(f"unknown dataset '{name}': hcr can download {', '.join(DATASETS)}")
    expected = parse_checksum(checksum) if checksum is not None else None  # report a typo before any work
    target = data_dir / spec.folder
    if not force and spec.is_present(target):
        log.info("%s is already present in %s (use --force to download again)", name, target)
        return target

    source = url or spec.url
    if source is None:
        raise HcrError(spec.no_url_hint.format(target=target))
    if expected is None and source == spec.url and spec.checksum is not None:
        expected = parse_checksum(spec.checksum)
    if expected is None:
        log.warning("no checksum for %s: the download is unverified (pass --checksum md5:HEX or sha256:HEX)", source)
    log.info("downloading %s from %s into %s", name, source, target)  # where the bytes come from, said up front

    created = _missing_dirs(target)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(target, f"cannot create the folder ({_reason(e)})") from None
    archive = target / f".{name}.download"
    try:
        with atomic_path(archive) as tmp:
            digest = _fetch(source, tmp, expected[0] if expected else "sha256", name)
            if expected is not None and digest != expected[1]:
                algo = expected[0]
                raise DataError(
                    source,
                    f"checksum mismatch: expected {algo}:{expected[1]}, got {algo}:{digest}; the file was deleted",
                )
        if expected is None:
            log.info("downloaded %s (sha256:%s); pass it as --checksum to verify it next time", source, digest)
        try:
            count = _install(spec, archive, target, source)
        finally:
            archive.unlink(missing_ok=True)
    except BaseException:
        for folder in created:  # deepest first; stops at the first folder that is not empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    log.info("%s: %d file(s) in %s", name, count, target)
    return target


def parse_checksum(text: str) -> tuple[str, str]:
    """`md5:HEX` or `sha256:HEX` as (algorithm, lowercase hex); anything else is the user's typo."""
    algo, sep, hexdigest = text.strip().partition(":")
    algo, hexdigest = algo.lower(), hexdigest.lower()
    if not sep or HEX_DIGITS.get(algo) != len(hexdigest) or not re.fullmatch(r"[0-9a-f]+", hexdigest):
        raise HcrError(f"bad checksum '{text}': use md5:HEX (32 hex digits) or sha256:HEX (64 hex digits)")
    return algo, hexdigest


def _missing_dirs(folder: Path) -> list[Path]:
    """The folders `mkdir(parents=True)` would create, deepest first, so a failure can remove them again."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _fetch(url: str, dest: Path, algo: str, name: str) -> str:
    """Stream `url` into `dest`, hashing on the way; return the hex digest. Network trouble is a DataError."""
    request = urllib.request.Request(url, headers={"User-Agent": f"hcr/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as e:
        e.close()
        raise DataError(url, f"HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise DataError(url, f"cannot connect ({_reason(e.reason)})") from None
    except ValueError as e:
        raise DataError(url, f"not a URL that can be downloaded ({e})") from None
    except (http.client.HTTPException, OSError) as e:
        raise DataError(url, f"cannot connect ({_reason(e)})") from None

    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None and length.isdigit() else None
        digest = hashlib.new(algo, usedforsecurity=False)
        received = 0
        with byte_progress() as progress, dest.open("wb") as out:
            task = progress.add_task(f"downloading {name}", total=total)
            while True:
                try:
                    chunk = response.read(CHUNK_SIZE)
                except http.client.IncompleteRead as e:
                    received += len(e.partial)
                    expected = total if total is not None else received + (e.expected or 0)
                    raise DataError(url, f"transfer truncated: got {received:,} of {expected:,} bytes") from None
                except (http.client.HTTPException, OSError) as e:
                    raise DataError(url, f"connection lost after {received:,} bytes ({_reason(e)})") from None
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
                progress.update(task, advance=len(chunk))
    if total is not None and received < total:
        raise DataError(url, f"transfer truncated: got {received:,} of {total:,} bytes")
    return digest.hexdigest()


def _reason(error: object) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _install(spec: RemoteDataset, archive: Path, target: Path, url: str) -> int:
    """Put the downloaded file's useful content in `target`: extract a zip, or keep a plain file as is."""
    if zipfile.is_zipfile(archive):
        return _extract(spec, archive, target, url)
    is_zip_url = urllib.parse.urlparse(url).path.lower().endswith(".zip")
    if spec.plain_file is None or is_zip_url:
        raise DataError(url, "not a valid zip archive (is the URL right?)")
    _check_pixel_csv_head(archive, url)
    archive.replace(target / spec.plain_file)
    return 1


def _check_pixel_csv_head(path: Path, url: str) -> None:
    """Catch the usual wrong download early: an HTML (login) page instead of the CSV."""
    with path.open("rb") as f:
        head = f.read(4096)
    if not re.match(rb"\d+,\d", head):  # every line is label,p0,...,p783
        shown = head[:40].split(b"\n", 1)[0].decode("utf-8", "replace")
        raise DataError(url, f"not a pixel CSV (it starts with '{shown}'); a login page? download it in a browser")


def _extract(spec: RemoteDataset, archive: Path, target: Path, url: str) -> int:
    """Extract the wanted members, flattened, all or nothing: each goes to a temporary file first."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members: dict[str, zipfile.ZipInfo] = {}
            for info in zf.infolist():
                base = PurePosixPath(info.filename).name
                if not info.is_dir() and fnmatch.fnmatchcase(base, spec.wanted):
                    members.setdefault(base, info)  # the first of same-named members wins
            missing = [m for m in spec.required if m not in members]
            if missing:
                raise DataError(url, f"the archive lacks {', '.join(missing)}; is it the right file?")
            with contextlib.ExitStack() as stack:
                for base, info in members.items():
                    tmp = stack.enter_context(atomic_path(target / base))
                    try:
                        with zf.open(info) as src, tmp.open("wb") as dst:
                            shutil.copyfileobj(src, dst, CHUNK_SIZE)
                    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                        raise DataError(url, f"corrupt archive: cannot extract {info.filename} ({e})") from None
    except zipfile.BadZipFile as e:
        raise DataError(url, f"not a valid zip archive ({e})") from None
    return len(members)
