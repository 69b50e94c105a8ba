"""The ``qcert`` entry point: version, and every registered sub-command loads."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qcertlib import __version__
from qcertlib.cli import _COMMANDS, main


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"qcert, version {__version__}"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for name in _COMMANDS:
        assert f"  {name}" in result.output


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_each_command_has_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
