"""`hcr data inspect` on the real data, as a user runs it."""

import json
import subprocess
import sys

import numpy as np
from PIL import Image


def test_inspect_real_data_writes_table_figures_and_split(shared_data, tmp_path):
    out = tmp_path / "inspect"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hcr",
            "data",
            "inspect",
            "--data-dir",
            str(shared_data),
            "--per-class",
            "3000",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Images per letter" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sources"] == ["az", "emnist-letters", "emnist-byclass", "emnist-bymerge", "nist-sd19"]
    counts = summary["per_class"]
    assert max(counts.values()) == 3_000
    assert (counts["X"], counts["Z"]) == (2_820, 2_970)  # the two letters with fewer than 3,000 in the pool
    assert "fewer than 3000 images for 2 letters" in " ".join(result.stderr.split())
    assert sum(summary["split"]["sizes"].values()) == summary["n_images"] == sum(counts.values())
    for name in ("class_distribution", "samples", "pixel_histogram", "mean_images"):
        with Image.open(out / f"{name}.png") as figure:
            assert figure.width > 400
            assert figure.height > 150
            assert np.asarray(figure.convert("L")).std() > 10  # not an empty canvas
    assert (out / "split.npz").is_file()
