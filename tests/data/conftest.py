"""Fixtures of the download tests: a local HTTP server, and the real EMNIST Letters files zipped as NIST ships them."""

from collections.abc import Iterator

import pytest

from tests.data.archive_server import Server, emnist_archive, serve


@pytest.fixture(scope="module")
def emnist_zip(shared_data) -> bytes:
    return emnist_archive(shared_data)


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as state:
        yield state
