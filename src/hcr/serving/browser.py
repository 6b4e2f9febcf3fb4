"""What the draw-a-letter page needs to run the model itself (static/inbrowser.js): where the model file is, how to
interpret its output, and the constants of the part of preprocess.py that a drawing on the page's canvas goes
through, read from preprocess.py itself so the JavaScript port has no copies of its own that could drift.

The port covers a canvas on plain paper (one level all round its border): the ink map, the letter's box with its
specks rule, the pen correction, the Lanczos resize and the centring. It answers only where it is exact: for a
drawing in which preprocess.py could find a printed frame or a ruled line (steps it does not port), or a canvas
larger than WORK_SIDE, the page asks the server instead; those conditions are read from these constants too. The
second look at unsure answers (hcr.inference.second_look) is ported too, with the model's own settings.
"""

from typing import Any

from hcr.inference import preprocess
from hcr.inference.predictor import NOT_A_LETTER_REASON, Predictor
from hcr.serving.schemas import BrowserModel

MODEL_FILE_URL = "/v1/model.onnx"


def preprocess_constants() -> dict[str, Any]:
    """The constants the JavaScript port of preprocess.py reads; `version` tells it whether it is a port of this
    preprocessing at all (it answers nothing for another version)."""
    return {
        "version": preprocess.PREPROCESS_VERSION,
        "side": preprocess.SIDE,
        "ink_box": preprocess.INK_BOX,
        "work_side": preprocess.WORK_SIDE,
        "ink_threshold": preprocess.INK_THRESHOLD,
        "min_contrast": preprocess.MIN_CONTRAST,
        "frame_depth": preprocess.FRAME_DEPTH,
        "frame_inside": preprocess.FRAME_INSIDE,
        "near_gap": preprocess.NEAR_GAP,
        "far_mass": preprocess.FAR_MASS,
        "sliver": preprocess.SLIVER,
        "glyph_passes": preprocess.GLYPH_PASSES,
        "frame_cover": preprocess.FRAME_COVER,
        "line_span": preprocess.LINE_SPAN,
        "stroke_side": preprocess.STROKE_SIDE,
        "stroke_range": list(preprocess.STROKE_RANGE),
        "thin_pen_width": preprocess.THIN_PEN_WIDTH,
        "max_pen_radius": preprocess.MAX_PEN_RADIUS,
    }


def browser_model(predictor: Predictor) -> BrowserModel:
    """The page's description of `predictor`: the same classes and thresholds the server answers with."""
    return BrowserModel(
        model_url=MODEL_FILE_URL,
        onnx_sha256=predictor.metadata_["onnx_sha256"],
        classes=list(predictor.classes_),
        n_letters=len(predictor.letters_),
        threshold=predictor.threshold_,
        not_a_letter_threshold=predictor.not_a_letter_threshold_,
        not_a_letter_message=NOT_A_LETTER_REASON,
        second_look=predictor.second_look_,
        preprocess=preprocess_constants(),
    )
