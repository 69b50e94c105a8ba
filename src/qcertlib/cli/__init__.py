"""The ``qcert`` command: argument parsing and rendering only, over the public API.

Sub-commands live in their own modules and are imported only when used, so
``qcert --version`` stays fast and optional dependencies are loaded lazily.
Exit status: 0 success, 1 a negative verdict (lint errors, revoked, invalid
signature), 2 input that cannot be read or a usage error.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from qcertlib._compat import ignore_dsa_deprecation
from qcertlib._version import __version__

__all__ = ["main"]

# name -> "module:attribute"; add a line to register a sub-command.
_COMMANDS: dict[str, str] = {
    "demo": "qcertlib.cli.demo:demo",
    "lint": "qcertlib.cli.profiles:lint_cmd",
    "inspect": "qcertlib.cli.profiles:inspect_cmd",
    "nif": "qcertlib.cli.foundation:nif",
    "qcs": "qcertlib.cli.foundation:qcs",
    "token": "qcertlib.cli.token:token",
    "pki": "qcertlib.cli.issuance:pki",
    "issue": "qcertlib.cli.issuance:issue",
    "revoke": "qcertlib.cli.issuance:revoke",
    "renew": "qcertlib.cli.issuance:renew",
    "crl": "qcertlib.cli.issuance:crl",
    "code": "qcertlib.cli.issuance:code",
    "status": "qcertlib.cli.revocation:status",
    "serve": "qcertlib.cli.revocation:serve",
    "p12": "qcertlib.cli.p12:p12",
    "sign": "qcertlib.cli.signing:sign",
    "verify": "qcertlib.cli.signing:verify",
    "batch": "qcertlib.cli.batch:batch",
}


class _LazyGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        # the command is our process: pyHanko/signxml touching cryptography's
        # deprecated DSA names is nothing its user can act on (qcertlib._compat)
        ignore_dsa_deprecation()
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        command: Any = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qcert")
def main() -> None:
    """qcert: qualified certificates of the Spanish and EU public PKI."""
