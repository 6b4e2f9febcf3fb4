"""Mixed precision (`hcr train --mixed-precision`): float16 arithmetic with float32 weights, for NVIDIA GPUs.

On a GPU with tensor cores, Keras's "mixed_float16" policy roughly halves activation memory and speeds up
convolutions; on a CPU it only adds casts, so training there is slower, not faster (hence the warning). The policy
is global in Keras, so it is set for one run and put back afterwards: a notebook or a tuning study that trains
again in the same process must not inherit it. Each builder keeps its softmax in float32 (hcr.models), so the
probabilities and the loss stay exact enough to train and to calibrate on.

A model built under the policy stores it in every layer of its checkpoint. Everything that scores or exports a
checkpoint runs `float32_model` of it: the same weights (they are float32 already) computed in float32, which is
what ONNX Runtime and LiteRT then reproduce, and what the run's metrics describe.
"""

import contextlib
from collections.abc import Iterator

import keras

from hcr.console import console

MIXED_POLICY = "mixed_float16"
CPU_WARNING = "[yellow]warning:[/] mixed precision on a machine without a GPU: it runs, but slower than float32"


@contextlib.contextmanager
def precision_policy(mixed: bool) -> Iterator[None]:
    """Build and train under "mixed_float16" while inside (when `mixed`), then restore the policy found before."""
    if not mixed:
        yield
        return
    if not keras.distribution.list_devices("gpu"):
        console.print(CPU_WARNING, highlight=False, soft_wrap=True)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(MIXED_POLICY)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_model(model: keras.Model) -> keras.Model:
    """`model` itself when every layer computes in float32; otherwise a float32 copy with the same weights."""
    if all(layer.compute_dtype == "float32" for layer in _layers(model)):
        return model

    def as_float32(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(model, clone_function=as_float32, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def _layers(model: keras.Model) -> Iterator[keras.layers.Layer]:
    """Every layer of `model`, nested models' layers included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
