"""The comparison's test on files: letters no model of the comparison and not the shipped model has seen, drawn as
the files people bring and read as `hcr predict` reads them (hcr.evaluation.on_files).

A comparison ranks by accuracy on the datasets' arrays, which says little about a photo of a pencil letter. So every
model is also scored on these files (the leaderboard's "files acc"), and the exported best model is held against
the shipped one on them: a comparison's best model is worth deploying only if it reads people's files at least as
well as what `hcr predict` already uses.

The letters come from the comparison's pool (its datasets and case) but from neither its training nor its validation
part — so the test part and every image a per-letter sample left out — and from neither part of the shipped model's
own split, which is rebuilt from its model.json and checked against the sizes it recorded. Where that cannot be
rebuilt (its datasets are not in the data folder, or other data is), the shipped model is not compared, and the
report says so.
"""

import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import binomtest

from hcr.configs import DataConfig
from hcr.data.dataset import LetterData
from hcr.data.prepare import as_trained, selected_images
from hcr.data.subset import balanced_subset
from hcr.errors import HcrError
from hcr.evaluation.on_files import LettersAsFiles, letters_as_files, seen_keys, trained_on, unseen
from hcr.inference.predictor import DEFAULT_MODEL_DIR, Predictor, read_metadata

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileTest:
    files: LettersAsFiles
    shipped_excluded: str | None  # why the shipped model cannot be compared on them; None: it can


def file_test(data_config: DataConfig, per_letter: int) -> FileTest:
    """Up to `per_letter` letters of each class, as files, that the comparison's models (trained with `data_config`)
    and the shipped model never trained on nor picked an epoch with."""
    letters, excluded = unseen_letters(data_config, per_letter)
    log.info(
        "test on files: %d letters unseen by the comparison's models%s, drawn as files",
        len(letters),
        "" if excluded else " and the shipped model",
    )
    return FileTest(letters_as_files(np.asarray(letters.x), letters.y, data_config.seed), excluded)


def unseen_letters(data_config: DataConfig, per_letter: int) -> tuple[LetterData, str | None]:
    """Up to `per_letter` letters of each class of the comparison's pool, as stored (labelled as trained), that
    neither its models nor the shipped model saw; and why the shipped model cannot be compared (None: it can)."""
    seen, _ = seen_keys(data_config)
    excluded = None
    try:
        seen |= trained_on(read_metadata(DEFAULT_MODEL_DIR / "model.onnx"), data_config.data_dir)
    except HcrError as e:
        excluded = f"{e}"
        log.warning("the shipped model is not compared on files: %s", excluded)
    pool = selected_images(replace(data_config, per_class=None))
    candidates = pool.take(unseen(pool.x, seen))
    picked, _ = balanced_subset(candidates.y, per_letter, data_config.seed)
    return as_trained(candidates.take(picked), replace(data_config, canonical=False)), excluded


def against_shipped(test: FileTest, best_model: Predictor) -> str:
    """One sentence for the report and the screen: how the exported model and the shipped one read the same files,
    both through `hcr predict`'s own path (a not-a-letter answer or a file read as blank counts as wrong), and
    whether a difference is more than chance (McNemar's exact test on the files only one of them reads right)."""
    files = test.files
    if test.shipped_excluded is not None:
        return f"The shipped model is not compared on files: {test.shipped_excluded}."
    if not len(files):
        return "The shipped model is not compared on files: no letter is left that neither model has seen."
    best, shipped = _right(files, best_model), _right(files, Predictor())
    only_best, only_shipped = int((best & ~shipped).sum()), int((shipped & ~best).sum())
    differ = only_best + only_shipped
    p = binomtest(only_best, differ).pvalue if differ else 1.0
    chance = (
        f"McNemar p = {p:.2g} over the {differ} files only one of them reads right"
        if differ
        else ("they read the same files right")
    )
    if best.mean() >= shipped.mean():
        verdict = f"at least as well as the shipped model ({chance})"
    else:
        beyond = "beyond chance" if p < 0.05 else "within chance at this size"
        verdict = (
            f"WORSE than the shipped model (by {shipped.mean() - best.mean():.2%}, {beyond}: {chance}); "
            "`hcr predict` users are better served by the shipped model"
        )
    return (
        f"On {len(files):,} letters drawn as files (photos, shadows, boxes, ruled lines...; letters neither model "
        f"trained on), the exported model reads {best.mean():.2%} and the shipped model {shipped.mean():.2%}: the "
        f"exported model reads people's files {verdict}."
    )


def _right(files: LettersAsFiles, model: Predictor) -> np.ndarray:
    """bool [N]: whether `model` answers each file with its letter, as `hcr predict` would."""
    return files.predictor_answers(model) == files.y
