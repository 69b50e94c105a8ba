"""``qcert sign pades`` and ``qcert sign xades`` (attached to the ``sign`` group).

Secrets come from ``--pin-file``, ``$QCERT_PIN`` or a hidden prompt, never argv.
The output is written atomically (a temporary file next to ``--out``, renamed at
the end); a PDF is streamed, so large files sign in little memory. Exit status:
0 signed, 2 unreadable input, wrong PIN or a refused signature.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any

import click

from qcertlib.cli._errors import Failure, failure
from qcertlib.cli._secrets import read_secret
from qcertlib.cli.token import open_token_signer, token_signer_options, token_signer_requested

__all__ = ["pades", "xades"]


def _common(func: Any) -> Any:
    """Options shared by both commands (in reverse order of display)."""
    decorators = [
        click.argument(
            "input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path)
        ),
        click.option(
            "--p12",
            "p12",
            type=click.Path(dir_okay=False, path_type=Path),
            help="PKCS#12 file with the signer's key, certificate and chain (or a token key).",
        ),
        click.option(
            "--pin-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File holding the PIN (else $QCERT_PIN or a prompt).",
        ),
        click.option(
            "--out",
            "out",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Where to write the signed document.",
        ),
        click.option("--tsa", "tsa_url", help="RFC 3161 TSA URL (needed for B-T and above)."),
        click.option(
            "--digest",
            type=click.Choice(["sha256", "sha384", "sha512"]),
            default="sha256",
            show_default=True,
        ),
        token_signer_options,
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


def _backend(p12: Path | None, pin_file: Path | None) -> Any:
    from qcertlib.errors import QcertError
    from qcertlib.signing.backends import Pkcs12Backend

    token = token_signer_requested()
    if (p12 is None) != token:
        raise click.UsageError("give either --p12 or --pkcs11-module/--token/--key-label")
    try:
        if token:
            return open_token_signer(pin_file)
        data = p12.read_bytes()  # type: ignore[union-attr]  # p12 is set when not token
    except OSError as exc:
        raise Failure(f"cannot read {exc.filename}: {exc.strerror}") from None
    except QcertError as exc:
        raise failure(exc) from None
    pin = read_secret(pin_file, env_var="QCERT_PIN", what="PIN") or ""
    try:
        return Pkcs12Backend.from_bytes(data, pin)
    except QcertError as exc:
        raise failure(exc) from None


def _options(level: str, digest: str, tsa_url: str | None, policy: Any = None) -> Any:
    from qcertlib.signing import DigestAlgorithm, SignatureLevel, SignatureOptions

    sig_level = SignatureLevel.parse(level)
    if sig_level.at_least(SignatureLevel.B_T) and not tsa_url:
        raise click.UsageError(f"--level {sig_level.value} needs --tsa URL")
    return SignatureOptions(
        level=sig_level, digest=DigestAlgorithm(digest), tsa_url=tsa_url, policy=policy
    )


def _check_input(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Failure(f"cannot read {exc.filename}: {exc.strerror}") from None
    if size == 0:
        raise Failure(f"SigningError: {path} is empty: refusing to sign an empty file")


def _part(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.part")


@click.command("pades")
@_common
@click.option(
    "--level",
    type=click.Choice(["B-B", "B-T", "B-LT", "B-LTA"], case_sensitive=False),
    default="B-B",
    show_default=True,
    help="PAdES baseline level (B-LT adds a DSS with OCSP/CRL data, B-LTA a document timestamp).",
)
@click.option(
    "--visible/--invisible",
    default=False,
    show_default=True,
    help="Draw a signature box with the holder's name, NIF and the time.",
)
@click.option(
    "--page", type=int, default=0, show_default=True, help="Page of the box (0 = first, -1 = last)."
)
@click.option(
    "--box",
    type=(int, int, int, int),
    default=(40, 40, 300, 110),
    show_default=True,
    help="Box corners x1 y1 x2 y2 in points from the lower-left corner.",
)
@click.option("--reason", help="Reason for signing (/Reason).")
@click.option("--location", help="Place of signing (/Location).")
def pades(
    input_path: Path,
    p12: Path | None,
    pin_file: Path | None,
    out: Path,
    tsa_url: str | None,
    digest: str,
    level: str,
    visible: bool,
    page: int,
    box: tuple[int, int, int, int],
    reason: str | None,
    location: str | None,
) -> None:
    """Sign the PDF INPUT (PAdES) into --out; earlier signatures stay valid."""
    from qcertlib.errors import QcertError
    from qcertlib.signing.pades import VisibleSignature, sign_pades_file

    options = _options(level, digest, tsa_url)
    _check_input(input_path)
    try:
        appearance = VisibleSignature(page=page, box=box) if visible else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    backend = _backend(p12, pin_file)
    part = _part(out)
    try:
        sign_pades_file(
            input_path,
            part,
            backend,
            options,
            visible=appearance,
            reason=reason,
            location=location,
        )
        os.replace(part, out)
    except QcertError as exc:
        part.unlink(missing_ok=True)
        raise failure(exc) from None
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise Failure(f"cannot write {out}: {exc.strerror}") from None
    subject = backend.certificate.subject.rfc4514_string()
    click.echo(f"{out}: PAdES {options.level.value} signed by {subject}")


def _policy(oid: str | None, uri: str | None, digest_b64: str | None, alg: str) -> Any:
    if oid is None and uri is None and digest_b64 is None:
        return None
    if oid is None or digest_b64 is None:
        raise click.UsageError("an EPES policy needs --policy-oid and --policy-hash (base64)")
    from cryptography import x509

    from qcertlib.signing import DigestAlgorithm, SignaturePolicy

    try:
        digest = base64.b64decode(digest_b64, validate=True)
        return SignaturePolicy(
            oid=x509.ObjectIdentifier(oid),
            uri=uri,
            digest=digest,
            digest_algorithm=DigestAlgorithm(alg),
        )
    except (binascii.Error, ValueError) as exc:
        raise click.UsageError(f"bad signature policy: {exc}") from None


@click.command("xades")
@_common
@click.option(
    "--level",
    type=click.Choice(["B-B", "B-T", "B-LT"], case_sensitive=False),
    default="B-B",
    show_default=True,
    help="XAdES baseline level (B-LT adds CertificateValues and RevocationValues).",
)
@click.option(
    "--packaging",
    type=click.Choice(["enveloped", "enveloping", "detached"]),
    default="enveloped",
    show_default=True,
    help="Where the signature goes relative to the document.",
)
@click.option(
    "--detached",
    is_flag=True,
    help="Same as --packaging detached: sign any file, referenced by its name.",
)
@click.option("--policy-oid", help="EPES: signature policy OID (e.g. Facturae's).")
@click.option("--policy-uri", help="EPES: signature policy URI (the Identifier for Facturae).")
@click.option("--policy-hash", help="EPES: base64 hash of the policy document.")
@click.option(
    "--policy-hash-alg",
    type=click.Choice(["sha256", "sha384", "sha512"]),
    default="sha256",
    show_default=True,
)
@click.option("--policy-description", help="EPES: the policy's Description text.")
@click.option("--role", "claimed_role", help='Claimed signer role (Facturae: "emisor").')
@click.option(
    "--signing-certificate-v1",
    is_flag=True,
    help="Write the XAdES 1.3.2 SigningCertificate (with IssuerSerial) instead of V2.",
)
def xades(
    input_path: Path,
    p12: Path | None,
    pin_file: Path | None,
    out: Path,
    tsa_url: str | None,
    digest: str,
    level: str,
    packaging: str,
    detached: bool,
    policy_oid: str | None,
    policy_uri: str | None,
    policy_hash: str | None,
    policy_hash_alg: str,
    policy_description: str | None,
    claimed_role: str | None,
    signing_certificate_v1: bool,
) -> None:
    """Sign INPUT as XAdES into --out (XML in place, or any file with --detached)."""
    from qcertlib._io import write_atomic
    from qcertlib.errors import QcertError
    from qcertlib.signing.xades import XadesPackaging, sign_xades

    policy = _policy(policy_oid, policy_uri, policy_hash, policy_hash_alg)
    options = _options(level, digest, tsa_url, policy)
    kind = XadesPackaging("detached" if detached else packaging)
    _check_input(input_path)
    try:
        document = input_path.read_bytes()
    except OSError as exc:
        raise Failure(f"cannot read {exc.filename}: {exc.strerror}") from None
    backend = _backend(p12, pin_file)
    try:
        signed = sign_xades(
            document,
            backend,
            options,
            packaging=kind,
            reference_uri=input_path.name if kind is XadesPackaging.DETACHED else None,
            policy_description=policy_description,
            claimed_role=claimed_role,
            signing_certificate_v1=signing_certificate_v1,
        )
        write_atomic(out, signed, mode=0o644)
    except QcertError as exc:
        raise failure(exc) from None
    subject = backend.certificate.subject.rfc4514_string()
    click.echo(f"{out}: XAdES {options.level.value} ({kind.value}) signed by {subject}")
