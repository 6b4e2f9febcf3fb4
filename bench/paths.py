"""Where the benches run with `python -m bench.NAME` find the data they measure on: the shared development data
beside the repository (tests read it from there too)."""

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
