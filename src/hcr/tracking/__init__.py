"""Experiment tracking: hcr's run folders viewed in MLflow (`hcr train|tune|compare --track`).

hcr train --model baseline-cnn --track
HCR_TRACKING_URI=http://127.0.0.1:5000 hcr compare --preset quick

Importing this package imports neither MLflow nor Keras: the epoch callback lives in hcr.tracking.epochs.
"""

from hcr.tracking.tracker import TrackedRun, Tracker, log_run_folder, require_mlflow, tracked_run, tracking_uri

__all__ = ["TrackedRun", "Tracker", "log_run_folder", "require_mlflow", "tracked_run", "tracking_uri"]
