"""The README's Python API example runs as written, from the repository root, on the shipped model and the real
letters in ../shared/data: the README cannot go stale unnoticed."""

import re
import subprocess
import sys

from tests.realdata import REPO_ROOT


def python_api_example() -> str:
    """The first ```python block under the README's "## Python API" heading."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "no python block in the README's Python API section"
    return match.group(1)


def test_the_readme_example_runs_and_prints_what_it_says(shared_data):
    code = python_api_example() + "\nimport sys\nprint('tensorflow' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    said = re.findall(r"^print\(.*\)  # (.*)$", python_api_example(), re.MULTILINE)  # what the README says
    assert lines[0] == said[0]
    assert lines[2] == said[1]
    assert lines[-1] == "False"  # the Recognizer never loads TensorFlow
