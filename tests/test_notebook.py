"""examples/walkthrough.ipynb, run top to bottom as a user runs it, so it can never go stale.

The notebook is stored without outputs (a stored output would be a second copy of the results that nothing keeps
true, and every run would rewrite it); this test executes a copy in memory, in a kernel of this very interpreter,
with the working directory in tmp_path, so everything it writes lands there and examples/ is never changed."""

import hashlib
import json
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient

from tests.realdata import REPO_ROOT

NOTEBOOK = REPO_ROOT / "examples" / "walkthrough.ipynb"
BUDGET_S = 180  # the whole notebook on 2 CPU cores; it is sized to take well under half of this
KERNEL = "hcr-walkthrough"


def test_the_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.slow
def test_the_walkthrough_runs_top_to_bottom(shared_data, tmp_path, monkeypatch):
    # a kernel spec of its own, naming this interpreter: a "python3" spec installed elsewhere cannot stand in for it
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("HCR_DATA_DIR", str(shared_data))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend shows the figures
    work = tmp_path / "work"
    work.mkdir()
    stored = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, kernel_name=KERNEL, timeout=BUDGET_S, resources={"metadata": {"path": work}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    elapsed = time.perf_counter() - started

    assert elapsed < BUDGET_S
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(figures) >= 5  # counts, samples, confusion matrix, learning curves, the files read
    assert (work / "walkthrough-out" / "model" / "model.onnx").is_file()
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == stored
    print(f"walkthrough.ipynb ran in {elapsed:.0f} s")
