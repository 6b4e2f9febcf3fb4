"""Where hcr keeps datasets and its parse cache when the user does not say.

`HCR_DATA_DIR` and `HCR_CACHE_DIR` override the defaults, which follow the XDG cache convention so nothing
lands in the working directory by surprise.
"""

import os
from pathlib import Path


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hcr"


def resolve_data_dir(data_dir: Path | str | None = None) -> Path:
    """The folder that holds (or will hold) downloaded datasets."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if env := os.environ.get("HCR_DATA_DIR"):
        return Path(env)
    return user_cache_dir() / "data"


def parse_cache_dir() -> Path:
    """The folder of parsed-array caches; separate from the data dir, which may be read-only."""
    if env := os.environ.get("HCR_CACHE_DIR"):
        return Path(env)
    return user_cache_dir() / "parsed"
