"""The model zoo (Keras 3). Importing this package registers every model.

hcr models
"""

from hcr.models import cnn, mobilenet  # noqa: F401  (importing registers the models)
from hcr.models.registry import ModelEntry, create_model, get_model_entry, list_models, register_model

__all__ = ["ModelEntry", "create_model", "get_model_entry", "list_models", "register_model"]
