"""A folder of images, one sub-folder per letter, made from real letters the way people save them."""

import errno
import os

import numpy as np
import pytest
from PIL import Image

from hcr.data import load_datasets
from hcr.inference.preprocess import to_letter_array
from hcr.labels import CLASSES
from tests.realdata import AZ_CSV


def _variants(image: np.ndarray) -> dict[str, Image.Image]:
    """One real 28×28 letter as people would hand it to hcr."""
    black_on_white = Image.fromarray(255 - image)
    big = black_on_white.resize((300, 300), Image.Resampling.BICUBIC)
    canvas = Image.new("L", (640, 400), 255)
    canvas.paste(big, (20, 70))  # off-centre with wide margins
    rgba = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    rgba.putalpha(Image.fromarray(image).resize((280, 280), Image.Resampling.BICUBIC))  # ink opaque, paper clear
    return {
        "original.png": Image.fromarray(image),
        "black_on_white.bmp": black_on_white,
        "big_offcentre.png": canvas,
        "photo.jpg": big.convert("RGB"),
        "transparent.png": rgba,
    }


@pytest.fixture(scope="module")
def real_letters():
    data = load_datasets([f"az:{AZ_CSV}"])
    rng = np.random.RandomState(0)
    picks = [rng.choice(np.flatnonzero(data.y == label)) for label in range(0, 26, 5)]  # A F K P U Z
    return data.x[picks], data.y[picks]


def test_folder_loader_reads_every_variant_as_the_same_letter(tmp_path, real_letters):
    images, labels = real_letters
    for image, label in zip(images, labels, strict=True):
        folder = tmp_path / (CLASSES[label].lower() if label % 2 else CLASSES[label])  # either case works
        folder.mkdir()
        for name, variant in _variants(image).items():
            variant.save(folder / name)
    data = load_datasets([f"folder:{tmp_path}"])
    n_variants = len(_variants(images[0]))
    assert len(data) == len(images) * n_variants
    assert data.sources == (f"folder:{tmp_path}",)
    np.testing.assert_array_equal(np.bincount(data.y, minlength=26)[labels], n_variants)
    for label in labels:
        loaded = data.x[data.y == label].astype(np.float64)
        reference = loaded.mean(axis=0)
        for letter in loaded:
            assert np.corrcoef(letter.ravel(), reference.ravel())[0, 1] > 0.9


def test_preprocessing_keeps_the_datasets_geometry(real_letters):
    """A letter already in the 28×28 convention comes back centred, bright on dark, long side INK_BOX."""
    for image in real_letters[0]:
        out = to_letter_array(Image.fromarray(image))
        assert out.dtype == np.uint8
        assert out.shape == (28, 28)
        assert out[0].max() == 0
        assert out[-1].max() == 0
        rows, cols = np.flatnonzero(out.max(1) > 64), np.flatnonzero(out.max(0) > 64)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in range(20, 24)
        assert abs((rows[0] + rows[-1]) / 2 - 13.5) <= 1.5
        again = to_letter_array(Image.fromarray(out))  # already canonical: preprocessing must be stable
        assert np.corrcoef(again.ravel(), out.ravel())[0, 1] > 0.97


def test_ignores_sub_folders_that_are_not_letters(tmp_path, real_letters, caplog):
    (tmp_path / "A").mkdir()
    Image.fromarray(real_letters[0][0]).save(tmp_path / "A" / "a.png")
    (tmp_path / "misc").mkdir()
    Image.fromarray(real_letters[0][1]).save(tmp_path / "misc" / "b.png")
    data = load_datasets([f"folder:{tmp_path}"])
    assert len(data) == 1
    assert "ignoring sub-folder 'misc'" in caplog.text


def _save(folder, images) -> None:
    folder.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i}.png")


def test_an_unreadable_letter_folder_is_reported_and_its_letter_has_no_images(
    tmp_path, real_letters, monkeypatch, caplog
):
    """`C/` with mode 000 stops everyone but root, and tests run as root: the listing's own call to os.scandir is
    made to fail the way the OS fails it for another user."""
    images = real_letters[0]
    _save(tmp_path / "A", images[:2])
    _save(tmp_path / "C", images[2:4])
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(tmp_path / "C"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    data = load_datasets([f"folder:{tmp_path}"])
    assert len(data) == 2
    assert (data.y == 0).all()
    assert f"{tmp_path}: skipped 1 folder that cannot be read: {tmp_path / 'C'} (Permission denied)" in caplog.text
    assert f"{tmp_path}: 0 images for letter C (folder not readable)" in caplog.text


def test_a_letter_that_ends_up_with_no_images_is_warned_about(tmp_path, real_letters, caplog):
    images = real_letters[0]
    _save(tmp_path / "A", images[:2])
    _save(tmp_path / "B", images[2:3])
    (tmp_path / "B" / "0.png").write_bytes((tmp_path / "B" / "0.png").read_bytes()[:60])  # its only image, broken
    (tmp_path / "D").mkdir()  # empty
    data = load_datasets([f"folder:{tmp_path}"])
    assert len(data) == 2
    assert f"{tmp_path}: 0 images for letter D (empty folder)" in caplog.text
    assert f"{tmp_path}: 0 images for letter B (no file is a readable letter image)" in caplog.text
