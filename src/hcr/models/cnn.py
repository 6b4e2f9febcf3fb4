"""Convolutional networks for 28×28 letters: the seed's baseline and a regularized, deeper variant."""

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)


def build_cnn(
    *,
    num_classes: int,
    filters: tuple[int, ...] = (32, 64, 128),
    convs_per_block: int = 1,
    padding: str = "same",
    batch_norm: bool = False,
    dense_units: int = 128,
    dropout: float = 0.0,
    conv_dropout: float = 0.0,
    l2: float = 0.0,
    name: str = "cnn",
) -> keras.Model:
    """Blocks of 3×3 convolutions, each block ending in 2×2 max-pooling, then one dense layer and softmax."""
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(INPUT_SHAPE)  # [N, 28, 28, 1] in 0..1
    x = inputs
    for n_filters in filters:
        for _ in range(convs_per_block):
            x = layers.Conv2D(n_filters, 3, padding=padding, use_bias=not batch_norm, kernel_regularizer=regularizer)(x)
            if batch_norm:  # momentum 0.9: the moving statistics catch up within an epoch, so val_accuracy
                x = layers.BatchNormalization(momentum=0.9)(x)  # is meaningful from the first epochs
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)  # halves the side
        if conv_dropout:
            x = layers.Dropout(conv_dropout)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu", kernel_regularizer=regularizer)(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    # float32 even under mixed precision (hcr.training.precision): a float16 softmax rounds small probabilities to 0
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)  # [N, num_classes]
    return keras.Model(inputs, outputs, name=name)


def baseline_cnn(*, num_classes: int, dense_units: int = 128) -> keras.Model:
    # "same" padding keeps a 3×3×128 map for the dense layer (valid padding shrinks it to 1×1): 90.5 % against
    # 87.2 % dev-test accuracy for the same recipe
    return build_cnn(num_classes=num_classes, dense_units=dense_units, name="baseline_cnn")


def regularized_cnn(
    *,
    num_classes: int,
    filters: tuple[int, ...] = (32, 64, 128),
    convs_per_block: int = 1,
    dense_units: int = 256,
    dropout: float = 0.3,
    conv_dropout: float = 0.0,
    l2: float = 5e-5,
) -> keras.Model:
    # One conv per block: on 2 CPU cores two per block learn more per epoch but run 2.5× slower, and within the
    # 5-minute budget the extra epochs win (bench/train_accuracy.py).
    return build_cnn(
        num_classes=num_classes,
        filters=tuple(filters),
        convs_per_block=convs_per_block,
        batch_norm=True,
        dense_units=dense_units,
        dropout=dropout,
        conv_dropout=conv_dropout,
        l2=l2,
        name="regularized_cnn",
    )
