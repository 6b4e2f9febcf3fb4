"""MobileNetV2 (ImageNet, alpha 0.35) transfer learning: a frozen feature extractor, or fine-tuned top blocks.

The models take the same 28×28×1 letters in 0..1 as the CNNs and do MobileNetV2's input work themselves
(resize, grey → 3 channels, scale to -1..1), so every model in the zoo has one input convention and the exported
model needs no special preprocessing. Each is built as two named parts, `backbone` and `head`, so training can
compute the frozen backbone's features once and fit only the head on them.

The weights come from a local file (these machines cannot download): `--weights PATH` or $HCR_MOBILENET_WEIGHTS.
BatchNorm layers always stay frozen: fine-tuning them with MobileNetV2's momentum of 0.999 lets the moving
statistics lag the batch statistics and wrecks held-out accuracy (see ../shared/models/README.md).
"""

from pathlib import Path

import keras
from keras import layers

from hcr.errors import HcrError
from hcr.models.cnn import INPUT_SHAPE
from hcr.models.weights import ALPHA, resolve_weights

N_BLOCKS = 16  # block_1 … block_16 in Keras's MobileNetV2


def build_backbone(weights: str | Path | None, input_side: int) -> keras.Model:
    """28×28×1 in 0..1 → 1280 ImageNet features (global average pooled)."""
    weights_path = resolve_weights(weights)
    inputs = keras.Input(INPUT_SHAPE)  # [N, 28, 28, 1]
    x = layers.Resizing(input_side, input_side, interpolation="bilinear")(inputs)  # [N, side, side, 1]
    x = layers.Concatenate()([x, x, x])  # [N, side, side, 3]
    x = layers.Rescaling(2.0, offset=-1.0)(x)  # 0..1 → -1..1, MobileNetV2's preprocess_input
    try:
        mobilenet = keras.applications.MobileNetV2(
            input_shape=(input_side, input_side, 3),
            alpha=ALPHA,
            include_top=False,
            pooling="avg",
            weights=str(weights_path),
        )
    except (OSError, ValueError) as e:
        raise HcrError(f"{weights_path}: not MobileNetV2 alpha {ALPHA} no-top weights ({e})") from None
    outputs = mobilenet(x)  # [N, 1280]
    return keras.Model(inputs, outputs, name="backbone")


def build_head(num_classes: int, n_features: int, dense_units: int, dropout: float, l2: float = 0.0) -> keras.Model:
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input((n_features,))
    x = layers.Dropout(dropout)(inputs) if dropout else inputs
    if dense_units:
        x = layers.Dense(dense_units, activation="relu", kernel_regularizer=regularizer)(x)
        x = layers.Dropout(dropout)(x) if dropout else x
    # float32 under mixed precision too, as the CNNs' (hcr.models.cnn)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="head")


def compose(backbone: keras.Model, head: keras.Model, name: str) -> keras.Model:
    inputs = keras.Input(INPUT_SHAPE)
    return keras.Model(inputs, head(backbone(inputs)), name=name)


def split_backbone(backbone: keras.Model) -> tuple[keras.Model, keras.Model]:
    """(lower, middle): the backbone cut just before its first trainable layer, so that the frozen `lower` part
    (letters → activations [N, h, w, c]) can run once per image and only `middle` (those activations → the
    features) runs at every step. Both parts share the backbone's layers: training `middle` trains the backbone."""
    mobilenet = backbone.layers[-1]
    first = next(layer for layer in mobilenet.layers if layer.trainable_weights)  # e.g. block_7_expand
    preprocess = keras.Model(backbone.input, backbone.layers[-2].output)  # resize, grey → 3 channels, -1..1
    frozen = keras.Model(mobilenet.input, first.input)
    inputs = keras.Input(INPUT_SHAPE)
    lower = keras.Model(inputs, frozen(preprocess(inputs)), name="lower")
    middle = keras.Model(first.input, mobilenet.output, name="middle")
    return lower, middle


def set_trainable_blocks(backbone: keras.Model, unfreeze_blocks: int) -> None:
    """Freeze the backbone except its top `unfreeze_blocks` inverted-residual blocks and the final 1×1 conv;
    BatchNorm layers stay frozen (in inference mode) whatever the setting."""
    if unfreeze_blocks == 0:
        backbone.trainable = False
        return
    mobilenet = backbone.layers[-1]
    first_trainable = N_BLOCKS - unfreeze_blocks + 1
    backbone.trainable = True
    for layer in mobilenet.layers:
        if layer.name.startswith("block_"):
            trainable = int(layer.name.split("_")[1]) >= first_trainable
        else:
            trainable = layer.name in ("Conv_1", "Conv_1_bn", "out_relu")
        layer.trainable = trainable and not isinstance(layer, layers.BatchNormalization)


def build_transfer_model(
    *,
    num_classes: int,
    weights: str | Path | None,
    input_side: int,
    dense_units: int,
    dropout: float,
    unfreeze_blocks: int,
    name: str,
    l2: float = 0.0,
) -> keras.Model:
    if not 0 <= unfreeze_blocks <= N_BLOCKS:
        raise HcrError(f"unfreeze_blocks must be 0..{N_BLOCKS}, got {unfreeze_blocks}")
    backbone = build_backbone(weights, input_side)
    set_trainable_blocks(backbone, unfreeze_blocks)
    head = build_head(num_classes, backbone.output_shape[-1], dense_units, dropout, l2)
    return compose(backbone, head, name)


def mobilenetv2_frozen(
    *, num_classes: int, weights: str | None = None, input_side: int = 96, dense_units: int = 256, dropout: float = 0.3
) -> keras.Model:
    return build_transfer_model(
        num_classes=num_classes, weights=weights, input_side=input_side, dense_units=dense_units, dropout=dropout,
        unfreeze_blocks=0, name="mobilenetv2_frozen",
    )  # fmt: skip


def mobilenetv2_finetune(
    *,
    num_classes: int,
    weights: str | None = None,
    input_side: int = 96,
    dense_units: int = 256,
    dropout: float = 0.3,
    unfreeze_blocks: int = 10,
    l2: float = 0.0,  # on the head's dense layers
) -> keras.Model:
    return build_transfer_model(
        num_classes=num_classes, weights=weights, input_side=input_side, dense_units=dense_units, dropout=dropout,
        unfreeze_blocks=unfreeze_blocks, name="mobilenetv2_finetune", l2=l2,
    )  # fmt: skip
