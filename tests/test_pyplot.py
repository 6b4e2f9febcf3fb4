"""hcr's pyplot figures choose the Agg backend only where nobody else has chosen one: a notebook keeps its inline
backend after hcr.tune or hcr.compare has drawn (it used to be switched to Agg for good)."""

import os
import subprocess
import sys

import pytest

SHOW_BACKEND = "from hcr.pyplot import pyplot; print(pyplot().get_backend())"


@pytest.mark.parametrize(
    ("before", "env", "expected"),
    [
        ("", {}, "agg"),  # an hcr command: nothing chose, so Agg (no display needed)
        ("import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot; ", {}, "svg"),  # the caller's pyplot
        ("", {"MPLBACKEND": "pdf"}, "pdf"),  # what Jupyter kernels do with their inline backend
    ],
)
def test_agg_only_where_no_backend_was_chosen(before, env, expected):
    environment = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"} | env
    result = subprocess.run(
        [sys.executable, "-c", before + SHOW_BACKEND], capture_output=True, text=True, env=environment, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().lower() == expected
