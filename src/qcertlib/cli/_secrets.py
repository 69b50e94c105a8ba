"""Reading secrets (PINs, passwords, passphrases) for the CLI: never from argv.

Order: ``--*-file`` option, then an environment variable, then an interactive
prompt (hidden input) when a terminal is attached. A secret file may end with one
newline, which is stripped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

__all__ = ["read_secret"]


def read_secret(
    file: Path | None,
    *,
    env_var: str,
    what: str,
    confirm: bool = False,
    required: bool = True,
) -> str | None:
    """Return the secret from *file*, ``$env_var`` or a prompt; ``None`` if optional and absent."""
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"cannot read the {what} file {file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise click.UsageError(f"the {what} file {file} is not UTF-8 text") from None
        return text[:-1] if text.endswith("\n") else text
    value = os.environ.get(env_var)
    if value is not None:
        return value
    if sys.stdin is not None and sys.stdin.isatty():
        prompted: str = click.prompt(
            what.capitalize(),
            hide_input=True,
            confirmation_prompt=confirm,
            default="",
            show_default=False,
        )
        return prompted
    if required:
        raise click.UsageError(
            f"no {what} given: use the file option, set ${env_var}, or run in a terminal"
        )
    return None
