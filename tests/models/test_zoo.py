"""Contract tests over every registered model: adding a model to the zoo adds it here."""

import numpy as np
import pytest

from hcr.data import load_datasets
from hcr.errors import HcrError
from hcr.inference.preprocess import to_model_input
from hcr.models import create_model, get_model_entry, list_models
from tests.realdata import AZ_CSV, MOBILENET_WEIGHTS


@pytest.fixture(scope="module")
def letters():
    data = load_datasets([f"az:{AZ_CSV}"])
    rng = np.random.RandomState(0)
    picks = rng.choice(len(data), size=64, replace=False)
    return to_model_input(data.x[picks]), data.y[picks]


@pytest.mark.parametrize("name", list_models())
def test_model_trains_saves_and_reloads(name, letters, tmp_path):
    import keras

    x, y = letters
    model = create_model(name, weights=str(MOBILENET_WEIGHTS) if get_model_entry(name).needs_weights else None)
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (len(x), 26)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # two steps
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_unknown_model_lists_the_zoo():
    with pytest.raises(HcrError, match="unknown model 'resnet'; available: baseline-cnn"):
        get_model_entry("resnet")


def test_builders_take_hyperparameters():
    small = create_model("regularized-cnn", dense_units=32, dropout=None)
    large = create_model("regularized-cnn", dense_units=512)
    assert small.count_params() < large.count_params()


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_model_can_learn_one_batch_by_heart(name, letters):
    """The oldest check of a model and its loss: 32 real letters, seen over and over, are all learnt. A model that
    cannot (a head cut off from its inputs, a frozen layer that should train, labels shifted) fails here in
    seconds, long before a comparison shows it as merely weak. Dropout off: it is there to stop exactly this."""
    import keras

    keras.utils.set_random_seed(0)
    x, y = letters[0][:32], letters[1][:32]
    entry = get_model_entry(name)
    model = create_model(
        name,
        weights=str(MOBILENET_WEIGHTS) if entry.needs_weights else None,
        **({"dropout": 0.0} if "dropout" in entry.builder_defaults() else {}),
    )

    def learnt() -> bool:
        return bool((model.predict(x, verbose=0).argmax(axis=1) == y).all())

    class StopWhenLearnt(keras.callbacks.Callback):
        """Every 5 epochs, stop once the batch is known by heart as inference reads it (BatchNorm's moving
        statistics, not the batch's): most models are there long before the cap."""

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            if epoch % 5 == 4 and learnt():
                self.model.stop_training = True

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=60, verbose=0, callbacks=[StopWhenLearnt()])  # BN CNNs need > 30
    assert learnt()
