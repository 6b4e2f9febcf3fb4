"""Find a dataset's files where users usually put them: in the data dir or a folder or two below it."""

from pathlib import Path

SEARCH_DEPTH = 2  # the official EMNIST zip nests its files in gzip/; people add one folder of their own


def find_file(folder: Path, name: str) -> Path | None:
    """The first file called `name` in `folder` or up to SEARCH_DEPTH levels below, shallowest first."""
    for depth in range(SEARCH_DEPTH + 1):
        found = sorted(folder.glob("/".join(["*"] * depth + [name])))
        if found:
            return found[0]
    return None
