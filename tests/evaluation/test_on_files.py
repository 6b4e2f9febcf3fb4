"""Test letters drawn as the files people bring and read as `hcr predict` reads them (hcr.evaluation.on_files), and
the comparison's use of them: no letter any model has seen, and the exported model held against the shipped one."""

import numpy as np
import pytest

from hcr.configs import DataConfig
from hcr.data import load_datasets
from hcr.data.prepare import selected_images
from hcr.data.splits import make_split
from hcr.errors import HcrError
from hcr.evaluation.on_files import CONDITION_NAMES, LettersAsFiles, image_key, letters_as_files, trained_on
from hcr.inference.predictor import Predictor
from hcr.pipelines.compare.on_files import FileTest, against_shipped, file_test, unseen_letters


@pytest.fixture(scope="module")
def az_letters(shared_data):
    data = load_datasets(["az"], shared_data)
    picks = np.concatenate([np.flatnonzero(data.y == label)[:5] for label in range(26)])
    return np.asarray(data.x[picks]), data.y[picks]


def test_letters_drawn_as_files_are_read_as_hcr_predict_reads_them(az_letters):
    x, y = az_letters
    files = letters_as_files(x, y, seed=0)
    assert len(files) == 130
    assert set(files.condition) == set(range(len(CONDITION_NAMES)))  # every condition, in turn
    assert files.read.mean() >= 0.97  # files a person reads at once are not reported blank
    score = files.score_predictor(Predictor())
    assert set(score["per_condition"]) == set(CONDITION_NAMES)
    # the shipped model reads them (capitals it mostly trained on: this checks the files are readable letters, not
    # how well it reads unseen ones, which compare and bench/realworld.py measure)
    assert score["accuracy"] >= 0.85
    # the same seed draws the same files; another seed other files of the same letters
    again = letters_as_files(x, y, seed=0)
    np.testing.assert_array_equal(again.x, files.x)
    assert not np.array_equal(letters_as_files(x, y, seed=1).x, files.x)


def test_a_file_read_as_blank_counts_as_wrong_and_probabilities_score_by_the_likeliest_letter():
    files = LettersAsFiles(
        x=np.zeros((3, 28, 28), np.uint8), read=np.array([True, True, False]), y=np.array([0, 1, 2]),
        condition=np.array([0, 1, 2]),
    )  # fmt: skip
    probabilities = np.eye(27, dtype=np.float32)[[0, 5]]  # right, wrong; a 27th class (not-a-letter) is ignored
    probabilities[0, 26] = 2.0
    score = files.score_probabilities(lambda x: probabilities[: len(x)])
    assert score["accuracy"] == pytest.approx(1 / 3)
    assert score["unread"] == pytest.approx(1 / 3)
    assert score["per_condition"] == {CONDITION_NAMES[0]: 1.0, CONDITION_NAMES[1]: 0.0, CONDITION_NAMES[2]: 0.0}


@pytest.mark.slow
def test_the_shipped_models_split_is_rebuilt_only_from_the_data_it_trained_on(shared_data, tmp_path):
    """Its model.json records its data settings and the sizes of its validation and test parts: rebuilt from the
    shared data, the split has those sizes, and every image outside its test part is among the seen ones. Other data
    (a folder holding only some of its datasets) or other recorded sizes are refused, never silently used."""
    metadata = Predictor().metadata_
    seen = trained_on(metadata, shared_data)
    settings = metadata["data"]
    pool = load_datasets(settings["datasets"], shared_data)
    distinct, test_n = len({image_key(image) for image in pool.x}), metadata["metrics"]["test"]["n"]
    assert distinct - test_n <= len(seen) <= len(pool) - test_n  # (a dataset may hold an image twice)
    other_sizes = {**metadata, "metrics": {**metadata["metrics"], "val": {"n": metadata["metrics"]["val"]["n"] + 1}}}
    with pytest.raises(HcrError, match="not the data it trained on"):
        trained_on(other_sizes, shared_data)
    (tmp_path / "az").symlink_to(shared_data / "az")
    with pytest.raises(HcrError):
        trained_on(metadata, tmp_path)  # only one of its datasets is there


@pytest.mark.slow
def test_the_comparisons_files_hold_no_letter_any_model_has_seen(shared_data):
    config = DataConfig(datasets=("az", "emnist-letters"), data_dir=str(shared_data), per_class=20)
    letters, excluded = unseen_letters(config, per_letter=4)
    assert excluded is None
    assert np.bincount(letters.y, minlength=26).tolist() == [4] * 26
    trained = selected_images(config)
    split = make_split(trained, config.split, config.val_fraction, config.test_fraction, config.seed)
    compared = {image_key(image) for image in trained.x[np.concatenate([split.train, split.val])]}
    shipped = trained_on(Predictor().metadata_, shared_data)
    keys = {image_key(image) for image in letters.x}
    assert len(keys) == len(letters)
    assert not keys & compared
    assert not keys & shipped
    test = file_test(config, per_letter=4)
    assert len(test.files) == 4 * 26
    np.testing.assert_array_equal(test.files.y, letters.y)
    sentence = against_shipped(test, Predictor())  # the shipped model against itself: never worse
    assert "at least as well as the shipped model" in sentence
    assert f"On {len(test.files)} letters drawn as files" in sentence
    assert "they read the same files right" in sentence


@pytest.mark.slow
def test_without_the_shipped_models_data_it_is_not_compared(shared_data, tmp_path):
    (tmp_path / "az").symlink_to(shared_data / "az")  # a data folder holding Kaggle A–Z only
    config = DataConfig(datasets=("az",), data_dir=str(tmp_path), per_class=20)
    letters, excluded = unseen_letters(config, per_letter=2)
    assert excluded
    assert len(letters) == 52  # the comparison's own unseen letters are still drawn and scored
    test = FileTest(letters_as_files(np.asarray(letters.x), letters.y), excluded)
    assert against_shipped(test, Predictor()).startswith("The shipped model is not compared on files")
    empty = FileTest(letters_as_files(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)), None)
    assert "no letter is left" in against_shipped(empty, Predictor())
