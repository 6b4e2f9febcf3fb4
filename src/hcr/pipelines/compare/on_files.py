"""The comparison's test on files: letters no model of the comparison and not the shipped model has seen, drawn as
the files people bring and read as `hcr predict` reads them (hcr.evaluation.on_files).

A comparison ranks by accuracy on the datasets' arrays, which says little about a photo of a pencil letter. So every
model is also scored on these files (the leaderboard's "files acc"), and the exported best model is held against
the shipped one on them: a comparison's best model is worth deploying only if it reads people's files at least as
well as what `hcr predict` already uses.

The letters come from the comparison's pool (its datasets and case) but from neither its training nor its validation
part — so the test part and every image a per-letter sample left out — and from neither part of the shipped model's
own split, which is rebuilt from its model.json. Where that cannot be rebuilt (its datasets are not in the data
folder), the shipped model is not compared, and the report says so.
"""

import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from hcr.configs import DataConfig
from hcr.data.dataset import LetterData
from hcr.data.prepare import as_trained, selected_images
from hcr.data.splits import make_split
from hcr.data.subset import balanced_subset
from hcr.errors import HcrError
from hcr.evaluation.on_files import LettersAsFiles, image_key, letters_as_files, trained_on, unseen
from hcr.inference.predictor import Predictor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileTest:
    files: LettersAsFiles
    shipped_excluded: str | None  # why the shipped model cannot be compared on them; None: it can


def file_test(data_config: DataConfig, per_letter: int) -> FileTest:
    """Up to `per_letter` letters of each class, as files, that the comparison's models (trained with `data_config`)
    and the shipped model never trained on nor picked an epoch with."""
    letters, excluded = unseen_letters(data_config, per_letter)
    log.info("test on files: %d letters no model has seen, drawn as files", len(letters))
    return FileTest(letters_as_files(np.asarray(letters.x), letters.y, data_config.seed), excluded)


def unseen_letters(data_config: DataConfig, per_letter: int) -> tuple[LetterData, str | None]:
    """Up to `per_letter` letters of each class of the comparison's pool, as stored (labelled as trained), that
    neither its models nor the shipped model saw; and why the shipped model cannot be compared (None: it can)."""
    trained, config = selected_images(data_config), data_config
    split = make_split(trained, config.split, config.val_fraction, config.test_fraction, config.seed)
    seen = {image_key(image) for image in trained.x[np.concatenate([split.train, split.val])]}
    excluded = None
    try:
        seen |= trained_on(Predictor().metadata_, config.data_dir)
    except HcrError as e:
        excluded = f"its training data could not be rebuilt here ({e})"
        log.warning("the shipped model is not compared on files: %s", excluded)
    pool = selected_images(replace(config, per_class=None))
    candidates = pool.take(unseen(pool.x, seen))
    picked, _ = balanced_subset(candidates.y, per_letter, config.seed)
    return as_trained(candidates.take(picked), replace(config, canonical=False)), excluded


def against_shipped(test: FileTest, best_model: Predictor) -> str:
    """One sentence for the report: how the exported model and the shipped one read the same files."""
    files = test.files
    if test.shipped_excluded is not None:
        return f"The shipped model is not compared on files: {test.shipped_excluded}."
    best = files.score_predictor(best_model)["accuracy"]
    shipped = files.score_predictor(Predictor())["accuracy"]
    margin = 2 * math.sqrt(max(shipped * (1 - shipped), 1e-4) / max(len(files), 1))  # ~95 % of a binomial's spread
    verdict = (
        "at least as well as the shipped model"
        if best >= shipped
        else f"WORSE than the shipped model (by {shipped - best:.2%}; about ±{margin:.1%} is noise at this size): "
        "`hcr predict` users are better served by the shipped model"
    )
    return (
        f"On {len(files):,} test letters drawn as files (photos, shadows, boxes, ruled lines...; letters neither "
        f"model trained on), the exported model reads {best:.2%} and the shipped model {shipped:.2%}: the exported "
        f"model reads people's files {verdict}."
    )
