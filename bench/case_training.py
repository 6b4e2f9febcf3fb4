"""Which training reads lower-case letters too without losing capitals: upper-only, case-folded, or case-aware.

    python -m bench.case_training prepare --out /tmp/caseruns              # load, split 70/15/15, preprocess once
    python -m bench.case_training train upper --out /tmp/caseruns --epochs 6 --train-share 0.35
    python -m bench.case_training train fold-bars --out /tmp/caseruns --epochs 6 --train-share 0.35
    python -m bench.case_training train case52 --out /tmp/caseruns --epochs 6 --train-share 0.35
    python -m bench.case_training evaluate --out /tmp/caseruns

Every variant is scored on the same held-out test images: one stratified 70/15/15 split (seed 0) of every image of
the five datasets, whatever its case, so that capitals, lower case and bars are all in it. Variants differ only in
which training images they use and how those are labelled:

- upper: today's `--case upper` (capitals, and unknown-case letters whose lower case looks the same);
- fold-bars: `--case fold --capitals`, every L of lower or unknown case that is a bar labelled I;
- case52: 52 classes (A–Z, a–z); an unknown-case image's target is both cases of its letter (partial-label loss),
  folded to 26 after training as p(letter) ∝ p(upper) + α·p(lower), α picked on validation.

All train the same model (compact-cnn, its recipe: Adam 2e-3, batch 128, rotation/shift/zoom, pen width 0.5) for the
same epochs on the same share of the training part, every image preprocessed as a file is (`--canonical`); the last
epoch is scored. Bars are measured on real images (I and L that `hcr.data.capitals.bar_mask` calls bars) and on
straight bars drawn into files; the cursive proxy is lower case rendered from handwriting-style fonts, through
`hcr.inference.preprocess.to_letter_array` as `hcr predict` reads a file (fonts are only ever scored, never trained on).
"""

import argparse
import io
import json
import os
from pathlib import Path

import numpy as np
from bench.paths import SHARED_DATA

DATASETS = ("az", "emnist-letters", "emnist-byclass", "emnist-bymerge", "nist-sd19")
HANDWRITING_FONTS = ("dancing", "breip", "femke", "bwht", "fifthhorseman", "comic")
ALPHAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def prepare(out: Path, data_dir: Path) -> None:
    """Load every image, split it once, and store the images as a file would show them (minutes: once)."""
    from hcr.data import load_datasets, make_split
    from hcr.data.capitals import bar_mask
    from hcr.inference.preprocess import to_letter_arrays

    data = load_datasets(DATASETS, data_dir)
    split = make_split(data, "stratified", 0.15, 0.15, seed=0)
    is_bar = np.zeros(len(data), dtype=bool)
    i_or_l = np.flatnonzero(np.isin(data.y, [8, 11]))  # I, L
    is_bar[i_or_l] = bar_mask(data.x[i_or_l])  # on the strokes as stored, as --capitals measures them
    np.savez(
        out / "data.npz", x=data.x, canonical=to_letter_arrays(data.x), y=data.y, case=data.case,
        source=data.source, sources=np.array(data.sources), is_bar=is_bar,
        train=split.train, val=split.val, test=split.test,
    )  # fmt: skip
    print(f"{len(data)} images; split {split.sizes()}")


def load(out: Path) -> dict[str, np.ndarray]:
    with np.load(out / "data.npz") as saved:
        return {key: saved[key] for key in saved.files}


def training_targets(d: dict[str, np.ndarray], variant: str) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the images a variant trains on, their targets), from the whole dataset."""
    from hcr.data.case import SAME_SHAPE_IN_BOTH_CASES as SAME
    from hcr.data.case import UNKNOWN, UPPER
    from hcr.labels import index_of

    y, case = d["y"], d["case"]
    everything = np.arange(len(y))
    if variant == "upper":
        same_shape = np.isin(y, [index_of(letter) for letter in SAME])
        keep = (case == UPPER) | ((case == UNKNOWN) & same_shape)
        return everything[keep], y[keep]
    if variant == "fold-bars":
        relabel = (y == index_of("L")) & (case != UPPER) & d["is_bar"]
        print(f"fold-bars: {relabel.sum()} L bars of lower or unknown case labelled I, per source",
              {str(s): int((relabel & (d["source"] == i)).sum()) for i, s in enumerate(d["sources"])})  # fmt: skip
        return everything, np.where(relabel, index_of("I"), y)
    if variant == "case52":  # 0–25 capitals, 26–51 lower case, −1 − letter either case of the letter
        from hcr.models.case_aware import case_targets

        return everything, case_targets(y, case)
    raise ValueError(variant)


def train(out: Path, variant: str, epochs: int, train_share: float, threads: int, seed: int = 0) -> None:
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)  # the machine is shared
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from hcr.inference.preprocess import to_model_input
    from hcr.models import create_model
    from hcr.models.augment import build_augmenter
    from hcr.models.case_aware import partial_label_loss

    d = load(out)
    indices, targets = training_targets(d, variant)
    rng = np.random.default_rng(seed)
    train_part = d["train"][rng.random(len(d["train"])) < train_share]  # the same images offered to every variant
    chosen = np.isin(indices, train_part)
    x = to_model_input(d["canonical"][indices[chosen]])
    t = targets[chosen]
    print(f"{variant}: {len(t)} training images of the {len(train_part)} offered")
    keras.utils.set_random_seed(seed)
    model = create_model("compact-cnn", num_classes=52 if variant == "case52" else 26)
    loss = partial_label_loss if variant == "case52" else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=loss)
    augmenter = build_augmenter(10.0, 0.1, 0.1, seed, 0.5)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, t))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(128)
        .map(lambda images, labels: (augmenter(images, training=True), labels))
        .prefetch(2)
    )
    every_epoch = keras.callbacks.ModelCheckpoint(str(out / f"{variant}-e{{epoch}}.keras"))  # compare at any epoch
    history = model.fit(dataset, epochs=epochs, verbose=2, callbacks=[every_epoch])
    model.save(out / f"{variant}.keras")
    (out / f"{variant}.history.json").write_text(json.dumps(history.history))


def drawn_bars(n: int, seed: int) -> np.ndarray:
    """uint8 [n, 28, 28]: straight bars drawn as people write an I, saved as PNG files and read as `hcr predict`
    reads them."""
    from hcr.evaluation.realworld import bars
    from hcr.inference.preprocess import open_image, to_letter_array

    return np.stack([to_letter_array(open_image(io.BytesIO(f))) for f in bars(np.random.default_rng(seed), n)])


def font_letters(letters: str, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Letters rendered from the handwriting-style fonts on the machine that no model trains on, 3 sizes and slants
    each, read as files:
    (uint8 [n, 28, 28], labels 0–25, font names)."""
    from hcr.data.printed import held_out_fonts
    from hcr.evaluation.realworld import printed_letter
    from hcr.inference.preprocess import open_image, to_letter_array

    fonts = [f for f in held_out_fonts() if any(name in str(f).lower() for name in HANDWRITING_FONTS)]
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for font in fonts:
        for k, letter in enumerate(letters):
            for _ in range(3):
                data = printed_letter(font, letter, rng)
                if data is not None:
                    images.append(to_letter_array(open_image(io.BytesIO(data))))
                    labels.append(k % 26)
    return np.stack(images), np.array(labels), [f.stem for f in fonts]


def choose_alpha(p: np.ndarray, y: np.ndarray, bars: np.ndarray, slack: float = 0.01) -> float:
    """The α (0.05 … 1.0) with the best validation accuracy, a bar's letter being I, among those that read the
    validation bars as I within `slack` of the smallest α (a capital reader's bar is an I); ties to the smaller α.

    `p` [N, 52] probabilities, `y` [N] letters, `bars` bool [N]: the I and L images that are bars."""
    from hcr.models.case_aware import fold_probabilities

    truth = np.where(bars, 8, y)  # I
    alphas = [round(0.05 * k, 2) for k in range(1, 21)]
    predicted = {alpha: fold_probabilities(p, alpha).argmax(axis=1) for alpha in alphas}
    bars_i = {alpha: (predicted[alpha][bars] == 8).mean() for alpha in alphas}
    allowed = [alpha for alpha in alphas if bars_i[alpha] >= bars_i[alphas[0]] - slack]
    return max(allowed, key=lambda alpha: ((predicted[alpha] == truth).mean(), -alpha))


def evaluate(out: Path, variants: list[str], epoch: int | None) -> None:
    import keras

    from hcr.data.case import LOWER, UNKNOWN, UPPER
    from hcr.inference.preprocess import to_model_input
    from hcr.labels import index_of
    from hcr.models.case_aware import fold_probabilities as fold

    d = load(out)
    y, case, source, is_bar = d["y"], d["case"], d["source"], d["is_bar"]
    sources = [str(s) for s in d["sources"]]
    test = np.zeros(len(y), dtype=bool)
    test[d["test"]] = True
    src = {name: source == i for i, name in enumerate(sources)}
    i_, l_ = index_of("I"), index_of("L")
    groups = {  # name -> (mask over the whole dataset, the letter each should read as: None = its own)
        "capitals: all": (test & (case == UPPER), None),
        "capitals: az": (test & src["az"], None),
        "capitals: ByClass upper": (test & src["emnist-byclass"] & (case == UPPER), None),
        "capitals: SD19": (test & src["nist-sd19"], None),
        "capitals: ByMerge upper": (test & src["emnist-bymerge"] & (case == UPPER), None),
        "lower: all": (test & (case == LOWER), None),
        "lower: ByClass lower": (test & src["emnist-byclass"] & (case == LOWER), None),
        "lower: ByMerge lower": (test & src["emnist-bymerge"] & (case == LOWER), None),
        "lower: all but l bars": (test & (case == LOWER) & ~((y == l_) & is_bar), None),
        "unknown case: EMNIST Letters + ByMerge merged": (test & (case == UNKNOWN), None),
        "bars: capital I bars -> I": (test & (case == UPPER) & (y == i_) & is_bar, i_),
        "bars: lower/unknown l bars -> I": (test & (case != UPPER) & (y == l_) & is_bar, i_),
        "L not a bar, any case -> L": (test & (y == l_) & ~is_bar, None),
        "capital L -> L": (test & (case == UPPER) & (y == l_), None),
    }
    bars = drawn_bars(520, seed=1)
    cursive, cursive_y, fonts = font_letters("abcdefghijklmnopqrstuvwxyz", seed=2)
    print_caps, print_caps_y, _ = font_letters("ABCDEFGHIJKLMNOPQRSTUVWXYZ", seed=3)
    print(f"fonts: {fonts}")
    x_all = to_model_input(d["canonical"])
    val = np.random.default_rng(0).permutation(d["val"])[:5000]  # enough to choose α; predicting is slow here
    suffix = f"-e{epoch}" if epoch else ""
    table: dict[str, dict[str, float]] = {}
    for variant in variants:
        model = keras.models.load_model(out / f"{variant}{suffix}.keras")
        needed = np.flatnonzero(test | np.isin(np.arange(len(y)), val))
        p_needed = model.predict(x_all[needed], batch_size=1024, verbose=0)
        p_full = np.zeros((len(y), p_needed.shape[1]), dtype=np.float32)
        p_full[needed] = p_needed
        extra = {name: model.predict(to_model_input(a), batch_size=1024, verbose=0)
                 for name, a in (("bars", bars), ("cursive", cursive), ("caps", print_caps))}  # fmt: skip
        settings = [(variant, None)] if variant != "case52" else [(f"case52 α={a}", a) for a in ALPHAS]
        if variant == "case52":  # the α a case-aware training would pick on these validation images
            chosen = choose_alpha(p_full[val], y[val], is_bar[val])
            settings.insert(0, (f"case52 α={chosen} (chosen on val)", chosen))
        for name, alpha in settings:

            def read(p: np.ndarray, alpha: float | None = alpha) -> np.ndarray:
                return (fold(p, alpha) if alpha is not None else p).argmax(axis=1)

            row = {}
            predicted = read(p_full)
            for group, (mask, target) in groups.items():
                truth = y[mask] if target is None else np.full(mask.sum(), target)
                row[group] = float((predicted[mask] == truth).mean()) if mask.any() else float("nan")
                row[f"n {group}"] = int(mask.sum())
            row["drawn straight bars -> I"] = float((read(extra["bars"]) == i_).mean())
            row["cursive proxy: handwriting-font lower case"] = float((read(extra["cursive"]) == cursive_y).mean())
            row["handwriting-font capitals"] = float((read(extra["caps"]) == print_caps_y).mean())
            vmask = np.zeros(len(y), dtype=bool)
            vmask[val] = True
            row["val: capitals"] = float((predicted[vmask & (case == UPPER)] == y[vmask & (case == UPPER)]).mean())
            row["val: lower"] = float((predicted[vmask & (case == LOWER)] == y[vmask & (case == LOWER)]).mean())
            row["val: l/I bars -> I"] = float((predicted[vmask & is_bar] == i_).mean())
            table[name] = row
    (out / f"results-{'-'.join(variants)}{suffix}.json").write_text(json.dumps(table, indent=1))
    print_table(table)


def print_table(table: dict[str, dict[str, float]]) -> None:
    """A markdown table: one column per variant, one row per measure (n where it is a set of real images)."""
    names = list(table)
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for key in table[names[0]]:
        if key.startswith("n "):
            continue
        n = table[names[0]].get(f"n {key}", "")
        print(
            f"| {key} {f'(n={n})' if n != '' else ''} | "
            + " | ".join(f"{100 * table[v][key]:.1f}" for v in names)
            + " |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("prepare", "train", "evaluate", "table"))
    parser.add_argument("variants", nargs="*", default=["upper", "fold-bars", "case52"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/caseruns"))
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--epoch", type=int, help="evaluate: the models saved after this epoch (default: the last)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-share", type=float, default=1.0, help="share of the training part offered")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step == "prepare":
        prepare(args.out, args.data_dir)
    elif args.step == "train":
        for variant in args.variants:
            train(args.out, variant, args.epochs, args.train_share, args.threads)
    elif args.step == "evaluate":
        evaluate(args.out, args.variants, args.epoch)
    else:  # the tables of earlier evaluations, side by side: variants here are their results files
        print_table({k: v for path in args.variants for k, v in json.loads(Path(path).read_text()).items()})


if __name__ == "__main__":
    main()
