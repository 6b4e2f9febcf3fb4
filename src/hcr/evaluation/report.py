"""One self-contained HTML page for a comparison: leaderboard, data, every model's scores and figures.

hcr compare --preset quick --data-dir ../shared/data      # → out/compare/report.html

Figures are embedded as base64 data URIs, so the page can be mailed or archived as a single file. The page is a
string.Template (templates/report.html): the project has no template engine, and the few loops needed are plainer
in Python, which also escapes every value it inserts.
"""

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from hcr import __version__
from hcr.atomic import write_text_atomic
from hcr.evaluation.formatting import accuracy_per_group, prf

FIGURE_CAPTIONS = {
    "learning_curves.png": "Learning curves: accuracy and loss per epoch, training against validation.",
    "confusion_matrix_normalized.png": "Confusion matrix, each row in % of the true letter's test images.",
    "confusion_matrix.png": "Confusion matrix in images (log colour scale).",
    "misclassified.png": "The most confident mistakes on the test split.",
    "risk_coverage.png": "Risk–coverage on held-out data: the error rate among the answers kept as fewer are kept; "
    "dots where the calibrated low-confidence threshold puts it.",
    "class_distribution.png": "Images per letter and source.",
    "samples.png": "Random samples of every letter.",
    "pixel_histogram.png": "Pixel intensities.",
    "mean_images.png": "The mean image of every letter.",
}


@dataclass(frozen=True)
class ModelSection:
    name: str
    evaluation: dict[str, Any]  # evaluation.json of the model's run
    figures: list[Path]
    extra: dict[str, str] = field(default_factory=dict)  # more rows for its table (training time, run folder…)


@dataclass(frozen=True)
class ReportContent:
    title: str
    subtitle: str
    leaderboard_headers: Sequence[str]
    leaderboard_rows: Sequence[Sequence[str]]
    best_row: int | None  # index into leaderboard_rows
    data_facts: dict[str, str]
    eda_figures: list[Path]
    models: list[ModelSection]
    skipped: dict[str, str] = field(default_factory=dict)  # model → why it is not in the comparison
    best_note: str = ""  # plain text: where the exported model and its card are


def data_uri(path: Path) -> str:
    """The file inlined as data:image/png;base64,… (only PNG figures are written by hcr)."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_report(content: ReportContent) -> str:
    template = Template(resources.files("hcr.evaluation").joinpath("templates/report.html").read_text("utf-8"))
    return template.substitute(
        title=_e(content.title),
        subtitle=_e(content.subtitle),
        navigation=" ".join(
            f'<a href="#{anchor}">{_e(label)}</a>'
            for anchor, label in [("leaderboard", "Leaderboard"), ("data", "Data")]
            + [(_anchor(m.name), m.name) for m in content.models]
        ),
        leaderboard=_table(
            content.leaderboard_headers, content.leaderboard_rows, content.best_row, "leaderboard", label="Leaderboard"
        ),
        skipped=_skipped(content.skipped),
        best=f'<p class="note">{_e(content.best_note)}</p>' if content.best_note else "",
        data=_key_values(content.data_facts, "Data") + "".join(_figure(path) for path in content.eda_figures),
        models="\n".join(_model_section(section) for section in content.models),
        version=_e(__version__),
        generated=_e(datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    )


def write_report(content: ReportContent, path: Path) -> Path:
    write_text_atomic(path, render_report(content))
    return path


def _model_section(section: ModelSection) -> str:
    summary = section.evaluation
    facts = {
        "test accuracy": f"{summary['accuracy']:.2%} of {summary['n']:,} images",
        "macro precision / recall / F1": prf(summary["macro"]),
        "weighted precision / recall / F1": prf(summary["weighted"]),
        **accuracy_per_group(summary),
        "most confused (true → predicted)": ", ".join(
            f"{p['true']} → {p['predicted']} ({p['count']})" for p in summary["confused_pairs"][:6]
        )
        or "none",
        "parameters": f"{summary['size']['parameters']:,}",
        "model file": f"{summary['size']['file_bytes'] / 1e6:.1f} MB",
        "inference": f"{summary['speed']['batch_images_per_second']:,.0f} images/s in batches, "
        f"{summary['speed']['single_image_ms']:.1f} ms per single image",
        **section.extra,
    }
    letters = sorted(summary["per_letter"].items())
    per_letter = _table(
        ["letter", "precision", "recall", "F1", "images"],
        [
            [letter, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", f"{s['support']:,}"]
            for letter, s in letters
        ],
        label=f"Per-letter report of {section.name}",
    )
    return (
        f'<h3 id="{_anchor(section.name)}">{_e(section.name)}</h3>\n{_key_values(facts, section.name)}\n'
        + "".join(_figure(path) for path in section.figures)
        + f"<details><summary>Per-letter report</summary>{per_letter}</details>"
    )


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    highlight: int | None = None,
    css_class: str = "numbers",
    *,
    label: str,
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        ('<tr class="best">' if i == highlight else "<tr>") + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
        for i, row in enumerate(rows)
    )
    return _scrolling(f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>', label)


def _key_values(facts: dict[str, str], label: str) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts.items())
    return _scrolling(f'<table class="facts">{rows}</table>', label)


def _scrolling(table: str, label: str) -> str:
    """A table in a box of the page's width that scrolls sideways when the table is wider (the leaderboard's 11
    columns on a phone), so the page itself never does. The box takes keyboard focus, so it can be scrolled with
    the arrow keys, and is named for screen readers."""
    return f'<div class="scroll" role="region" tabindex="0" aria-label="{_e(label)}">{table}</div>'


def _skipped(skipped: dict[str, str]) -> str:
    if not skipped:
        return ""
    items = "".join(f"<li><code>{_e(name)}</code>: {_e(why)}</li>" for name, why in skipped.items())
    return f'<div class="note">Not in this comparison:<ul>{items}</ul></div>'


def _figure(path: Path) -> str:
    caption = FIGURE_CAPTIONS.get(path.name, path.stem.replace("_", " "))
    return (
        f'<figure><img src="{data_uri(path)}" alt="{_e(caption)}" loading="lazy">'
        f"<figcaption>{_e(caption)}</figcaption></figure>\n"
    )


def _anchor(name: str) -> str:
    return "model-" + "".join(c if c.isalnum() else "-" for c in name)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
