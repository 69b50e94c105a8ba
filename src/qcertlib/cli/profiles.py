"""``qcert lint`` and ``qcert inspect``: rendering over :mod:`qcertlib.profiles`.

Both read a PEM (one certificate or a chain) or DER file. ``lint`` lints the first
certificate (the leaf); ``inspect`` summarises every certificate in the file. The
output formats are a contract for scripts (``docs/guide/lint-inspect.rst``):

* ``qcert lint --format json`` prints ``{"profile", "ok", "findings": [{"code",
  "severity", "field", "message"}]}``; exit status 0 without ERROR/FATAL findings,
  1 with, 2 when the file cannot be read as a certificate.
* ``qcert inspect --format json`` prints one object for a single certificate and a
  list of objects for a chain (see :meth:`CertificateSummary.to_dict`); exit 0, or 2.
"""

from __future__ import annotations

import json
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

__all__ = ["inspect_cmd", "lint_cmd"]


def _read(path: Path) -> list[Any]:
    from qcertlib._certs import load_certificates
    from qcertlib.errors import DecodingError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_certificates(data)
    except DecodingError as exc:
        raise click.ClickException(f"{path}: {exc.message}") from None


def _fail(exc: click.ClickException) -> NoReturn:
    click.echo(f"Error: {exc.format_message()}", err=True)
    sys.exit(2)


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date-time: {value!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _profile_choices() -> list[str]:
    from qcertlib.profiles import PROFILES

    return ["auto", *PROFILES]


_AT_HELP = "Evaluate time-dependent facts at this ISO 8601 instant (default: now, UTC)."


@click.command("lint")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--profile",
    "profile_name",
    type=click.Choice(_profile_choices()),
    default="auto",
    show_default=True,
    help="Profile to lint against; 'auto' detects the one the certificate claims.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--at", "at_text", default=None, help=_AT_HELP)
def lint_cmd(file: Path, profile_name: str, fmt: str, at_text: str | None) -> None:
    """Lint the (first) certificate in FILE against a qualified-certificate profile.

    Exit status: 0 no ERROR/FATAL finding, 1 some, 2 FILE is not a certificate.
    """
    from qcertlib.profiles import lint

    try:
        certs = _read(file)
    except click.ClickException as exc:
        _fail(exc)
    report = lint(certs[0], None if profile_name == "auto" else profile_name, at=_at(at_text))
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _render_lint(report)
    sys.exit(0 if report.ok else 1)


def _render_lint(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False)
    verdict = "OK" if report.ok else f"NOT OK ({len(report.errors)} ERROR/FATAL)"
    console.print(f"profile: {report.profile}    {verdict}", markup=False)
    if not report.findings:
        console.print("no findings", markup=False)
        return
    table = Table(show_lines=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("code", overflow="fold")
    table.add_column("field", overflow="fold")
    table.add_column("message", overflow="fold")
    colours = {"FATAL": "bold red", "ERROR": "red", "WARNING": "yellow"}
    for f in sorted(report.findings, key=lambda f: -int(f.severity)):
        sev = str(f.severity)
        table.add_row(f"[{colours.get(sev, 'default')}]{sev}[/]", f.code, f.field, f.message)
    console.print(table)


@click.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--at", "at_text", default=None, help=_AT_HELP)
def inspect_cmd(file: Path, fmt: str, at_text: str | None) -> None:
    """Summarise the certificate(s) in FILE (PEM or DER; a chain gives one summary each).

    JSON: one object for one certificate, a list for a chain. Exit status 0, or 2
    when FILE is not a certificate.
    """
    from qcertlib.profiles import inspect

    try:
        certs = _read(file)
    except click.ClickException as exc:
        _fail(exc)
    at = _at(at_text)
    summaries = [inspect(c, at=at) for c in certs]
    if fmt == "json":
        data: Any = [s.to_dict() for s in summaries]
        if len(data) == 1:
            data = data[0]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _render_inspect(summaries)


def _render_inspect(summaries: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False)
    rows = (
        "kind",
        "qualified",
        "qscd",
        "qc_type",
        "afirma_class",
        "given_name",
        "surnames",
        "nif",
        "email",
        "entity_name",
        "entity_nif",
        "system_name",
        "subject",
        "issuer",
        "policies",
        "not_before",
        "not_after",
        "days_left",
        "renewal_window_open",
        "key_type",
        "key_size",
        "sha256",
    )
    for index, summary in enumerate(summaries):
        data = summary.to_dict()
        title = f"certificate {index + 1} of {len(summaries)}" if len(summaries) > 1 else None
        table = Table(title=title, show_header=False)
        table.add_column("field", no_wrap=True)
        table.add_column("value", overflow="fold")
        for key in rows:
            value = data[key]
            if value is None:
                continue
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            table.add_row(key, str(value))
        console.print(table)
