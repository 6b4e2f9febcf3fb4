"""Exploratory figures for a dataset: what `hcr data inspect` writes, to look at before training on it."""

from pathlib import Path

import numpy as np

from hcr.atomic import atomic_path
from hcr.data.dataset import LetterData
from hcr.labels import CLASSES, NUM_CLASSES
from hcr.pyplot import pyplot

SAMPLES_PER_CLASS = 12


def write_eda_figures(data: LetterData, out_dir: Path, seed: int = 0) -> list[Path]:
    """Class distribution, random samples per letter, pixel-intensity histogram and mean image per letter."""
    plt = pyplot()
    figures = {
        "class_distribution.png": _class_distribution,
        "samples.png": lambda d, plt: _samples(d, plt, seed),
        "pixel_histogram.png": _pixel_histogram,
        "mean_images.png": _mean_images,
    }
    written = []
    for name, draw in figures.items():
        fig = draw(data, plt)
        with atomic_path(out_dir / name) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(out_dir / name)
    return written


def _class_distribution(data: LetterData, plt):
    fig, ax = plt.subplots(figsize=(11, 4))
    bottom = np.zeros(NUM_CLASSES)
    for i, name in enumerate(data.sources):
        counts = np.bincount(data.y[data.source == i], minlength=NUM_CLASSES)
        ax.bar(CLASSES, counts, bottom=bottom, label=name)
        bottom += counts
    ax.set(title=f"Images per letter ({len(data):,} in all)", xlabel="letter", ylabel="images")
    ax.legend()
    return fig


def _samples(data: LetterData, plt, seed: int):
    rng = np.random.RandomState(seed)
    fig, axes = plt.subplots(NUM_CLASSES, SAMPLES_PER_CLASS, figsize=(SAMPLES_PER_CLASS * 0.6, NUM_CLASSES * 0.6))
    for label, row in enumerate(axes):
        members = np.flatnonzero(data.y == label)
        picks = rng.choice(members, size=min(len(members), SAMPLES_PER_CLASS), replace=False) if len(members) else []
        for j, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(picks):
                ax.imshow(data.x[picks[j]], cmap="gray", vmin=0, vmax=255)
            else:
                ax.set_facecolor("#eee")
        row[0].set_ylabel(CLASSES[label], rotation=0, labelpad=10, fontsize=11, va="center")
    fig.suptitle("Random samples per letter (as the models see them)")
    fig.subplots_adjust(wspace=0.05, hspace=0.05, top=0.965)
    return fig


def _pixel_histogram(data: LetterData, plt):
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, name in enumerate(data.sources):
        counts = np.bincount(data.x[data.source == i].ravel(), minlength=256)
        ax.plot(np.arange(256), counts / max(counts.sum(), 1), label=name)
    ax.set(
        yscale="log",
        title="Pixel intensities (fraction of pixels)",
        xlabel="grey level (0 = background)",
        ylabel="fraction",
    )
    ax.legend()
    return fig


def _mean_images(data: LetterData, plt):
    fig, axes = plt.subplots(2, 13, figsize=(13, 2.4))
    for label, ax in enumerate(axes.ravel()):
        members = data.y == label
        mean = data.x[members].mean(axis=0) if members.any() else np.zeros((28, 28))
        ax.imshow(mean, cmap="magma")
        ax.set_title(CLASSES[label])
        ax.axis("off")
    fig.suptitle("Mean image per letter")
    return fig
