"""Shared fixtures: the real handwriting in ../shared/data, and a parse cache that never touches $HOME."""

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.realdata import SHARED_DATA

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real EMNIST Letters and Kaggle A–Z files (a genuine subset) beside the repository."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.fail(f"the real dev data is missing: expected it at {SHARED_DATA} (see docs/data.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def session_parse_cache(tmp_path_factory) -> Path:
    """One parse cache for the whole session, never $HOME's: the default pool (every shared dataset) takes ~15 s to
    parse and ~1 s from the cache, and dozens of tests load it. Entries are keyed by the files' paths, sizes and
    times, so a test's own copies of the data get entries of their own. Under pytest-xdist (`make test` runs two
    workers) the workers share one: it lies beside their own temporary folders, and the cache's writes are safe
    between processes."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "parse-cache-session"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("parse-cache-session")


@pytest.fixture(autouse=True)
def _shared_parse_cache(session_parse_cache, monkeypatch) -> None:
    """Every test reads the session's parse cache and no HCR_DATA_DIR from the caller's shell."""
    monkeypatch.setenv("HCR_CACHE_DIR", str(session_parse_cache))
    monkeypatch.delenv("HCR_DATA_DIR", raising=False)


@pytest.fixture
def parse_cache_dir(tmp_path_factory, monkeypatch) -> Path:
    """An empty parse cache of the test's own, for the tests that count parses or look into the cache."""
    cache = tmp_path_factory.mktemp("parse-cache")
    monkeypatch.setenv("HCR_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="module")
def chromium():
    """Headless Debian chromium driven by Playwright (never Playwright's own browser downloads); the browser tests
    skip, saying why, where either is missing."""
    if not CHROMIUM.is_file():
        pytest.skip(f"browser test skipped: {CHROMIUM} not found; install Debian's chromium with `make browser`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser test skipped: Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def emnist_copy(shared_data, tmp_path) -> Path:
    """A writable copy of the EMNIST files, for tests that damage or convert them."""
    target = tmp_path / "emnist"
    shutil.copytree(shared_data / "emnist", target)
    return target


@pytest.fixture(scope="session")
def onnx_model_dir(shared_data, tmp_path_factory, session_parse_cache) -> Path:
    """A folder holding model.onnx + model.json: a tiny real baseline-cnn (30 images per letter, 3 epochs), exported.

    Good enough to exercise prediction end to end (it reads well above chance), not to judge accuracy."""
    from hcr.configs import DataConfig
    from hcr.training.config import resolve_config
    from hcr.training.export import export_onnx
    from hcr.training.fit import train

    root = tmp_path_factory.mktemp("onnx-model")
    data_config = DataConfig(data_dir=str(shared_data), per_class=30)
    with pytest.MonkeyPatch.context() as patch:  # session-scoped: the per-test fixtures are not set up yet
        patch.setenv("HCR_CACHE_DIR", str(session_parse_cache))
        result = train(resolve_config("baseline-cnn", epochs=3), data_config, root / "runs")
        return export_onnx(result.run.path, root / "model").parent


@pytest.fixture(scope="session")
def onnx_model_run(onnx_model_dir) -> Path:
    """The run folder `onnx_model_dir` was exported from: model.json names it, the fixture knows where it lies."""
    return onnx_model_dir.parent / "runs" / json.loads((onnx_model_dir / "model.json").read_text())["source_run"]


@pytest.fixture(scope="session")
def interrupted_run(shared_data, tmp_path_factory, session_parse_cache) -> Path:
    """A real tiny run (baseline-cnn, 10 images per letter) stopped after the first of its two epochs, as a killed
    process leaves it: config, split, history, best.keras, last-0001.keras and state.json — resumable. Tests damage
    copies of it (copytree), never the folder itself."""
    import keras

    from hcr.configs import DataConfig
    from hcr.training.config import resolve_config
    from hcr.training.fit import train

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs=None) -> None:
            raise KeyboardInterrupt("stopped after the first epoch, as Ctrl-C would")

    root = tmp_path_factory.mktemp("interrupted-run")
    with pytest.MonkeyPatch.context() as patch:  # session-scoped: the per-test fixtures are not set up yet
        patch.setenv("HCR_CACHE_DIR", str(session_parse_cache))
        with pytest.raises(KeyboardInterrupt):
            train(resolve_config("baseline-cnn", epochs=2), DataConfig(data_dir=str(shared_data), per_class=10),
                  root / "runs", callbacks=[Interrupt()])  # fmt: skip
    (run,) = (root / "runs").iterdir()
    return run
