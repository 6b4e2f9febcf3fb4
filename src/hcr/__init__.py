"""hcr: handwritten character recognition for the letters A–Z.

Importing the package does no work: heavy libraries load inside the commands that need them.
"""

__version__ = "0.1.0"
