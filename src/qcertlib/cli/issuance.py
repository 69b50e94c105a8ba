"""Issuance sub-commands of ``qcert``: ``pki``, ``issue``, ``revoke``, ``renew``,
``crl`` and ``code``.

Secrets — the PKI passphrase, a PKCS#12 / key PIN, a generation code — are read
from a ``--*-file`` option, an environment variable (``QCERT_PASSPHRASE``,
``QCERT_PIN``, ``QCERT_CODE``) or a hidden prompt, never from the command line.
Exit status: 0 done, 1 the CA refused (lint gate, weak key, window, used code...),
2 unreadable input or a usage error.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from qcertlib.cli._errors import exit_on_errors
from qcertlib.cli._secrets import read_secret
from qcertlib.cli.token import issue_to_token, token_issue_options, token_issue_requested

__all__ = ["code", "crl", "issue", "pki", "renew", "revoke"]

F = TypeVar("F", bound=Callable[..., Any])

_PASSPHRASE_ENV = "QCERT_PASSPHRASE"  # noqa: S105 (an env var name)
_PIN_ENV = "QCERT_PIN"
_CODE_ENV = "QCERT_CODE"

_DIR = click.Path(file_okay=False, path_type=Path)
_FILE = click.Path(dir_okay=False, path_type=Path)
_IN_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _errors(func: F) -> F:
    """qcertlib errors → one line; the CA refusing (IssuanceError) exits 1, bad input 2."""
    from qcertlib.errors import IssuanceError

    return exit_on_errors(refusals=(IssuanceError,))(func)


def _passphrase_option(func: F) -> F:
    return click.option(
        "--passphrase-file",
        type=_IN_FILE,
        help=f"File holding the PKI key passphrase (else ${_PASSPHRASE_ENV} or a prompt).",
    )(func)


def _open_ca(directory: Path, passphrase_file: Path | None) -> Any:
    from qcertlib.issuance import CertificateAuthority

    config_path = directory / "config.json"
    encrypted = False
    with contextlib.suppress(OSError, ValueError):  # CertificateAuthority.open reports it
        encrypted = bool(json.loads(config_path.read_text(encoding="utf-8")).get("encrypted_keys"))
    passphrase = None
    if encrypted:
        passphrase = read_secret(
            passphrase_file, env_var=_PASSPHRASE_ENV, what="PKI passphrase", required=True
        )
    return CertificateAuthority.open(directory, passphrase)


def _pin(pin_file: Path | None, *, confirm: bool = True) -> str:
    pin = read_secret(pin_file, env_var=_PIN_ENV, what="PIN", confirm=confirm, required=True)
    assert pin is not None
    return pin


def _write_credentials(ca: Any, key: Any, certificate: Any, out: Path, pin: str) -> list[Path]:
    """``.p12``/``.pfx``: PKCS#12 protected by the PIN; otherwise the certificate as
    PEM in *out* and the key, encrypted with the PIN, in ``<out stem>.key``."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from qcertlib._io import write_atomic
    from qcertlib.issuance.keys import save_private_key

    if out.suffix.lower() in (".p12", ".pfx"):
        from qcertlib.pkcs12 import KeyStore, write_pkcs12

        name = certificate.subject.rfc4514_string()
        store = KeyStore.single(key, certificate, list(ca.chain), friendly_name=name)
        return [write_pkcs12(out, store, pin)]
    key_path = out.with_suffix(".key")
    if key_path == out:
        raise click.UsageError("--out must not end in .key")
    from qcertlib.pkcs12 import PinPolicy

    PinPolicy().check(pin)
    save_private_key(key_path, key, pin)
    write_atomic(out, certificate.public_bytes(Encoding.PEM), mode=0o644)
    return [out, key_path]


def _report_issued(certificate: Any, written: list[Path]) -> None:
    click.echo(f"serial: {certificate.serial_number:x}")
    click.echo(f"subject: {certificate.subject.rfc4514_string()}")
    click.echo(
        f"valid: {certificate.not_valid_before_utc:%Y-%m-%d} to "
        f"{certificate.not_valid_after_utc:%Y-%m-%d}"
    )
    for path in written:
        click.echo(f"wrote {path}")


# -- pki -----------------------------------------------------------------------------------


@click.group()
def pki() -> None:
    """Create a PKI directory (root, issuing CA, OCSP and TSA signers, registry)."""


@pki.command("init")
@click.argument("directory", type=_DIR)
@click.option("--name", default="qcertlib Test PKI", show_default=True, help="PKI name (O).")
@click.option("--country", default="ES", show_default=True, help="Country of the CA names.")
@click.option(
    "--org-id",
    default=None,
    help="organizationIdentifier of the CA names, e.g. VATES-A40573396 (eIDAS Annex I (b)).",
)
@click.option(
    "--key",
    "key_type",
    default="rsa3072",
    show_default=True,
    help="Key type of the CA keys: rsa2048, rsa3072, rsa4096, ec-p256, ec-p384.",
)
@click.option(
    "--base-url",
    default="http://pki.example.com",
    show_default=True,
    help="Base URL for caIssuers ({base}/ca.crt), OCSP ({base}/ocsp), CRL ({base}/ca.crl).",
)
@_passphrase_option
@_errors
def pki_init(
    directory: Path,
    name: str,
    country: str,
    org_id: str | None,
    key_type: str,
    base_url: str,
    passphrase_file: Path | None,
) -> None:
    """Create a new PKI in DIRECTORY.

    Without a passphrase the keys are stored unencrypted: a TEST PKI only.
    """
    from qcertlib.issuance import CertificateAuthority, KeySpec

    spec = KeySpec.parse(key_type)
    passphrase = read_secret(
        passphrase_file,
        env_var=_PASSPHRASE_ENV,
        what="PKI passphrase",
        confirm=True,
        required=False,
    )
    ca = CertificateAuthority.init(
        directory,
        name=name,
        country=country,
        organization_identifier=org_id,
        key_spec=spec,
        base_url=base_url,
        passphrase=passphrase or None,
    )
    for stem in ("root", "ca", "ocsp", "tsa"):
        click.echo(f"wrote {ca.files.cert(stem)} and {ca.files.key(stem)}")
    click.echo(f"wrote {ca.files.registry} and {ca.files.config}")
    if ca.is_test_pki:
        click.echo(
            "WARNING: this is a TEST PKI: its private keys are stored unencrypted. "
            "Use --passphrase-file (or $QCERT_PASSPHRASE) for anything else.",
            err=True,
        )


# -- holder options -------------------------------------------------------------------------


def _citizen_options(func: F) -> F:
    for decorator in reversed(
        [
            click.option("--given-name", required=True, help="Given name (nombre)."),
            click.option("--first-surname", required=True, help="First surname."),
            click.option("--second-surname", default=None, help="Second surname."),
            click.option("--nif", required=True, help="DNI or NIE."),
            click.option("--email", required=True, help="E-mail address."),
            click.option("--qscd", is_flag=True, help="Key on a QSCD card (citizen-qscd)."),
        ]
    ):
        func = decorator(func)
    return func


def _seal_options(func: F) -> F:
    for decorator in reversed(
        [
            click.option("--entity", required=True, help="Name of the public body (O)."),
            click.option("--nif", required=True, help="CIF of the public body (P, Q or S)."),
            click.option("--system", required=True, help="System or application name (CN)."),
            click.option("--unit", default=None, help="Organisational unit."),
            click.option("--email", default=None, help="Contact e-mail."),
            click.option(
                "--level",
                type=click.Choice(["medio", "alto"]),
                default="medio",
                show_default=True,
                help="AAPP level (alto = QSCD).",
            ),
            click.option("--months", type=int, default=None, help="Validity: 12 or 24 months."),
        ]
    ):
        func = decorator(func)
    return func


def _citizen(
    given_name: str, first_surname: str, second_surname: str | None, nif: str, email: str
) -> Any:
    from qcertlib.profiles import Citizen

    return Citizen(
        given_name=given_name,
        first_surname=first_surname,
        second_surname=second_surname,
        nif=nif,
        email=email,
    )


def _public_body(entity: str, nif: str, system: str, unit: str | None, email: str | None) -> Any:
    from qcertlib.profiles import PublicBody

    return PublicBody(name=entity, nif=nif, system_name=system, unit=unit, email=email)


def _key_option(default: str) -> Callable[[F], F]:
    return click.option(
        "--key",
        "key_type",
        default=default,
        show_default=True,
        help="Key type: rsa2048, rsa3072, rsa4096, ec-p256, ec-p384.",
    )


def _issue_and_write(
    ca: Any,
    profile: str,
    holder: Any,
    key_type: str,
    out: Path,
    pin_file: Path | None,
    months: int | None,
) -> None:
    from qcertlib.issuance import KeySpec, generate_key

    if token_issue_requested():  # card issuance (issue 9): the key is on a PKCS#11 token
        issue_to_token(ca, profile, holder, key_type, out, pin_file, months)
        return
    spec = KeySpec.parse(key_type)
    pin = _pin(pin_file)
    key = generate_key(spec)
    certificate = ca.issue(profile, holder, key.public_key(), months=months)
    _report_issued(certificate, _write_credentials(ca, key, certificate, out, pin))


# -- issue ------------------------------------------------------------------------------------


@click.group()
def issue() -> None:
    """Issue a certificate (a new key is generated; the CA lints before signing)."""


@issue.command("citizen")
@click.argument("directory", type=_DIR)
@_citizen_options
@_key_option("rsa2048")
@click.option(
    "--out",
    type=_FILE,
    required=True,
    help="x.p12: PKCS#12 protected by the PIN; else certificate PEM + <stem>.key.",
)
@click.option(
    "--pin-file", type=_IN_FILE, help=f"File with the PIN (else ${_PIN_ENV} or a prompt)."
)
@_passphrase_option
@token_issue_options  # card issuance (issue 9): --pkcs11-module/--token/--key-label
@_errors
def issue_citizen(
    directory: Path,
    given_name: str,
    first_surname: str,
    second_surname: str | None,
    nif: str,
    email: str,
    qscd: bool,
    key_type: str,
    out: Path,
    pin_file: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Issue a citizen certificate (profile citizen, or citizen-qscd with --qscd)."""
    holder = _citizen(given_name, first_surname, second_surname, nif, email)
    ca = _open_ca(directory, passphrase_file)
    profile = "citizen-qscd" if qscd else "citizen"
    _issue_and_write(ca, profile, holder, key_type, out, pin_file, None)


@issue.command("seal")
@click.argument("directory", type=_DIR)
@_seal_options
@_key_option("rsa2048")
@click.option(
    "--out",
    type=_FILE,
    required=True,
    help="x.p12: PKCS#12 protected by the PIN; else certificate PEM + <stem>.key.",
)
@click.option(
    "--pin-file", type=_IN_FILE, help=f"File with the PIN (else ${_PIN_ENV} or a prompt)."
)
@_passphrase_option
@token_issue_options  # card issuance (issue 9): --pkcs11-module/--token/--key-label
@_errors
def issue_seal(
    directory: Path,
    entity: str,
    nif: str,
    system: str,
    unit: str | None,
    email: str | None,
    level: str,
    months: int | None,
    key_type: str,
    out: Path,
    pin_file: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Issue an e-Organ seal (eorgan-seal, or eorgan-seal-qscd with --level alto)."""
    holder = _public_body(entity, nif, system, unit, email)
    ca = _open_ca(directory, passphrase_file)
    profile = "eorgan-seal-qscd" if level == "alto" else "eorgan-seal"
    _issue_and_write(ca, profile, holder, key_type, out, pin_file, months)


# -- revoke / renew / crl ------------------------------------------------------------------------


@click.command()
@click.argument("directory", type=_DIR)
@click.argument("serial")
@click.option(
    "--reason",
    default="unspecified",
    show_default=True,
    help="RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, superseded, "
    "cessationOfOperation, privilegeWithdrawn, cACompromise, aACompromise.",
)
@_passphrase_option
@_errors
def revoke(directory: Path, serial: str, reason: str, passphrase_file: Path | None) -> None:
    """Revoke the certificate SERIAL (hex). Irreversible."""
    from qcertlib.issuance import RevocationReason

    why = RevocationReason.parse(reason)
    ca = _open_ca(directory, passphrase_file)
    record = ca.revoke(serial, why)
    click.echo(
        f"revoked {record.serial_hex} at {record.revoked_at:%Y-%m-%dT%H:%M:%SZ} ({why.value})"
    )


@click.command()
@click.argument("directory", type=_DIR)
@click.argument("serial")
@click.option(
    "--out",
    type=_FILE,
    required=True,
    help="x.p12: PKCS#12 protected by the PIN; else certificate PEM + <stem>.key.",
)
@click.option(
    "--pin-file", type=_IN_FILE, help=f"File with the PIN (else ${_PIN_ENV} or a prompt)."
)
@_passphrase_option
@_errors
def renew(
    directory: Path, serial: str, out: Path, pin_file: Path | None, passphrase_file: Path | None
) -> None:
    """Renew citizen certificate SERIAL (only in the 70 days before it expires)."""
    ca = _open_ca(directory, passphrase_file)
    pin = _pin(pin_file)
    result = ca.renew(serial)
    assert result.private_key is not None
    written = _write_credentials(ca, result.private_key, result.certificate, out, pin)
    _report_issued(result.certificate, written)
    click.echo(f"superseded {result.replaced.serial_hex} (revoked)")


@click.command()
@click.argument("directory", type=_DIR)
@click.option("--out", type=_FILE, required=True, help="Where to write the CRL.")
@click.option("--der", is_flag=True, help="Write DER instead of PEM.")
@click.option("--days", type=int, default=7, show_default=True, help="nextUpdate - thisUpdate.")
@_passphrase_option
@_errors
def crl(directory: Path, out: Path, der: bool, days: int, passphrase_file: Path | None) -> None:
    """Sign a fresh CRL of the issuing CA (next CRL number) and write it to --out."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from qcertlib._io import write_atomic

    if days < 1:
        raise click.UsageError("--days must be at least 1")
    ca = _open_ca(directory, passphrase_file)
    revocation_list = ca.build_crl(lifetime=timedelta(days=days))
    write_atomic(
        out, revocation_list.public_bytes(Encoding.DER if der else Encoding.PEM), mode=0o644
    )
    number = revocation_list.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    click.echo(f"CRL number {number}: {len(revocation_list)} revoked; wrote {out}")


# -- generation codes --------------------------------------------------------------------------


@click.group()
def code() -> None:
    """Generation codes: hand one out after the identity check, redeem it for the PKCS#12."""


@code.group("new")
def code_new() -> None:
    """Create a one-time generation code for a pending certificate (printed once)."""


def _code_policy(func: F) -> F:
    for decorator in reversed(
        [
            click.option(
                "--length",
                type=int,
                default=10,
                show_default=True,
                help="Code length (ACCV's current pages say 25).",
            ),
            click.option(
                "--ttl-days",
                type=int,
                default=15,
                show_default=True,
                help="Days until the code expires.",
            ),
            click.option(
                "--tries",
                type=int,
                default=3,
                show_default=True,
                help="Wrong tries before the code is void.",
            ),
        ]
    ):
        func = decorator(func)
    return func


def _new_code(ca: Any, request: Any, length: int, ttl_days: int, tries: int) -> None:
    if ttl_days < 1:
        raise click.UsageError("--ttl-days must be at least 1")
    secret = ca.new_code(request, length=length, ttl=timedelta(days=ttl_days), max_tries=tries)
    click.echo(f"generation code: {secret}")
    click.echo(f"hand it to the holder now; it is not stored and expires in {ttl_days} days")


@code_new.command("citizen")
@click.argument("directory", type=_DIR)
@_citizen_options
@_key_option("rsa2048")
@_code_policy
@_passphrase_option
@_errors
def code_new_citizen(
    directory: Path,
    given_name: str,
    first_surname: str,
    second_surname: str | None,
    nif: str,
    email: str,
    qscd: bool,
    key_type: str,
    length: int,
    ttl_days: int,
    tries: int,
    passphrase_file: Path | None,
) -> None:
    """A code that, redeemed, issues a citizen certificate with a fresh key."""
    from qcertlib.issuance import KeySpec, PendingRequest

    holder = _citizen(given_name, first_surname, second_surname, nif, email)
    ca = _open_ca(directory, passphrase_file)
    request = PendingRequest(
        "citizen-qscd" if qscd else "citizen", holder, key_spec=KeySpec.parse(key_type)
    )
    _new_code(ca, request, length, ttl_days, tries)


@code_new.command("seal")
@click.argument("directory", type=_DIR)
@_seal_options
@_key_option("rsa2048")
@_code_policy
@_passphrase_option
@_errors
def code_new_seal(
    directory: Path,
    entity: str,
    nif: str,
    system: str,
    unit: str | None,
    email: str | None,
    level: str,
    months: int | None,
    key_type: str,
    length: int,
    ttl_days: int,
    tries: int,
    passphrase_file: Path | None,
) -> None:
    """A code that, redeemed, issues an e-Organ seal with a fresh key."""
    from qcertlib.issuance import KeySpec, PendingRequest

    holder = _public_body(entity, nif, system, unit, email)
    ca = _open_ca(directory, passphrase_file)
    request = PendingRequest(
        "eorgan-seal-qscd" if level == "alto" else "eorgan-seal",
        holder,
        months=months,
        key_spec=KeySpec.parse(key_type),
    )
    _new_code(ca, request, length, ttl_days, tries)


@code.command("redeem")
@click.argument("directory", type=_DIR)
@click.option("--nif", required=True, help="NIF of the holder the code was given to.")
@click.option(
    "--code-file",
    type=_IN_FILE,
    help=f"File with the generation code (else ${_CODE_ENV} or a prompt).",
)
@click.option("--out", type=_FILE, required=True, help="Where to write the PKCS#12 (or PEM).")
@click.option(
    "--pin-file", type=_IN_FILE, help=f"File with the PIN (else ${_PIN_ENV} or a prompt)."
)
@_passphrase_option
@_errors
def code_redeem(
    directory: Path,
    nif: str,
    code_file: Path | None,
    out: Path,
    pin_file: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Redeem a generation code: issue the certificate and write it with its key."""
    from qcertlib._io import write_atomic

    secret = read_secret(code_file, env_var=_CODE_ENV, what="generation code", required=True)
    assert secret is not None
    pin = _pin(pin_file)
    ca = _open_ca(directory, passphrase_file)
    result = ca.redeem(secret.strip(), pin, nif=nif)
    write_atomic(out, result.data, mode=0o600)
    _report_issued(result.certificate, [out])
