"""Warming a transfer model's head up on frozen features before fine-tuning the whole model (hcr.models.transfer
computes the features and knows the model's parts; hcr.training.cut_cache computes them from cached activations)."""

import keras
import numpy as np

from hcr.console import console
from hcr.models.transfer import head

WARM_UP_EPOCHS = 15


def warm_up_head(
    model: keras.Model,
    features_train: np.ndarray,
    y_train: np.ndarray,
    features_val: np.ndarray,
    y_val: np.ndarray,
    seed: int,
) -> float:
    """Fit `model`'s head on the backbone's features before fine-tuning, so the random head's large gradients do
    not wreck the pretrained blocks; returns the head's validation accuracy."""
    keras.utils.set_random_seed(seed)
    trained = head(model)
    trained.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
    trained.fit(
        features_train,
        y_train,
        validation_data=(features_val, y_val),
        epochs=WARM_UP_EPOCHS,
        batch_size=64,
        callbacks=[stop],
        verbose=0,
    )
    accuracy = float(trained.evaluate(features_val, y_val, verbose=0)[1])
    console.print(f"head warmed up on frozen features: val_acc {accuracy:.4f}", highlight=False)
    return accuracy
