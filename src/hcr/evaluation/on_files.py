"""Test letters made into the files people bring and read back the way `hcr predict` reads a file: the accuracy a
user gets, which a model's score on the datasets' clean arrays overstates.

    hcr compare --preset quick      # the leaderboard's "files acc", and the exported model against the shipped one

Each letter is drawn under one of hcr.evaluation.realworld's conditions (a photo of pencil on grey paper, a shadow,
specks on a page, a printed box, a ruled line, ...), taking them in turn, each with a generator of its own, so every
model of a comparison reads the same files. A file is then read as `hcr predict` reads it (decoded, preprocessed into
a 28×28 letter; a file reported blank or unreadable has no letter and counts as wrong).

A comparison scores its models on letters of its pool outside their training and validation parts that the shipped
model never trained on or picked its epoch with either (hcr.pipelines.compare.on_files), so that the shipped model
can be held against them on the same files without an advantage.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hcr.configs import DataConfig
from hcr.data.splits import Split
from hcr.errors import HcrError
from hcr.evaluation.realworld import CONDITIONS
from hcr.inference.predictor import Predictor, load_letter
from hcr.inference.preprocess import ImageError, open_image
from hcr.labels import CLASSES

CONDITION_NAMES = tuple(CONDITIONS)
SEED_SALT = 17  # the files' generators are seeded apart from the split's and the training's seeds
NO_ANSWER = -1


@dataclass(frozen=True)
class LettersAsFiles:
    """What `hcr predict` made of each file: `x[i]` the 28×28 letter where `read[i]`, the true labels `y` (0..25)
    and the condition each file was drawn under (an index into CONDITION_NAMES)."""

    x: np.ndarray
    read: np.ndarray
    y: np.ndarray
    condition: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def score(self, answers: np.ndarray) -> dict[str, Any]:
        """Accuracy of `answers` (a class index per file, NO_ANSWER for none), overall and per condition, and the
        share of files read as blank or unreadable."""
        right = (answers == self.y) & self.read
        return {
            "n": len(self),
            "accuracy": float(right.mean()) if len(self) else float("nan"),
            "unread": float((~self.read).mean()) if len(self) else float("nan"),
            "per_condition": {
                name: float(right[self.condition == i].mean())
                for i, name in enumerate(CONDITION_NAMES)
                if (self.condition == i).any()
            },
        }

    def score_probabilities(self, predict_proba: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
        """The score of a model given as `predict_proba` (uint8 [N, 28, 28] → [N, n_classes]; a run's Keras model):
        its likeliest letter, whether or not it has a not-a-letter class."""
        answers = np.full(len(self), NO_ANSWER)
        if self.read.any():
            answers[self.read] = predict_proba(self.x[self.read])[:, : len(CLASSES)].argmax(axis=1)
        return self.score(answers)

    def score_predictor(self, predictor: Predictor) -> dict[str, Any]:
        """The score of an exported model, answering exactly as `hcr predict` does (not-a-letter included)."""
        return self.score(self.predictor_answers(predictor))

    def predictor_answers(self, predictor: Predictor) -> np.ndarray:
        """int [N]: an exported model's letter for each file as `hcr predict` answers (NO_ANSWER: none)."""
        answers = np.full(len(self), NO_ANSWER)
        if self.read.any():
            predictions = predictor.predict_loaded(list(self.x[self.read]), top_k=1)
            answers[self.read] = [CLASSES.index(p.letter) if p.letter else NO_ANSWER for p in predictions]
        return answers


def letters_as_files(x: np.ndarray, y: np.ndarray, seed: int = 0) -> LettersAsFiles:
    """Letters (uint8 [N, 28, 28] as the datasets store them, labels 0..25) drawn as files and read back."""
    letters, read = np.zeros_like(x), np.zeros(len(y), dtype=bool)
    condition = np.arange(len(y)) % len(CONDITIONS)
    for i, (letter, which) in enumerate(zip(x, condition, strict=True)):
        rng = np.random.default_rng([SEED_SALT, seed, i])
        try:
            loaded = load_letter(open_image(CONDITIONS[CONDITION_NAMES[which]](np.asarray(letter), rng)))
        except ImageError:
            continue
        if isinstance(loaded, np.ndarray):
            letters[i], read[i] = loaded, True
    return LettersAsFiles(letters, read, np.asarray(y).astype(np.int64), condition)


def image_key(image: np.ndarray) -> bytes:
    """A digest of an image's pixels: the same image in two datasets or two splits has the same key."""
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()


def unseen(x: np.ndarray, seen: set[bytes]) -> np.ndarray:
    """Indices of the images of `x` whose keys are not among `seen`."""
    return np.array([i for i, image in enumerate(x) if image_key(image) not in seen], dtype=np.int64)


def seen_keys(config: DataConfig) -> tuple[set[bytes], Split]:
    """The keys of the images a model trained with `config` trained on or picked its epoch with (the training and
    validation parts of its split), and that split."""
    from hcr.data.prepare import selected_images
    from hcr.data.splits import make_split

    data = selected_images(config)
    split = make_split(data, config.split, config.val_fraction, config.test_fraction, config.seed)
    return {image_key(data.x[i]) for part in (split.train, split.val) for i in part}, split


def trained_on(model_json: dict[str, Any], data_dir: Path | str | None) -> set[bytes]:
    """The keys of every image an exported model trained on or picked its epoch with, rebuilt in `data_dir` from the
    data settings its model.json records, and checked against the sizes of the validation and test parts it
    recorded. An error when that fails (its datasets are missing, or the folder holds other data than it trained on,
    e.g. the full downloads where it trained on samples): then nothing can be said about which letters it has seen."""
    try:
        config = DataConfig.from_dict({**model_json["data"], "data_dir": data_dir and str(data_dir)})
        recorded = {part: int(model_json["metrics"][part]["n"]) for part in ("val", "test")}
    except (KeyError, TypeError, ValueError) as e:
        raise HcrError(f"its model.json holds no data settings hcr can read ({type(e).__name__}: {e})") from None
    seen, split = seen_keys(config)
    rebuilt = {"val": len(split.val), "test": len(split.test)}
    if rebuilt != recorded:
        raise HcrError(
            f"its split rebuilt here has {rebuilt['val']:,} validation and {rebuilt['test']:,} test images where it "
            f"recorded {recorded['val']:,} and {recorded['test']:,}: this data folder is not the data it trained on"
        )
    return seen
