"""MobileNetV2 transfer models: real ImageNet weights from a local file, frozen BatchNorm, clear errors."""

import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

from hcr.errors import HcrError
from hcr.models import create_model
from hcr.models.weights import WEIGHTS_ENV, resolve_weights
from tests.realdata import MOBILENET_WEIGHTS


def test_finetune_unfreezes_only_the_top_blocks_and_never_batchnorm():
    model = create_model("mobilenetv2-finetune", weights=str(MOBILENET_WEIGHTS), unfreeze_blocks=3)
    mobilenet = model.get_layer("backbone").layers[-1]
    trainable = {layer.name for layer in mobilenet.layers if layer.trainable and layer.weights}
    assert "block_14_project" in trainable
    assert "block_16_depthwise" in trainable
    assert "Conv_1" in trainable
    assert "block_13_project" not in trainable
    assert "Conv1" not in trainable
    assert not [n for n in trainable if isinstance(mobilenet.get_layer(n), keras.layers.BatchNormalization)]


def test_frozen_model_trains_only_its_head():
    model = create_model("mobilenetv2-frozen", weights=str(MOBILENET_WEIGHTS))
    assert not model.get_layer("backbone").trainable_weights
    assert model.get_layer("head").trainable_weights


def test_pretrained_weights_are_really_loaded():
    """The first conv filters equal the file's, so no silent random initialisation slipped in."""

    model = create_model("mobilenetv2-frozen", weights=str(MOBILENET_WEIGHTS))
    conv1 = model.get_layer("backbone").layers[-1].get_layer("Conv1").get_weights()[0]
    with h5py.File(MOBILENET_WEIGHTS) as f:
        stored = f["Conv1/Conv1/kernel:0"][()]  # Keras-applications layout: layer group / weight name
    np.testing.assert_array_equal(conv1, stored)


def test_missing_weights_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    with pytest.raises(HcrError, match="--weights PATH or set HCR_MOBILENET_WEIGHTS"):
        resolve_weights(None)
    with pytest.raises(HcrError, match="weights file not found"):
        resolve_weights(tmp_path / "nope.h5")
    monkeypatch.setenv(WEIGHTS_ENV, str(MOBILENET_WEIGHTS))
    assert resolve_weights(None) == MOBILENET_WEIGHTS.resolve()
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not an h5 file")
    with pytest.raises(HcrError, match=r"not a Keras weights file \(HDF5\)"):  # refused before any model is built
        create_model("mobilenetv2-frozen", weights=str(junk))
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:  # HDF5, but not MobileNetV2's weights
        f.create_dataset("x", data=[1])
    with pytest.raises(HcrError, match="not MobileNetV2"):
        create_model("mobilenetv2-frozen", weights=str(other))


def test_cli_without_weights_exits_2(shared_data):
    env = {k: v for k, v in __import__("os").environ.items() if k != WEIGHTS_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "hcr", "train", "--model", "mobilenetv2-finetune", "--data-dir", str(shared_data)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 2
    assert "HCR_MOBILENET_WEIGHTS" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("unfreeze_blocks", [10, 16])
def test_the_cut_parts_recompose_the_uncached_model(shared_data, unfreeze_blocks):
    """Fine-tuning on cached activations computes what the whole model computes: upper(lower(x)) equals model(x)
    on real letters, and the upper part trains exactly the model's trainable weights (the layers are shared)."""
    from hcr.data import load_datasets
    from hcr.inference.preprocess import to_model_input
    from hcr.models import transfer

    model = create_model("mobilenetv2-finetune", weights=str(MOBILENET_WEIGHTS), unfreeze_blocks=unfreeze_blocks)
    cut = transfer.cut(model)
    x = to_model_input(load_datasets(["az"], shared_data).x[::100])  # 60 real letters
    uncached = model.predict(x, verbose=0)
    cached = cut.upper.predict(cut.lower.predict(x, verbose=0), verbose=0)
    np.testing.assert_allclose(cached, uncached, atol=1e-5)
    assert {id(v) for v in cut.upper.trainable_weights} == {id(v) for v in model.trainable_weights}
    assert not cut.lower.trainable_weights
    side = {10: 6, 16: 48}[unfreeze_blocks]  # 96 px: block 6 ends at 1/16 of the side, the stem at 1/2
    assert cut.lower.output_shape[1:3] == (side, side)


def test_a_cache_too_large_for_memory_is_not_built(caplog, monkeypatch):
    from hcr.configs import TrainConfig
    from hcr.models import transfer
    from hcr.training import cut_cache
    from hcr.training.cut_cache import fits_in_memory

    monkeypatch.setattr(cut_cache, "available_memory", lambda: 8 * 2**30)  # a 2 GiB budget

    model = create_model(
        "mobilenetv2-finetune", weights=str(MOBILENET_WEIGHTS), input_side=128, unfreeze_blocks=16
    )  # cut after the stem: 64×64×8, 128 KiB an image
    cut = transfer.cut(model)
    assert cut.bytes_per_image == 4 * 64 * 64 * 8
    config = TrainConfig(model="mobilenetv2-finetune", augment=True, augmented_copies=3)
    assert fits_in_memory(cut, 1_000, 200, config)
    assert not fits_in_memory(cut, 10_000, 2_000, config)  # 5.5 GB
    assert "not caching activations" in caplog.text


def test_the_cache_may_take_a_quarter_of_the_memory_available(monkeypatch):
    """The whole pool fine-tuned deep (--preset full) needs a cache of 2.4 GB: on a 24 GiB machine it was refused
    by a fixed 2 GiB cap and every epoch ran the whole model. The cap is what the machine can spare."""
    from hcr.configs import TrainConfig
    from hcr.models import transfer
    from hcr.training import cut_cache

    model = create_model("mobilenetv2-finetune", weights=str(MOBILENET_WEIGHTS), input_side=96, unfreeze_blocks=15)
    cut = transfer.cut(model)
    config = TrainConfig(model="mobilenetv2-finetune")
    needed = (105_596 + 22_628) * cut.bytes_per_image  # the full preset's training and validation parts
    assert 2 * 2**30 < needed < 3 * 2**30
    monkeypatch.setattr(cut_cache, "available_memory", lambda: 20 * 2**30)
    assert cut_cache.fits_in_memory(cut, 105_596, 22_628, config)
    monkeypatch.setattr(cut_cache, "available_memory", lambda: 8 * 2**30)
    assert not cut_cache.fits_in_memory(cut, 105_596, 22_628, config)


def test_no_cut_when_no_block_of_the_backbone_trains():
    """0 blocks unfrozen: only the head trains, so there is no cut to cache at (training runs uncached)."""
    from hcr.models import transfer

    model = create_model("mobilenetv2-finetune", weights=str(MOBILENET_WEIGHTS), input_side=32, unfreeze_blocks=0)
    assert transfer.cut(model) is None
