"""The model zoo (Keras 3): a table of names, summaries and recipes that loads without Keras, and the builders.

hcr models
"""

from hcr.models.registry import ModelEntry, create_model, get_model_entry, list_models

__all__ = ["ModelEntry", "create_model", "get_model_entry", "list_models"]
