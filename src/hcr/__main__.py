"""`python -m hcr` is the same as the `hcr` command."""

from hcr.cli import main

main()
