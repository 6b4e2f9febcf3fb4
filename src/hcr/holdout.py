"""How a run holds data out: validation picks the best epoch, test scores the result once; by default the seed
notebook's shares, stratified, the datasets' own test split or by writer, from a seed.

Defined once for the split (hcr.data.splits), the data config (hcr.configs) and the CLI's options. A module of its
own, without numpy, so the configs and the CLI's options can check and show them without loading hcr.data.
"""

from hcr.errors import HcrError

VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
STRATIFIED = "stratified"
OFFICIAL = "official"
WRITER = "writer"
METHODS = (STRATIFIED, OFFICIAL, WRITER)
MAX_SEED = 2**32 - 1  # numpy's, scikit-learn's and Keras's seeds are unsigned 32-bit integers


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """A validation part is required (checkpoints are picked on it); no test part is allowed, for a final model
    trained on everything once its recipe has been measured."""
    if not (0 < val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise HcrError(
            f"the val fraction must be in (0, 1), the test fraction in [0, 1), and they must sum below 1; "
            f"got {val_fraction}, {test_fraction}"
        )
