"""End to end, as a person uses it: `hcr serve` in a subprocess, the page in headless Chromium, a letter drawn with
the mouse, the answer read off the page. Screenshots go to out/test-artifacts/ (git-ignored).

Needs Debian's chromium (`make browser` installs it) and Playwright for Python (the dev extra); Playwright's own
browser downloads are never used. Without them these tests skip, saying why.
"""

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from hcr.errors import HcrError
from hcr.inference.predictor import Predictor, resolve_model_path
from hcr.labels import CLASSES
from hcr.serving.app import STATIC_DIR
from tests.realdata import REPO_ROOT
from tests.serving.conftest import as_photo, decode_data_url, png_bytes, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO_ROOT / "out" / "test-artifacts"
PAD = 280  # the canvas's own pixels (index.html)
PEN = 18  # its pen width (app.js)
CELL = PAD / 28  # one pixel of a 28×28 letter on the pad
LEAD = 1.08  # the letter drawn must beat the model's second guess by this factor
ORT_WEB = STATIC_DIR / "ort" / "ort.wasm.min.js"  # ONNX Runtime Web, vendored by `make web`


@pytest.fixture(scope="module")
def served_model(request) -> Path | None:
    """The model the page is tried with: the one shipped with hcr, as a person gets it (None: `hcr serve` with no
    --model); only where this hcr has none yet, the tiny test model, which barely reads (see drawable_letter)."""
    try:
        resolve_model_path(None)
        return None
    except HcrError:
        return request.getfixturevalue("onnx_model_dir")


@pytest.fixture(scope="module")
def server(served_model) -> Iterator[str]:
    """The real server, `hcr serve`, on a free loopback port; its URL."""
    with running_server(*(["--model", str(served_model)] if served_model else [])) as url:
        yield url


def letter_strokes(letter: np.ndarray) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """A 28×28 letter as pen strokes on the pad: one horizontal stroke per run of ink in each row."""
    strokes = []
    for row, ink in enumerate(letter >= 128):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ink.astype(np.int8), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            y = (row + 0.5) * CELL
            strokes.append((((start + 0.5) * CELL, y), ((stop - 0.5) * CELL, y)))
    return strokes


def render_strokes(strokes) -> Image.Image:
    """What the page's canvas holds after those strokes (white round pen on black), to choose a letter with."""
    pad = Image.new("L", (PAD, PAD), 0)
    draw = ImageDraw.Draw(pad)
    for a, b in strokes:
        draw.line([a, b], fill=255, width=PEN)
        for x, y in (a, b):
            draw.ellipse([x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2], fill=255)
    return pad


@pytest.fixture
def ort_web() -> None:
    """The page's in-browser model needs ONNX Runtime Web in the package's static files; the tests of it skip,
    saying why, where `make web` (npm) has not put it there."""
    if not ORT_WEB.is_file():
        pytest.skip(f"in-browser model test skipped: {ORT_WEB} not found; vendor ONNX Runtime Web with `make web`")


@pytest.fixture(scope="module")
def drawable_letter(az_letters, served_model):
    """A real capital, as strokes, that the served model reads right with a clear lead over its second guess, so
    the small differences between Chromium's pen and this simulation of it cannot change the answer. (The tiny
    1-epoch model's probabilities are all near 1/26, so for it a "clear lead" is only a relative one.)"""
    predictor = Predictor(served_model)
    x, y = az_letters
    for letter, label in zip(x, y, strict=True):
        strokes = letter_strokes(letter)
        prediction = predictor.predict_image(render_strokes(strokes))
        (first, p_first), (_, p_second) = prediction.top_k[:2]
        if first == CLASSES[label] and p_first >= LEAD * p_second:
            return first, strokes
    pytest.fail("the served model reads none of the traced real letters with a clear lead; it should read some")


def draw(page, strokes) -> None:
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / page.evaluate("pad.width")  # CSS pixels per canvas pixel (the line pad is wider)

    def at(p):
        return box["x"] + p[0] * scale, box["y"] + p[1] * scale

    for a, b in strokes:
        page.mouse.move(*at(a))
        page.mouse.down()
        page.mouse.move(*at(b), steps=3)
        page.mouse.up()


def shown_answer(page) -> tuple[str, str]:
    page.locator('#result[aria-busy="false"]').wait_for()  # the last answer is in (the page marks it)
    return page.locator("#letter").inner_text(), page.locator("#status").inner_text()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")


def test_drawing_a_letter_shows_what_the_model_reads(chromium, server, drawable_letter, ort_web):
    expected, strokes = drawable_letter
    page = chromium.new_page(viewport={"width": 1000, "height": 800})
    page.goto(server)
    assert page.evaluate("InBrowser.start()")  # the model in the page, once loaded, answers a drawing
    draw(page, strokes)
    letter, status = shown_answer(page)
    screenshot(page, f"serve-drawn-{expected}.png")

    assert letter == expected
    assert expected in status
    assert page.locator("#answered-by").get_attribute("data-where") == "browser"
    assert "in your browser" in page.locator("#answered-by").inner_text()
    canvas = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
    api = httpx.post(f"{server}/v1/predict?model_input=true", json={"image": canvas}).json()
    assert api["letter"] == letter  # the page shows the server's answer for what is on the canvas
    bars = page.locator("#candidates li")
    assert bars.count() == 3
    assert bars.first.locator(".name").inner_text() == letter
    assert bars.first.locator(".pct").inner_text() == f"{round(api['confidence'] * 100)} %"
    seen = page.locator("#seen")
    assert seen.is_visible()
    assert page.evaluate("document.getElementById('seen').naturalWidth") == 28
    assert seen.bounding_box()["width"] >= 28 * 4  # scaled up for people to see
    np.testing.assert_array_equal(decode_data_url(seen.get_attribute("src")), decode_data_url(api["model_input"]))


def test_predictions_update_while_drawing(chromium, server):
    """Without ONNX Runtime Web (not vendored: no `make web`) the page answers through the server, throttled."""
    page = chromium.new_page()
    page.route("**/static/ort/**", lambda route: route.abort())
    page.goto(server)
    assert page.evaluate("InBrowser.start()") is False
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/v1/predict?" in request.url else None)
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for step in range(30):  # a slow vertical stroke, about a second long
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * (0.2 + 0.02 * step))
        page.wait_for_timeout(30)
    during = len(sent)
    page.mouse.up()
    shown_answer(page)
    assert 2 <= during < 30  # throttled: several answers during the stroke, not one per pointer move
    assert page.locator("#candidates li").count() == 3
    assert page.locator("#answered-by").get_attribute("data-where") == "server"
    assert "no in-browser model" in page.locator("#answered-by").inner_text()


def test_clear_by_keyboard_and_upload(chromium, server, az_letters, drawable_letter):
    page = chromium.new_page()
    page.goto(server)
    draw(page, drawable_letter[1])
    shown_answer(page)
    for _ in range(10):  # Tab to the Clear button, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "clear":
            break
    assert page.evaluate("document.activeElement.id") == "clear"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    assert page.locator("#letter").inner_text() == "–"
    assert "Cleared" in page.locator("#status").inner_text()
    assert page.locator("#candidates li").count() == 0
    ink = page.evaluate(
        "Array.from(document.getElementById('pad').getContext('2d').getImageData(0, 0, 280, 280).data)"
        ".filter((v, i) => i % 4 === 0).reduce((a, b) => a + b, 0)"
    )
    assert ink == 0

    photo = as_photo(az_letters[0][7], side=300)  # black ink on white paper, as a scan or a photo
    page.set_input_files("#upload", files=[{"name": "letter.png", "mimeType": "image/png", "buffer": photo}])
    letter, status = shown_answer(page)
    api = httpx.post(f"{server}/v1/predict", json={"image": base64.b64encode(photo).decode()}).json()
    assert letter == api["letter"]
    assert api["letter"] in status
    screenshot(page, "serve-uploaded.png")


def test_phone_sized_viewport(chromium, server, drawable_letter):
    context = chromium.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, has_touch=True)
    page = context.new_page()
    page.goto(server)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out sideways
    box = page.locator("#pad").bounding_box()
    assert 280 <= box["width"] <= 375
    assert page.evaluate("getComputedStyle(document.getElementById('pad')).touchAction") == "none"
    for control in ("#clear", "label[for=upload]"):
        assert page.locator(control).bounding_box()["height"] >= 44  # big enough for a finger
    expected, strokes = drawable_letter
    draw(page, strokes)
    letter, _ = shown_answer(page)
    assert letter == expected
    screenshot(page, "serve-phone.png")
    image = Image.open(io.BytesIO(page.screenshot()))
    assert image.width == 375 * 2

    for control in ("label[for=mode-letter]", "label[for=mode-line]"):
        assert page.locator(control).bounding_box()["height"] >= 44
    page.locator("label[for=mode-line]").tap()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # the wide line pad fits too
    line_pad = page.locator("#pad").bounding_box()
    assert line_pad["width"] <= 375
    assert line_pad["width"] == pytest.approx(3 * line_pad["height"], abs=2)  # the canvas's own shape, not squashed
    screenshot(page, "serve-phone-line.png")
    context.close()


def offline(page, server: str) -> list[str]:
    """Cut `page` off from every host but the server, as on a machine without internet; the URLs it tried to fetch
    elsewhere are collected in the list returned."""
    blocked: list[str] = []

    def route(route) -> None:
        url = route.request.url
        if url.startswith(server) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", route)
    return blocked


def test_api_docs_render_without_internet(chromium, server):
    page = chromium.new_page()
    blocked = offline(page, server)
    page.goto(f"{server}/docs")
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for(timeout=15_000)  # Swagger UI has built the operation list from /openapi.json
    paths = operations.all_inner_texts()
    screenshot(page, "serve-docs.png")
    assert any("/v1/predict" in path for path in paths), paths
    assert any("/v1/read" in path for path in paths), paths
    assert blocked == []  # nothing was even asked of another host


def choose_mode_by_keyboard(page, mode: str) -> None:
    """Tab to the mode switch and pick `mode` with the arrow keys, as a keyboard user would."""
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "mode":
            break
    assert page.evaluate("document.activeElement.name") == "mode"
    assert page.evaluate("getComputedStyle(document.activeElement.nextElementSibling).outlineStyle") != "none"
    while page.evaluate("document.activeElement.value") != mode:
        page.keyboard.press("ArrowRight")


@pytest.fixture(scope="module")
def drawable_line(az_letters, served_model):
    """Three real capitals, as strokes side by side on the line pad (one 280 px cell each), that the served model
    reads right one by one with a clear lead (as drawable_letter)."""
    predictor = Predictor(served_model)
    chosen, strokes = [], []
    for letter, label in zip(*az_letters, strict=True):
        letter_strokes_ = letter_strokes(letter)
        (first, p_first), (_, p_second) = predictor.predict_image(render_strokes(letter_strokes_)).top_k[:2]
        if first == CLASSES[label] and p_first >= LEAD * p_second and first not in chosen:
            shift = PAD * len(chosen)
            strokes += [((a[0] + shift, a[1]), (b[0] + shift, b[1])) for a, b in letter_strokes_]
            chosen.append(first)
        if len(chosen) == 3:
            return "".join(chosen), strokes
    pytest.fail("the served model reads too few traced real letters with a clear lead; it should read some")


def test_reading_a_line_drawn_on_the_page(chromium, server, drawable_line):
    expected, strokes = drawable_line
    page = chromium.new_page(viewport={"width": 1000, "height": 800})
    page.goto(server)
    choose_mode_by_keyboard(page, "line")
    assert page.evaluate("[pad.width, pad.height]") == [3 * PAD, PAD]
    assert page.locator("#seen-figure").is_hidden()  # no single 28×28 image for a line
    sent = []
    page.on("request", lambda request: sent.append(request.url))
    draw(page, strokes)
    text, status = shown_answer(page)
    screenshot(page, "serve-line.png")

    canvas = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
    api = httpx.post(f"{server}/v1/read", json={"image": canvas}).json()
    assert text == api["text"] == expected
    assert f"“{expected}”" in status
    assert not any("/v1/predict" in url for url in sent)
    assert 1 <= sum("/v1/read" in url for url in sent) < len(strokes) / 4  # read at pauses, not at every stroke
    items = page.locator("#candidates li")
    assert items.count() == len(expected)
    for item, character in zip(items.all(), api["characters"], strict=True):
        assert item.locator(".name").inner_text() == character["letter"]
        assert item.locator(".pct").inner_text() == f"{round(character['confidence'] * 100)} %"


def test_an_upload_holding_several_letters_suggests_line_mode(chromium, server, az_letters):
    from tests.lines import compose_line

    x, _ = az_letters
    line = compose_line(x[[0, 10, 20]], np.random.default_rng(0)).image  # three real letters, dark on light
    buffer = io.BytesIO()
    line.save(buffer, format="PNG")
    photo = buffer.getvalue()
    api = httpx.post(f"{server}/v1/read", json={"image": base64.b64encode(photo).decode()}).json()
    assert len(api["characters"]) == 3

    page = chromium.new_page()
    page.goto(server)
    several = page.locator("#several")
    page.set_input_files("#upload", files=[{"name": "word.png", "mimeType": "image/png", "buffer": photo}])
    several.wait_for(state="visible")
    assert "3 letters" in several.inner_text()
    page.locator("#try-line").focus()
    page.keyboard.press("Enter")
    text, _ = shown_answer(page)
    assert page.locator("#mode-line").is_checked()
    assert text == api["text"]
    assert several.is_hidden()

    page.locator("label[for=mode-letter]").click()  # one letter: no hint, once the server has counted its letters
    single = as_photo(x[7], side=200)
    with page.expect_response(lambda response: "/v1/read" in response.url):
        page.set_input_files("#upload", files=[{"name": "a.png", "mimeType": "image/png", "buffer": single}])
    shown_answer(page)
    assert several.is_hidden()


def test_the_page_says_when_an_upload_is_not_a_letter(chromium, tmp_path):
    """With a model that has the not-a-letter class (tests.bar_model: a dash is no letter), the page shows ? and
    the reason, for an upload in letter mode and for the ? of a line."""
    from tests.onnx_models import bar, bar_model, bars_line

    model = bar_model(tmp_path / "bars")
    with running_server("--model", str(model)) as url:
        page = chromium.new_page()
        page.goto(url)
        dash = png_bytes(bar(vertical=False))
        page.set_input_files("#upload", files=[{"name": "dash.png", "mimeType": "image/png", "buffer": dash}])
        letter, status = shown_answer(page)
        assert letter == "?"
        assert status.startswith("Not a letter: it looks like a digit")

        page.locator("label[for=mode-line]").click()
        line = png_bytes(bars_line("|-|"))
        page.set_input_files("#upload", files=[{"name": "line.png", "mimeType": "image/png", "buffer": line}])
        text, status = shown_answer(page)
        assert text == "I?I"
        assert "? is not a letter" in status
        screenshot(page, "serve-not-a-letter.png")


# the traced letters as drawn (~200 px), small (~90 px: upscaled, its pen thinned), and large (~240 px: the pen
# thinner than usual at that size, made broader)
SCALES = (1.0, 0.45, 1.2)
DRAW_AND_READ = """async (drawings) => {
    // each drawing with the page's own pen (app.js's dot and segment), read by the page's own in-browser model
    const answers = [];
    for (const [strokes, scale] of drawings) {
        const c = pad.width / 2; // the letter pad is square: scaled about its centre
        const at = ([x, y]) => ({ x: c + (x - c) * scale, y: c + (y - c) * scale });
        resetPad();
        for (const [a, b] of strokes) { dot(at(a)); segment(at(a), at(b)); }
        const here = await InBrowser.predict(ctx.getImageData(0, 0, pad.width, pad.height));
        answers.push({ ...here, png: pad.toDataURL("image/png") });
    }
    return answers;
}"""


def test_the_model_in_the_browser_answers_as_the_server(chromium, server, az_letters, ort_web):
    """A real letter of each kind drawn with the page's pen at three sizes: the page's own 28×28 and answer for the
    canvas against the server's for the same PNG, all from the server itself (no CDN). The figures are printed
    (docs/browser.md quotes them)."""
    page = chromium.new_page()
    blocked = offline(page, server)
    page.goto(server)
    assert page.evaluate("InBrowser.start()"), page.evaluate("InBrowser.predict(new ImageData(1, 1))")["reason"]
    drawings = [[letter_strokes(letter), scale] for letter in az_letters[0][::2] for scale in SCALES]
    answers = page.evaluate(DRAW_AND_READ, drawings)
    fallbacks = [here["reason"] for here in answers if "reason" in here]
    read = [here for here in answers if "reason" not in here]
    same_pixels, worst, disagreements = 0, 0, []
    for here in read:
        api = httpx.post(f"{server}/v1/predict?model_input=true", json={"image": here["png"]}).json()
        diff = np.abs(np.array(here["letter"]).reshape(28, 28) - decode_data_url(api["model_input"]).astype(int))
        worst = max(worst, int(diff.max()))
        same_pixels += int(diff.max() == 0)
        pair = [(r["letter"], r["status"]) for r in (here["result"], api)]
        if pair[0] != pair[1]:
            disagreements.append(pair)
        else:
            assert here["result"]["confidence"] == pytest.approx(api["confidence"], abs=1e-4)
    times = [here["ms"] for here in read]
    print(
        f"in browser: {len(read)}/{len(answers)} drawings ({len(fallbacks)} to the server: {sorted(set(fallbacks))}); "
        f"28×28 identical to the server's for {same_pixels}/{len(read)}, max abs diff {worst}; answer and status "
        f"differ for {len(disagreements)} {disagreements}; {np.median(times):.1f} ms a letter (median), "
        f"{max(times):.1f} max"
    )
    assert blocked == []
    assert len(read) >= 0.9 * len(answers)
    assert disagreements == []
    assert same_pixels >= 0.9 * len(read)


def test_a_drawing_the_port_does_not_cover_is_answered_by_the_server(chromium, server, drawable_letter, ort_web):
    """A stroke to the pad's edge (the server's paper estimation, not ported): the page asks the server, and says so."""
    page = chromium.new_page()
    page.goto(server)
    page.evaluate("InBrowser.start()")
    draw(page, [*drawable_letter[1], ((0, 5), (40, 5))])
    shown_answer(page)
    answered = page.locator("#answered-by")
    assert answered.get_attribute("data-where") == "server"
    assert "edge" in answered.inner_text()


def synthetic_drawings(letters: np.ndarray) -> list[Image.Image]:
    """Letters as no pen of the page draws them: square-ended, grey (L) pens of 6 to 44 px on the 280 px pad, small
    and large, some blurred to grey edges, some on grey paper, so every path of the port runs (pen thickened and
    thinned, block means before Lanczos, both orders of Pillow's passes, ink darker or lighter than the paper)."""
    drawings = []
    for k, letter in enumerate(letters):
        scale, pen = (1.0, 0.6, 0.35, 0.25, 1.2)[k % 5], (18, 18, 8, 44, 6)[k // 5 % 5]
        offset = (PAD - PAD * scale) / 2 + (k % 7 - 3) * 5
        pad = Image.new("L", (PAD, PAD))
        draw = ImageDraw.Draw(pad)
        for a, b in letter_strokes(letter):
            draw.line([(offset + x * scale, offset + y * scale) for x, y in (a, b)], fill=255, width=pen)
        if k % 13 == 12:  # a blot: a pen far thicker than the datasets', thinned
            draw.ellipse([60, 40, 60 + 100 * scale, 40 + 140 * scale], fill=255)
        if k % 4 == 0:
            pad = pad.resize((PAD // 2, PAD // 2), Image.Resampling.BILINEAR).resize(
                (PAD, PAD), Image.Resampling.BILINEAR
            )
        if k % 6 == 5:  # dark ink on a canvas darker than mid-grey, and light ink on light grey: which side is ink
            pad = pad.point(lambda v: 120 - v * 120 // 255)
        elif k % 6 == 2:
            pad = pad.point(lambda v: 180 + v * 75 // 255)
        drawings.append(pad)
    return drawings


def test_the_port_of_preprocessing_makes_what_preprocess_py_makes(chromium, server, az_letters):
    """preprocess.js against to_letter_array on 52 synthetic drawings: identical 28×28 letters wherever the port
    answers, and the server asked only for what the port leaves out (a drawing at the edge, a frame-like top)."""
    from hcr.inference.preprocess import to_letter_array

    page = chromium.new_page()
    page.goto(server)
    drawings = synthetic_drawings(az_letters[0])
    made = page.evaluate(
        """async ([images, side]) => {
            const c = (await (await fetch("/v1/model/browser")).json()).preprocess;
            return images.map((b64) => {
                const grey = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
                const rgba = new Uint8ClampedArray(4 * grey.length).map((_, i) => (i % 4 === 3 ? 255 : grey[i >> 2]));
                const out = HcrPreprocess.letterArray(rgba, side, side, c);
                return out.letter ? Array.from(out.letter) : out;
            });
        }""",
        [[base64.b64encode(d.tobytes()).decode() for d in drawings], PAD],
    )
    fallbacks = [m["fallback"] for m in made if isinstance(m, dict)]
    for drawing, letter in zip(drawings, made, strict=True):
        if not isinstance(letter, dict):
            np.testing.assert_array_equal(np.array(letter, np.uint8).reshape(28, 28), to_letter_array(drawing))
    assert len(fallbacks) <= len(made) // 5, fallbacks
    expected = {"the drawing touches the pad's edge", "the letter's top row is full"}
    assert {reason.split(",")[0] for reason in fallbacks} <= expected
