"""``qcert sign cades`` and ``qcert verify``.

``sign`` is a group: ``cades`` lives here; ``pades`` and ``xades`` live in
:mod:`qcertlib.cli.signing_docs` and are attached lazily through ``_SUBCOMMANDS``.
``verify`` dispatches on the file's content: PDF → :func:`qcertlib.validation.validate_pdf`,
XML → :func:`~qcertlib.validation.validate_xml`, anything else →
:func:`~qcertlib.validation.validate_cms`. Exit status: 0 only for TOTAL_PASSED,
1 for any other verdict, 2 for unreadable input or a usage error.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import click

from qcertlib.cli._errors import Failure, failure
from qcertlib.cli._secrets import read_secret
from qcertlib.cli.token import open_token_signer, token_signer_options, token_signer_requested

__all__ = ["sign", "verify"]

# sub-command name -> "module:attribute" (imported when used)
_SUBCOMMANDS: dict[str, str] = {
    "pades": "qcertlib.cli.signing_docs:pades",
    "xades": "qcertlib.cli.signing_docs:xades",
}

_LEVELS = ["B-B", "B-T", "B-LT"]


class _SignGroup(click.Group):
    def _available(self) -> dict[str, str]:
        out = {}
        for name, target in _SUBCOMMANDS.items():
            module = target.split(":")[0]
            try:
                found = importlib.util.find_spec(module) is not None
            except ModuleNotFoundError:
                found = False
            if found:
                out[name] = target
        return out

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._available().get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        command: Any = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group("sign", cls=_SignGroup)
def sign() -> None:
    """Sign a document: cades (.p7s), pades (PDF), xades (XML)."""


@sign.command("cades")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--p12",
    "p12",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PKCS#12 file with the signer's key, certificate and chain (or a token key below).",
)
@click.option(
    "--pin-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the PKCS#12 PIN (else $QCERT_PIN or a prompt).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the .p7s signature.",
)
@click.option(
    "--level",
    type=click.Choice(_LEVELS, case_sensitive=False),
    default="B-B",
    show_default=True,
    help="Baseline level.",
)
@click.option("--tsa", "tsa_url", help="RFC 3161 TSA URL (needed for B-T and B-LT).")
@click.option(
    "--detached/--attached",
    default=True,
    show_default=True,
    help="Leave the content out of the signature (detached) or embed it.",
)
@click.option(
    "--digest",
    type=click.Choice(["sha256", "sha384", "sha512"]),
    default="sha256",
    show_default=True,
)
@token_signer_options  # issue 9: --pkcs11-module/--token/--key-label/--chain
def cades(
    input_path: Path,
    p12: Path | None,
    pin_file: Path | None,
    out: Path,
    level: str,
    tsa_url: str | None,
    detached: bool,
    digest: str,
) -> None:
    """Sign INPUT as CAdES (.p7s) with the key in a PKCS#12 file."""
    from qcertlib._io import write_atomic
    from qcertlib.errors import QcertError, SigningError
    from qcertlib.signing import DigestAlgorithm, SignatureLevel, SignatureOptions
    from qcertlib.signing.backends import Pkcs12Backend
    from qcertlib.signing.cades import sign_cades

    sig_level = SignatureLevel.parse(level)
    if sig_level.at_least(SignatureLevel.B_T) and not tsa_url:
        raise click.UsageError(f"--level {sig_level.value} needs --tsa URL")
    token = token_signer_requested()  # issue 9: the key is on a PKCS#11 token
    if (p12 is None) != token:
        raise click.UsageError("give either --p12 or --pkcs11-module/--token/--key-label")
    try:
        size = input_path.stat().st_size
        p12_bytes = p12.read_bytes() if p12 is not None else b""
    except OSError as exc:
        raise Failure(f"cannot read {exc.filename}: {exc.strerror}") from None
    if size == 0:
        raise failure(SigningError(f"{input_path} is empty: refusing to sign an empty file"))
    pin = "" if token else read_secret(pin_file, env_var="QCERT_PIN", what="PIN") or ""
    try:
        backend = open_token_signer(pin_file) if token else Pkcs12Backend.from_bytes(p12_bytes, pin)
        options = SignatureOptions(level=sig_level, digest=DigestAlgorithm(digest), tsa_url=tsa_url)
        p7s = sign_cades(input_path, backend, options, detached=detached)
        write_atomic(out, p7s, mode=0o644)
    except QcertError as exc:
        raise failure(exc) from None
    subject = backend.certificate.subject.rfc4514_string()
    kind = "detached" if detached else "attached"
    click.echo(f"{out}: CAdES {sig_level.value} ({kind}) signed by {subject}")


def _kind(data: bytes) -> str:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    if head.startswith(b"<"):
        return "xml"
    return "cms"


@click.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--content",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signed content, for a detached .p7s signature.",
)
@click.option(
    "--trust",
    "trust",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trusted root certificate(s), PEM or DER (repeatable).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--fetch/--no-fetch",
    default=True,
    show_default=True,
    help="Fetch OCSP/CRL when the signature carries no revocation data.",
)
def verify(
    file: Path, content: Path | None, trust: tuple[Path, ...], fmt: str, fetch: bool
) -> None:
    """Validate the signatures of FILE (PDF, XML or .p7s); exit 0 only for TOTAL_PASSED."""
    from qcertlib._certs import load_certificates
    from qcertlib.errors import QcertError
    from qcertlib.validation import ValidationPolicy

    try:
        data = file.read_bytes()
        roots = [c for path in trust for c in load_certificates(path.read_bytes())]
    except OSError as exc:
        raise Failure(f"cannot read {exc.filename}: {exc.strerror}") from None
    except QcertError as exc:
        raise failure(exc) from None
    policy = ValidationPolicy(trust_roots=tuple(roots), fetch_revocation=fetch)
    try:
        kind = _kind(data)
        if kind == "pdf":
            from qcertlib.validation import validate_pdf

            report = validate_pdf(data, policy, name=file.name)
        elif kind == "xml":
            from qcertlib.validation import validate_xml

            original = content.read_bytes() if content is not None else None
            report = validate_xml(data, policy, content=original, name=file.name)
        else:
            from qcertlib.validation import validate_cms

            report = validate_cms(data, content, policy, name=file.name)  # streamed
    except QcertError as exc:
        raise failure(exc) from None
    except OSError as exc:
        raise Failure(f"cannot read {exc.filename}: {exc.strerror}") from None
    except ImportError as exc:
        raise Failure(f"cannot validate {kind.upper()} here: {exc}") from None
    click.echo(report.to_json() if fmt == "json" else report.to_text())
    sys.exit(0 if report.passed else 1)
