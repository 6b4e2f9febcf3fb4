"""How much of the data a run holds out by default: validation picks the best epoch, test scores the result once.

The seed notebook's shares, defined once for the split (hcr.data.splits), the data config and the CLI's options. A
module of its own, without numpy, so the CLI's options can show the defaults without loading hcr.data.
"""

VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
