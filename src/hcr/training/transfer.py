"""Transfer-learning steps: features of a frozen backbone computed once, and a head fitted on them.

Running a frozen MobileNetV2 over every image at every epoch would cost minutes per epoch on 2 cores; its output
never changes, so the head trains on the cached features in seconds instead.
"""

import keras
import numpy as np

from hcr.console import console

FEATURE_BATCH = 256
WARM_UP_EPOCHS = 15


def extract_features(backbone: keras.Model, x: np.ndarray, what: str) -> np.ndarray:
    """float32 [N, n_features]: the frozen backbone's output for every image, in batches."""
    with console.status(f"Computing {backbone.output_shape[-1]} backbone features for {len(x):,} {what} images…"):
        return backbone.predict(x, batch_size=FEATURE_BATCH, verbose=0)


def warm_up_head(
    model: keras.Model, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, seed: int
) -> float:
    """Fit `model`'s head on frozen features before fine-tuning, so the random head's large gradients do not
    wreck the pretrained blocks; returns the head's validation accuracy."""
    backbone, head = model.get_layer("backbone"), model.get_layer("head")
    features_train = extract_features(backbone, x_train, "training")
    features_val = extract_features(backbone, x_val, "validation")
    keras.utils.set_random_seed(seed)
    head.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
    head.fit(
        features_train,
        y_train,
        validation_data=(features_val, y_val),
        epochs=WARM_UP_EPOCHS,
        batch_size=64,
        callbacks=[stop],
        verbose=0,
    )
    accuracy = float(head.evaluate(features_val, y_val, verbose=0)[1])
    console.print(f"head warmed up on frozen features: val_acc {accuracy:.4f}", highlight=False)
    return accuracy
