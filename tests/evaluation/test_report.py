"""The evaluation figures are real PNGs, and the HTML report parses and carries every figure inside itself."""

import numpy as np
import pytest
from PIL import Image

from hcr.data import load_datasets
from hcr.evaluation.leaderboard import HEADERS, LeaderboardRow, formatted, rank, write_leaderboard
from hcr.evaluation.metrics import normalize_rows, score_predictions
from hcr.evaluation.plots import confusion_figure, learning_curves_figure, misclassified_figure, save_figure
from hcr.evaluation.report import ModelSection, ReportContent, render_report
from tests.evaluation.pages import embedded_files, parse_images
from tests.realdata import AZ_CSV


@pytest.fixture(scope="module")
def section(tmp_path_factory) -> ModelSection:
    """Real letters with made-up predictions (a model that reads every third letter as the next one); the
    figures are drawn once for the module (a few seconds)."""
    tmp_path = tmp_path_factory.mktemp("figures")
    with pytest.MonkeyPatch.context() as patch:  # module-scoped: the per-test parse cache is not set up yet
        patch.setenv("HCR_CACHE_DIR", str(tmp_path / "parse-cache"))
        data = load_datasets([f"az:{AZ_CSV}"])
    picks = np.random.RandomState(0).choice(len(data), 300, replace=False)
    x, y = data.x[picks], data.y[picks]
    y_pred = np.where(np.arange(len(y)) % 3 == 0, (y + 1) % 26, y)
    y_prob = np.full((len(y), 26), 0.01)
    y_prob[np.arange(len(y)), y_pred] = 0.75
    scores = score_predictions(y, y_prob)
    matrix = np.array(scores["confusion_matrix"])
    history = [{"epoch": e, "accuracy": 0.5 + e / 20, "val_accuracy": 0.45 + e / 20, "loss": 2 / e, "val_loss": 2.2 / e}
               for e in range(1, 6)]  # fmt: skip
    figures = [
        save_figure(confusion_figure(matrix, normalized=False, title="raw"), tmp_path / "confusion_matrix.png"),
        save_figure(
            confusion_figure(normalize_rows(matrix), normalized=True, title="rows"),
            tmp_path / "confusion_matrix_normalized.png",
        ),
        save_figure(learning_curves_figure(history, "curves"), tmp_path / "learning_curves.png"),
        save_figure(misclassified_figure(x, y, y_prob, "mistakes"), tmp_path / "misclassified.png"),
    ]
    evaluation = {
        **scores,
        "size": {"parameters": 1234, "file_bytes": 56_789},
        "speed": {"batch_images_per_second": 1500.0, "single_image_ms": 2.5},
    }
    return ModelSection("baseline-cnn", evaluation, figures, extra={"epochs": "5"})


@pytest.mark.slow
def test_figures_are_pngs_of_a_readable_size(section):
    for path in section.figures:
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert min(image.size) >= 300, (path.name, image.size)
    with Image.open(section.figures[0]) as heatmap:
        assert heatmap.width >= 1000  # 26 columns of annotated cells need the room


def test_no_mistakes_means_no_mistake_grid():
    y = np.arange(26)
    assert misclassified_figure(np.zeros((26, 28, 28), np.uint8), y, np.eye(26), "none") is None


@pytest.mark.slow
def test_report_parses_and_embeds_every_figure(section, tmp_path):
    eda = [save_figure(learning_curves_figure([{"epoch": 1, "accuracy": 0.5}], "eda"), tmp_path / "eda.png")]
    rows = [["1", "baseline-cnn <b>", "90.00%"]]  # a value that must be escaped
    content = ReportContent(
        title="hcr model comparison",
        subtitle="a test",
        leaderboard_headers=HEADERS[:3],
        leaderboard_rows=rows,
        best_row=0,
        data_facts={"images": "300"},
        eda_figures=eda,
        models=[section],
        skipped={"mobilenetv2-frozen": "no weights file"},
        best_note="Best: baseline-cnn",
    )
    page = render_report(content)
    sources = parse_images(page)
    figure_files = [*eda, *section.figures]
    assert len(sources) == len(figure_files)
    assert embedded_files(sources) == {path.read_bytes() for path in figure_files}
    assert "baseline-cnn &lt;b&gt;" in page
    assert "<b>" not in page
    assert "mobilenetv2-frozen" in page
    assert "no weights file" in page
    assert "$" not in page.replace("$HCR", "")  # every template placeholder was filled


def test_leaderboard_ranks_by_validation_accuracy(tmp_path):
    def row(model, val, params):
        return LeaderboardRow(model, val, 0.9, 0.88, params, params * 12, 65.0, 0.0, 1000.0, 2.0, 10, f"runs/{model}")

    rows = rank([row("small", 0.91, 100), row("large", 0.93, 900), row("tie-small", 0.91, 50)])
    assert [r.model for r in rows] == ["large", "tie-small", "small"]  # ties: the smaller model first
    assert formatted(rows)[0][:4] == ["1", "large", "93.00%", "90.00%"]
    csv_path, md_path = write_leaderboard(rows, tmp_path, notes={"tuned-cnn": "not tuned"})
    lines = md_path.read_text().splitlines()
    assert lines[0] == "| " + " | ".join(HEADERS) + " |"
    assert lines[2].startswith("| 1 | large | 93.00% |")
    assert "`tuned-cnn` not ranked: not tuned" in lines[-1]
    assert csv_path.read_text().splitlines()[1].startswith("large,0.93,")


@pytest.mark.browser
def test_report_fits_a_phone_screen(chromium):
    """At 375 px the page itself never scrolls sideways: a table wider than the screen (the leaderboard's 11
    columns, a long fact) scrolls inside its own box, and stays whole."""
    y = np.arange(26).repeat(2)
    y_prob = np.eye(26)[(y + (np.arange(52) % 4 == 0)) % 26] * 0.9 + 0.1 / 26
    evaluation = {
        **score_predictions(y, y_prob),
        "size": {"parameters": 319_738, "file_bytes": 1_290_000},
        "speed": {"batch_images_per_second": 5040.0, "single_image_ms": 0.4},
    }
    run = "runs/20250101T000000Z-regularized-cnn-with-a-long-folder-name/checkpoints/best.keras"
    row = ["1", "regularized-cnn", "92.42%", "90.95%", "0.901", "319,738", "1.3 MB", "2.0 min", "3.6 min", "5,040",
           "0.40"]  # fmt: skip
    content = ReportContent(
        title="hcr model comparison",
        subtitle="a phone-sized check",
        leaderboard_headers=list(HEADERS),
        leaderboard_rows=[row],
        best_row=0,
        data_facts={"sources": "az:/a/rather/long/path/to/the/data/A_Z Handwritten Data.csv"},
        eda_figures=[],
        models=[ModelSection("regularized-cnn", evaluation, [], extra={"run folder": run})],
    )
    page = chromium.new_page(viewport={"width": 375, "height": 740})
    page.set_content(render_report(content))
    page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")  # the per-letter tables too
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    leaderboard = page.locator("table.leaderboard")
    assert leaderboard.locator("th").count() == len(HEADERS)
    assert page.evaluate("document.querySelector('table.leaderboard').parentElement.scrollWidth") > 375  # scrolls
    page.close()


def test_seeds_combine_into_mean_and_sd_and_rank_by_the_mean():
    """A model's seeds make one row: mean ± sd (n − 1) of its accuracies, and the best seed's run; the ranking uses
    the mean, so a model with one lucky seed does not beat one that is better on average."""
    from hcr.evaluation.leaderboard import combine_seeds

    def row(model, seed, val, test):
        return LeaderboardRow(model, val, test, 0.8, 100, 1200, 60.0, 0.0, 1000.0, 2.0, 5, f"runs/{model}-{seed}", seed)

    lucky = combine_seeds([row("lucky", 0, 0.95, 0.90), row("lucky", 1, 0.80, 0.86)])
    steady = combine_seeds([row("steady", 0, 0.90, 0.91), row("steady", 1, 0.91, 0.92)])
    assert (lucky.seeds, lucky.seed, lucky.run) == (2, 0, "runs/lucky-0")  # the best seed's run
    assert lucky.val_accuracy == pytest.approx(0.875)
    assert lucky.val_accuracy_sd == pytest.approx(0.10607, abs=1e-5)  # sample sd: |0.95 − 0.80| / √2
    assert [r.model for r in rank([lucky, steady])] == ["steady", "lucky"]
    assert formatted([steady])[0][2:4] == ["90.50% ± 0.71%", "91.50% ± 0.71%"]
    assert combine_seeds([row("one", 3, 0.9, 0.9)]) == row("one", 3, 0.9, 0.9)  # one seed: the run's own row
