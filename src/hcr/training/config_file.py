"""Settings files: a run's every setting in one TOML file that `hcr train --config FILE` reads back.

    [train]                      # TrainConfig's fields (hcr.configs)
    model = "compact-cnn"
    epochs = 12
    [data]                       # DataConfig's fields
    datasets = ["az", "nist-sd19"]
    case = "upper"

A file says only what it changes: missing settings take their defaults, then the model's recipe, as on the command
line; options given on the command line override the file. Every run folder saves its resolved settings as
`config.toml`, so `hcr train --config runs/X/config.toml` trains that run again. TOML has no null: an unset
setting (no per-class subset, no weights file) is simply left out, which is why every setting that can be unset has
"unset" as its default (a test holds the configs to that).

Each value is checked by the configs' own rules (one definition of what a setting accepts); this module adds the
file's name and section to the message, and refuses keys the configs do not have, so a typo never silently trains
with a default.
"""

import tomllib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import tomli_w

from hcr.atomic import write_text_atomic
from hcr.configs import DataConfig, TrainConfig
from hcr.errors import HcrError
from hcr.files import open_regular, unreadable

CONFIG_FILE_NAME = "config.toml"
SECTIONS: dict[str, type] = {"train": TrainConfig, "data": DataConfig}


def read_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """{"train": {...}, "data": {...}}: the settings the file sets, by section, with their names checked (values are
    checked when the configs are made, by `make_configs`)."""
    try:
        with open_regular(path) as file:
            settings = tomllib.load(file)
    except OSError as e:
        raise unreadable(path, e) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise HcrError(f"{path}: not a TOML settings file ({e})") from None
    unknown_sections = sorted(set(settings) - set(SECTIONS))
    if unknown_sections:
        raise HcrError(f"{path}: unknown section {unknown_sections[0]!r} (a settings file has [train] and [data])")
    for section, config_class in SECTIONS.items():
        values = settings.setdefault(section, {})
        if not isinstance(values, dict):
            raise HcrError(f"{path}: {section} must be a section, [{section}]")
        known = {f.name for f in fields(config_class)}
        for key in values:
            if key not in known:
                raise HcrError(f"{path}: unknown setting {key!r} in [{section}] (known: {', '.join(sorted(known))})")
    if "datasets" in settings["data"] and isinstance(settings["data"]["datasets"], list):
        settings["data"]["datasets"] = tuple(settings["data"]["datasets"])
    return settings


def checked_in(path: Path, section: str, make: Any, *args: Any, **kwargs: Any) -> Any:
    """`make(*args, **kwargs)` with a refused setting's message saying which file and section it came from."""
    try:
        return make(*args, **kwargs)
    except HcrError as e:
        raise HcrError(f"{path} [{section}]: {e}") from None
    except TypeError as e:  # a value of a type the rules cannot even compare (e.g. a table where a number goes)
        raise HcrError(f"{path} [{section}]: a setting has the wrong type ({e})") from None


def write_config_file(path: Path, config: TrainConfig, data_config: DataConfig) -> None:
    """Write the resolved settings as a file `hcr train --config` reads back to the same configs."""
    sections = {"train": _without_unset(asdict(config)), "data": _without_unset(asdict(data_config))}
    header = f"# hcr train --config {path.name} trains this run again (options given on the command line win)\n"
    write_text_atomic(path, header + tomli_w.dumps(sections))


def _without_unset(values: dict[str, Any]) -> dict[str, Any]:
    """TOML has no null; unset settings are left out (their default is unset), tuples written as arrays."""
    return {
        key: list(value) if isinstance(value, tuple) else _without_unset(value) if isinstance(value, dict) else value
        for key, value in values.items()
        if value is not None
    }
