"""Every command's --help as it shows in an 80-column terminal: nothing past the edge, every option named, no help
text cut short (…), and a help column wide enough to read, not a ribbon of one or two words a line."""

import re

import pytest
import typer
from typer.testing import CliRunner

from hcr.cli import app

WIDTH = 80
MIN_HELP_COLUMN = 34  # characters: narrower, an option's help wraps into a ribbon of a few words a line
CONTINUATION = re.compile(r"│( {6,})\S")  # a row's second line: only the help column (or a wrapped name) goes on


def command_paths(command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every command and sub-command of `hcr`, as the words that name it, with its click command."""
    found = [(path, command)]
    if hasattr(command, "commands"):  # a group (typer bundles its own click: no isinstance on click's)
        for name, sub in sorted(command.commands.items()):
            found += command_paths(sub, (*path, name))
    return found


COMMANDS = command_paths(typer.main.get_command(app))


def help_column_problems(text: str) -> list[str]:
    """What is wrong with the layout of each boxed panel: rows whose first column wraps (their second lines start at
    different places), or a help column narrower than MIN_HELP_COLUMN."""
    problems = []
    for match in re.finditer(r"╭─ ([^─]+) ─.*?╰", text, flags=re.DOTALL):
        title, panel = match.group(1), match.group(0)
        starts = {len(m.group(1)) for m in CONTINUATION.finditer(panel)}
        if len(starts) > 1:
            problems.append(f"{title}: an option's name or type wraps onto a second line")
        if starts and WIDTH - 2 - min(starts) < MIN_HELP_COLUMN:
            problems.append(f"{title}: help column only {WIDTH - 2 - min(starts)} characters wide")
    return problems


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "hcr" for p, _ in COMMANDS])
def test_help_reads_well_at_80_columns(path, command):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    text = result.output
    too_long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long, "\n".join(too_long)
    for param in command.params:
        if getattr(param, "hidden", False):  # a deprecated name kept working (hcr tune --model)
            continue
        for name in (*param.opts, *param.secondary_opts):
            if name.startswith("--"):
                assert name in text, f"{name} is not shown"
        assert "…" not in (param.help or "")  # so an ellipsis in the output can only be rich cutting text short
    assert "…" not in text, "a help text is cut short"
    assert not help_column_problems(text), text
