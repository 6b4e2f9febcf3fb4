"""Errors caused by what the user gave us, as opposed to bugs.

The CLI prints an `HcrError` as one line and exits with code 2; anything else is an internal error (exit 1).
"""

from pathlib import Path


class HcrError(Exception):
    """Bad input from the user: a missing or malformed file, an impossible option."""


class InputError(HcrError):
    """An image or array handed to the Python API (hcr.Recognizer) that cannot be a picture of letters: a wrong
    dtype, shape or value range, NaN."""


class DataError(HcrError):
    """A data source that cannot be read; the message always names the file or URL."""

    def __init__(self, where: Path | str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class MissingExtraError(HcrError):
    """An optional dependency group is not installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(f"this needs the '{extra}' extra ({module} is not installed): pip install 'hcr[{extra}]'")
