"""hcr: handwritten character recognition for the letters A–Z.

    import hcr
    hcr.Recognizer().predict("letter.png").letter

Importing the package does no work: the public API (hcr.api) is loaded on first use of one of its names, and heavy
libraries load inside the functions that need them (ONNX Runtime with the Recognizer, TensorFlow only to train).
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Recognizer", "compare", "evaluate", "export", "load_dataset", "train", "tune"]


def __getattr__(name: str) -> Any:
    """hcr.Recognizer, hcr.train, …: the names of hcr.api, imported when first asked for (PEP 562)."""
    if name in __all__:
        from hcr import api

        return getattr(api, name)
    raise AttributeError(f"module 'hcr' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
