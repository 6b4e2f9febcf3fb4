"""matplotlib.pyplot for the few figure files drawn through it (the data overview, Optuna's tuning plots).

hcr used to call matplotlib.use("Agg") before every such figure, so that a command on a server with no display
never reaches for a GUI backend. In a notebook that switched the kernel's inline backend to Agg for good: after
hcr.tune, no figure of the user's showed again. So Agg is chosen only when nobody else has chosen: pyplot not yet
loaded and no MPLBACKEND (Jupyter kernels set it), which is the case of every hcr command.
"""

import os
import sys
from types import ModuleType

from hcr.errors import MissingExtraError


def pyplot() -> ModuleType:
    """matplotlib.pyplot, on Agg unless the process already has a backend of its own."""
    try:
        import matplotlib

        if "matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("train", "matplotlib") from None
    return plt
