"""The Python examples of the README and of docs/inference.md run as written, on the shipped model and real letters
from ../shared/data, and print what their comments say: the documentation cannot go stale unnoticed."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import hcr
from hcr.labels import index_of
from tests.realdata import REPO_ROOT

SD19_H = Path("nist-sd19/by_class/48/train_48/train_48_00000.png")  # a real capital H (hex 48)


def python_example(page: str) -> str:
    """The first ```python block under the page's "## Python API" heading."""
    text = (REPO_ROOT / page).read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block in {page}'s Python API section"
    return match.group(1)


def run_example(code: str, cwd: Path) -> list[str]:
    """The example's output lines, then whether it imported TensorFlow."""
    code += "\nimport sys\nprint('tensorflow' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def said(code: str) -> list[str]:
    """What the example's comments say its print lines print (`print(...)  # OUTPUT`)."""
    return re.findall(r"^print\(.*\)  # (.*)$", code, re.MULTILINE)


def test_the_readme_example_reads_a_letter_and_a_line_from_files(shared_data, tmp_path):
    shutil.copy(shared_data / SD19_H, tmp_path / "my.png")  # the files the README names: a letter and a line
    data = hcr.load_dataset("az", shared_data)
    picks = [np.flatnonzero(data.y == index_of(letter))[0] for letter in "HCR"]
    Image.fromarray(np.hstack(data.x[picks])).save(tmp_path / "line.png")
    code = python_example("README.md")

    lines = run_example(code, tmp_path)

    assert lines[:-1] == said(code)  # every line printed is the one the README promises
    assert lines[-1] == "False"  # the Recognizer never loads TensorFlow


def test_the_docs_example_runs_and_prints_what_it_says(shared_data):
    code = python_example("docs/inference.md")
    lines = run_example(code, REPO_ROOT)
    assert lines[0] == said(code)[0]
    assert lines[2] == said(code)[1]  # lines[1] is the batch's accuracy, which the page does not promise
    assert lines[-1] == "False"
