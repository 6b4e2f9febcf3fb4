"""The layers of README's "Repository layout", enforced on every import of every module under src/hcr: at module
level, inside functions, and under TYPE_CHECKING alike, since each is a dependency someone has to know about.

Importing a name is not the same as loading it (tests/test_light_imports.py checks what really loads); this test
checks who may know about whom, so a lower layer never starts to depend on a higher one."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("tensorflow", "keras", "tf2onnx")
ENTRY_POINTS = ("hcr.__main__",)  # `python -m hcr` is the CLI itself

FRONT_DOORS = ("api", "__main__")
# the modules directly in src/hcr (runs, configs, labels, errors, …): the bottom layer, which every other one uses
BOTTOM = {path.stem for path in (SRC / "hcr").glob("*.py")} - {"__init__", *FRONT_DOORS}
PACKAGES = ("hcr.data", "hcr.models", "hcr.training", "hcr.tuning", "hcr.evaluation", "hcr.tracking", "hcr.inference",
            "hcr.serving", "hcr.pipelines", "hcr.cli")  # fmt: skip

# (whether a rule covers a layer, what that layer must not import, why)
RULES = (
    (lambda layer: layer in BOTTOM, PACKAGES,
     "the bottom layer (run folders, the configs, labels, errors, …) is what every package builds on: it imports none"),
    (lambda layer: layer in ("data", "models"), ("hcr.training", "hcr.tuning", "hcr.evaluation", "hcr.tracking"),
     "loaders, preparation and model builders sit below what trains, tunes and scores with them"),
    (lambda layer: layer in ("inference", "serving"), (*HEAVY, "hcr.training", "hcr.tuning", "hcr.pipelines"),
     "predicting and serving run on ONNX Runtime alone, without TensorFlow or anything that trains"),
    (lambda layer: layer not in ("cli", "api", "pipelines"), ("hcr.pipelines", "hcr.cli"),
     "pipelines compose the layers below them, which never reach up to them or to the CLI"),
    (lambda layer: layer in ("pipelines", "api"), ("hcr.cli",),
     "the CLI and the Python API (hcr.api) are the two front doors: each calls pipelines, neither the other"),
)  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module `source` imports, anywhere in it, relative imports resolved against `module`."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            target = ".".join(part for part in (base, node.module or "") if part)
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # `from hcr import cli` imports hcr.cli
    return found


def layer_of(module: str) -> str:
    """hcr.data.prepare → data; hcr.runs → runs."""
    return module.split(".")[1] if "." in module else ""


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


MODULES = {module_name(path): path for path in sorted((SRC / "hcr").rglob("*.py"))}


def test_the_bottom_layer_is_the_modules_beside_the_packages():
    assert {"runs", "configs", "labels", "errors", "holdout"} <= BOTTOM
    assert not BOTTOM & {"api", "data", "training"}


def test_the_import_reader_sees_local_relative_and_type_checking_imports():
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hcr.pipelines import compare\n"
        "def f():\n    import keras\n    from ..training import fit\n    from hcr import cli\n"
    )
    found = imports_of(source, "hcr.inference.predictor")
    assert {"hcr.pipelines", "keras", "hcr.training", "hcr.training.fit", "hcr.cli"} <= found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_what_its_layer_may(module):
    path = MODULES[module]
    imported = imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
    layer = layer_of(module)
    broken = [
        f"{module} imports {name}: {why}"
        for covers, forbidden, why in RULES
        if covers(layer) and module not in ENTRY_POINTS
        for name in sorted(imported)
        if any(_within(name, prefix) for prefix in forbidden)
    ]
    assert not broken, "\n".join(broken)
