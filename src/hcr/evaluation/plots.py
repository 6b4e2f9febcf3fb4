"""The figures of an evaluation: confusion matrices, learning curves and the worst mistakes, as PNG files.

Figures are built with matplotlib's object API (`Figure`, no pyplot): no global state, no GUI backend, nothing to
close, so evaluating many models in one process neither leaks memory nor depends on a display.
"""

from pathlib import Path

import numpy as np

from hcr.atomic import atomic_path
from hcr.errors import MissingExtraError
from hcr.labels import CLASSES

DPI = 110
MISCLASSIFIED_COLUMNS = 8
MAX_MISCLASSIFIED = 40


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("train", "matplotlib") from None
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI)
    return path


def confusion_figure(matrix: np.ndarray, normalized: bool, title: str):
    """A 26×26 heatmap, true letter down the side, predicted along the top; zero cells left blank.

    The colour scale is compressed (log for counts, square root for fractions) because the diagonal holds ~90 %
    of the mass: on a linear scale every mistake would be the same pale colour."""
    import seaborn as sns
    from matplotlib.colors import LogNorm, PowerNorm
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    matrix = np.asarray(matrix)
    if normalized:
        values = matrix * 100  # per cent of the true letter's images
        labels = np.where(values >= 0.5, np.round(values).astype(int).astype(str), "")
        norm, colorbar = PowerNorm(gamma=0.5, vmin=0, vmax=100), "% of the true letter's images"
    else:
        values = matrix
        labels = np.where(matrix > 0, matrix.astype(str), "")
        norm, colorbar = LogNorm(vmin=1, vmax=max(int(matrix.max()), 2)), "images (log scale)"
    fig = _figure(11, 9.5)
    ax = fig.add_subplot()
    sns.heatmap(
        values,
        mask=labels == "",
        ax=ax,
        norm=norm,
        cmap="Blues",
        annot=labels,
        fmt="",
        annot_kws={"fontsize": 7.5},
        xticklabels=CLASSES,
        yticklabels=CLASSES,
        square=True,
        linewidths=0.3,
        linecolor="#eeeeee",
        cbar_kws={"label": colorbar, "shrink": 0.8},
    )
    if not normalized:  # plain numbers on the log scale (1, 10, 100), not 10⁰ and 2×10⁰
        colorbar_axis = ax.collections[0].colorbar.ax.yaxis
        colorbar_axis.set_major_formatter(FormatStrFormatter("%g"))
        colorbar_axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("predicted letter")
    ax.set_ylabel("true letter")
    ax.tick_params(axis="both", labelsize=10, length=0)
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(title)
    return fig


def learning_curves_figure(history: list[dict[str, float]], title: str):
    """Accuracy and loss per epoch, training against validation, with the epoch the best checkpoint came from."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(11, 4)
    epochs = [row["epoch"] for row in history]
    best = max(history, key=lambda row: row.get("val_accuracy", -1.0))["epoch"]
    for ax, metric in zip(fig.subplots(1, 2), ("accuracy", "loss"), strict=True):
        for prefix, label in (("", "training"), ("val_", "validation")):
            values = [row.get(prefix + metric, np.nan) for row in history]
            ax.plot(epochs, values, marker="o", markersize=3, label=label)
        ax.axvline(best, color="grey", linestyle="--", linewidth=1, label=f"best checkpoint (epoch {best:g})")
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return fig


def misclassified_figure(x: np.ndarray, y_true: np.ndarray, y_prob: np.ndarray, title: str):
    """The most confident mistakes (true → predicted, confidence): the errors a threshold would not catch.

    Returns None when there are no mistakes."""
    y_pred = y_prob.argmax(axis=1)
    confidence = y_prob.max(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    if len(wrong) == 0:
        return None
    picks = wrong[np.argsort(-confidence[wrong], kind="stable")][:MAX_MISCLASSIFIED]
    n_rows = -(-len(picks) // MISCLASSIFIED_COLUMNS)
    fig = _figure(MISCLASSIFIED_COLUMNS * 1.3, n_rows * 1.55 + 0.4)
    axes = np.atleast_1d(fig.subplots(n_rows, MISCLASSIFIED_COLUMNS, squeeze=False)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, i in zip(axes, picks, strict=False):
        ax.imshow(x[i], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{CLASSES[y_true[i]]} → {CLASSES[y_pred[i]]}  {confidence[i]:.0%}", fontsize=9)
    fig.suptitle(f"{title}: true → predicted, confidence ({len(picks)} of {len(wrong)} mistakes)")
    return fig


def risk_coverage_figure(curves: dict[str, tuple[np.ndarray, np.ndarray, float, float]], title: str):
    """Risk–coverage curves (hcr.evaluation.flagging): per named set, (coverage [N], error rate [N], and the point
    the chosen threshold gives): how far the error rate of the answers kept falls as more answers are flagged."""
    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    for name, (coverage, risk, point_coverage, point_risk) in curves.items():
        (line,) = ax.plot(coverage, risk * 100, label=f"{name} (n={len(coverage):,})")
        ax.plot(point_coverage, point_risk * 100, "o", color=line.get_color())
    ax.set_xlabel("coverage (share of answers not flagged)")
    ax.set_ylabel("error rate among answers not flagged (%)")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
