"""The JSON shapes of the HTTP API: one place, so the OpenAPI docs at /docs and the responses cannot disagree."""

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["ok", "low-confidence", "not-a-letter", "blank", "error"]
CharacterStatus = Literal["ok", "low-confidence", "not-a-letter"]


class ImageBody(BaseModel):
    """A JSON request: the image as base64 text, bare or as a data URL (what a canvas's `toDataURL()` gives)."""

    image: str = Field(
        description="a PNG/JPEG/… file as base64, or a data URL such as 'data:image/png;base64,iVBOR…'",
        examples=["data:image/png;base64,iVBORw0KGgo…"],
    )


class Candidate(BaseModel):
    letter: str
    probability: float = Field(ge=0.0, le=1.0)


class LetterResult(BaseModel):
    """What the model made of one letter image; a blank image is a result (status 'blank'), not an error."""

    letter: str | None = Field(description="the most likely letter; null when the image is blank or not a letter")
    confidence: float = Field(
        ge=0.0, le=1.0, description="the model's probability of `letter` (not-a-letter: of the likeliest letter)"
    )
    status: Status = Field(
        description="'low-confidence' below the model's calibrated threshold; 'not-a-letter' (models trained with "
        "out-of-scope examples) for a digit, a scribble or several glyphs"
    )
    message: str | None = Field(default=None, description="why, for 'not-a-letter', 'blank' and 'error'")
    top_k: list[Candidate] = Field(description="the most likely letters, best first (letters only)")
    model_input: str | None = Field(
        default=None,
        description="with ?model_input=true: the 28×28 image the model saw, as a PNG data URL (null when blank)",
    )


class CharacterResult(BaseModel):
    """One character of a line: what it was read as (a letter, or not a letter: a ? in the text), and where it is."""

    letter: str | None = Field(description="null when the character is not a letter")
    confidence: float = Field(ge=0.0, le=1.0)
    status: CharacterStatus
    message: str | None = Field(default=None, description="why, for 'not-a-letter'")
    top_k: list[Candidate]
    box: tuple[int, int, int, int] = Field(description="its ink's left, top, right, bottom in the uploaded image")
    space_before: bool = Field(description="a word gap separates it from the letter on its left")
    line: int = Field(ge=0, description="the line it is on, 0 the top one")


class ReadResult(BaseModel):
    """Lines of capitals, read top to bottom and left to right; a blank image is a result (status 'blank', empty
    text)."""

    text: str = Field(
        description="the letters, ? for a character that is not a letter, a space at each word gap, a newline between "
        "lines"
    )
    status: Literal["ok", "low-confidence", "blank"] = Field(
        description="'low-confidence' if any character is low-confidence or not a letter"
    )
    message: str | None = Field(default=None, description="why, for 'blank'")
    characters: list[CharacterResult]


class Health(BaseModel):
    status: Literal["ok"]
    model: str = Field(description="the model being served")


class ModelInfo(BaseModel):
    """The model card: the metadata written by `hcr export` (classes, input convention, metrics, source run)."""

    name: str
    classes: list[str]
    threshold: float = Field(description="below this confidence a prediction is reported as 'low-confidence'")
    metadata: dict[str, Any]
    card: str | None = Field(default=None, description="MODEL_CARD.md beside the model, when there is one")


class BrowserModel(BaseModel):
    """What the draw-a-letter page needs to run the model in the browser, with the server's own thresholds."""

    model_url: str = Field(description="the model.onnx file the server runs")
    onnx_sha256: str
    classes: list[str] = Field(description="the model's output columns: the letters, then not-a-letter if it has it")
    n_letters: int = Field(description="how many of the classes are letters (they come first)")
    threshold: float = Field(description="below this confidence a prediction is 'low-confidence'")
    not_a_letter_threshold: float = Field(description="not-a-letter is answered only this sure of it")
    not_a_letter_message: str = Field(description="the message of status 'not-a-letter'")
    second_look: dict[str, Any] | None = Field(
        description="which answers are read again from tilted copies of the letter, and how (model.json's "
        "second_look); null for a model exported without it"
    )
    preprocess: dict[str, Any] = Field(description="the preprocessing's version and the constants its port reads")


class ErrorBody(BaseModel):
    detail: str = Field(description="what is wrong with the request, in one line")
