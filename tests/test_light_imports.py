"""The data, inference and CLI entry points, the model zoo's table and the run folders never load TensorFlow or
Keras (only training does)."""

import subprocess
import sys


def test_cli_data_and_inference_import_without_tensorflow():
    code = (
        "import sys, hcr.cli, hcr.data, hcr.inference.preprocess, hcr.inference.predictor, hcr.serving.app\n"
        "import hcr.pipelines.compare, hcr.pipelines.tune_retrain, hcr.data.prepare\n"
        "import hcr.evaluation.evaluate, hcr.evaluation.metrics, hcr.evaluation.plots, hcr.evaluation.report\n"
        "import hcr.inference.reading\n"
        "import hcr.models, hcr.runs, hcr.configs, hcr.training.config\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_importing_the_cli_changes_no_environment_variable():
    """Process-wide settings belong to the `hcr` command (cli.main), not to whoever imports hcr.cli."""
    code = (
        "import os\nbefore = dict(os.environ)\nimport hcr.cli\n"
        "print(sorted(set(os.environ.items()) ^ set(before.items())))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
