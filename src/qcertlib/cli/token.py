"""``qcert token``: PKCS#11 tokens (cards, HSMs, SoftHSM2) — init, list, keygen, import-cert.

Common options: ``--pkcs11-module`` (or ``$QCERT_PKCS11_MODULE``), ``--token`` (the
token label), ``--key-label``, ``--pin-file``. The user PIN comes from
``--pin-file``, ``$QCERT_TOKEN_PIN`` or a hidden prompt; the SO PIN (``init``) from
``--so-pin-file``, ``$QCERT_TOKEN_SO_PIN`` or a prompt — never from the command
line. Exit status: 0 done, 2 a token error (wrong PIN, token or key not found,
unsupported mechanism ...) or a usage error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from qcertlib.cli._errors import exit_on_errors
from qcertlib.cli._secrets import read_secret

__all__ = [
    "issue_to_token",
    "open_token_signer",
    "read_pin",
    "token",
    "token_issue_options",
    "token_issue_requested",
    "token_options",
    "token_signer_options",
    "token_signer_requested",
]

F = TypeVar("F", bound=Callable[..., Any])

PIN_ENV = "QCERT_TOKEN_PIN"
SO_PIN_ENV = "QCERT_TOKEN_SO_PIN"
MODULE_ENV = "QCERT_PKCS11_MODULE"

_IN_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


_errors = exit_on_errors()
"""qcertlib errors → one line on stderr and exit status 2."""


def module_option(func: F) -> F:
    """``--pkcs11-module`` (default ``$QCERT_PKCS11_MODULE``)."""
    return click.option(
        "--pkcs11-module",
        "module",
        envvar=MODULE_ENV,
        required=True,
        type=_IN_FILE,
        help=f"PKCS#11 module (.so) of the card or HSM; default ${MODULE_ENV}.",
    )(func)


def token_options(*, key: bool = True) -> Callable[[F], F]:
    """The common token options: module, token label, key label, PIN file."""

    def decorate(func: F) -> F:
        func = click.option(
            "--pin-file",
            type=_IN_FILE,
            help=f"File holding the user PIN (else ${PIN_ENV}, else a prompt).",
        )(func)
        if key:
            func = click.option("--key-label", required=True, help="Label of the key.")(func)
        func = click.option("--token", "token_label", required=True, help="Token label.")(func)
        return module_option(func)

    return decorate


def read_pin(pin_file: Path | None, *, confirm: bool = False) -> str:
    """The token user PIN from ``--pin-file``, ``$QCERT_TOKEN_PIN`` or a prompt."""
    pin = read_secret(pin_file, env_var=PIN_ENV, what="token PIN", confirm=confirm)
    assert pin is not None
    return pin


@click.group()
def token() -> None:
    """PKCS#11 tokens: initialise (SoftHSM2), list, generate keys, import certificates."""


@token.command("init")
@module_option
@click.option("--token", "token_label", required=True, help="Label for the new token.")
@click.option("--so-pin-file", type=_IN_FILE, help=f"SO PIN file (else ${SO_PIN_ENV}, prompt).")
@click.option("--pin-file", type=_IN_FILE, help=f"User PIN file (else ${PIN_ENV}, prompt).")
@_errors
def token_init(
    module: Path, token_label: str, so_pin_file: Path | None, pin_file: Path | None
) -> None:
    """Initialise a new token in the module's free slot and set its user PIN."""
    from qcertlib.tokens import init_token

    so_pin = read_secret(so_pin_file, env_var=SO_PIN_ENV, what="SO PIN", confirm=True)
    assert so_pin is not None
    pin = read_pin(pin_file, confirm=True)
    info = init_token(module, label=token_label, so_pin=so_pin, user_pin=pin)
    click.echo(f"initialised token {info.label!r} (serial {info.serial}, slot {info.slot_id})")


@token.command("list")
@module_option
@click.option("--token", "token_label", help="List the keys and certificates of this token.")
@click.option("--pin-file", type=_IN_FILE, help=f"User PIN file (else ${PIN_ENV}, prompt).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_errors
def token_list(module: Path, token_label: str | None, pin_file: Path | None, as_json: bool) -> None:
    """List the tokens of a module, or (with --token) the keys and certificates on one."""
    from qcertlib.tokens import TokenSession, list_tokens

    if token_label is None:
        tokens = list_tokens(module)
        if as_json:
            click.echo(json.dumps([t.to_dict() for t in tokens], indent=2))
            return
        for t in tokens:
            if not t.initialized:
                click.echo(f"slot {t.slot_id}: (free, uninitialised)")
                continue
            state = " PIN LOCKED" if t.pin_locked else (" PIN tries low" if t.pin_count_low else "")
            click.echo(f"slot {t.slot_id}: {t.label!r} serial {t.serial} {t.model}{state}")
        return
    with TokenSession.open(module, token_label=token_label, pin=read_pin(pin_file)) as session:
        keys = session.list_keys()
        certs = session.certificates()
    rows: list[dict[str, Any]] = []
    for k in keys:
        cert = next((c for _, i, c in certs if i == k.id), None)
        rows.append(
            {
                "label": k.label,
                "id": k.id_hex,
                "type": f"{k.key_type}-{k.curve or k.size}",
                "sensitive": k.sensitive,
                "extractable": k.extractable,
                "generated_on_token": k.local,
                "always_authenticate": k.always_authenticate,
                "certificate": cert.subject.rfc4514_string() if cert is not None else None,
                "not_after": cert.not_valid_after_utc.isoformat() if cert is not None else None,
            }
        )
    if as_json:
        click.echo(json.dumps({"token": token_label, "keys": rows}, indent=2))
        return
    if not rows:
        click.echo(f"token {token_label!r}: no keys")
    for row in rows:
        flags = [
            name
            for name, on in (
                ("sensitive", row["sensitive"]),
                ("extractable", row["extractable"]),
                ("generated-on-token", row["generated_on_token"]),
                ("always-authenticate", row["always_authenticate"]),
            )
            if on
        ]
        cert_text = row["certificate"] or "no certificate"
        click.echo(
            f"{row['label']} (id {row['id']}, {row['type']}; {', '.join(flags)}): {cert_text}"
        )


@token.command("keygen")
@token_options()
@click.option(
    "--key-type",
    default="ec-p256",
    show_default=True,
    type=click.Choice(["rsa2048", "rsa3072", "ec-p256", "ec-p384"]),
    help="Key to generate on the token.",
)
@click.option("--id", "key_id", help="CKA_ID in hex (default: 16 random bytes).")
@click.option(
    "--always-authenticate",
    is_flag=True,
    help="Require the PIN for every signature (CKA_ALWAYS_AUTHENTICATE), like QSCD cards.",
)
@_errors
def token_keygen(
    module: Path,
    token_label: str,
    key_label: str,
    pin_file: Path | None,
    key_type: str,
    key_id: str | None,
    always_authenticate: bool,
) -> None:
    """Generate a key pair ON the token: sensitive, never extractable, sign-only."""
    from qcertlib.issuance import KeySpec
    from qcertlib.tokens import TokenSession

    raw_id = bytes.fromhex(key_id) if key_id else None
    with TokenSession.open(
        module, token_label=token_label, pin=read_pin(pin_file), rw=True
    ) as session:
        info = session.generate_key(
            KeySpec.parse(key_type),
            label=key_label,
            key_id=raw_id,
            always_authenticate=always_authenticate,
        )
    click.echo(f"generated {key_type} key {info.label!r} (id {info.id_hex}) on {token_label!r}")


@token.command("import-cert")
@token_options()
@click.argument("certificate", type=_IN_FILE)
@click.option("--replace", is_flag=True, help="Replace a certificate already stored for the key.")
@click.option(
    "--ca",
    "as_ca",
    is_flag=True,
    help="CERTIFICATE holds issuer (CA) certificates: store them under --key-label as"
    " their label, without a key (signing finds the chain there).",
)
@_errors
def token_import_cert(
    module: Path,
    token_label: str,
    key_label: str,
    pin_file: Path | None,
    certificate: Path,
    replace: bool,
    as_ca: bool,
) -> None:
    """Store CERTIFICATE (PEM or DER) on the token with the same label and id as its key."""
    from qcertlib._certs import load_certificate, load_certificates
    from qcertlib.tokens import TokenSession

    data = certificate.read_bytes()
    if as_ca:
        authorities = load_certificates(data)
        with TokenSession.open(
            module, token_label=token_label, pin=read_pin(pin_file), rw=True
        ) as session:
            for authority in authorities:
                session.store_ca_certificate(authority, label=key_label)
        click.echo(f"stored {len(authorities)} CA certificate(s) as {key_label!r}")
        return
    cert = load_certificate(data)
    with TokenSession.open(
        module, token_label=token_label, pin=read_pin(pin_file), rw=True
    ) as session:
        key = session.find_key(label=key_label)
        session.store_certificate(cert, key=key, replace=replace)
    click.echo(f"stored {cert.subject.rfc4514_string()} with key {key_label!r} (id {key.id_hex})")


# -- hooks for ``qcert issue citizen|seal`` (card issuance flow) -------------------------------

_ISSUE_META = "qcertlib.token.issue"


def token_issue_options(func: F) -> F:
    """Add ``--pkcs11-module/--token/--key-label`` to an issue command.

    The values are kept in the click context; :func:`token_issue_requested` tells
    the command to hand over to :func:`issue_to_token`.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        pkcs11_module: Path | None = None,
        token_label: str | None = None,
        key_label: str | None = None,
        **kwargs: Any,
    ) -> Any:
        ctx = click.get_current_context()
        if pkcs11_module is not None or token_label is not None or key_label is not None:
            if pkcs11_module is None or token_label is None or key_label is None:
                raise click.UsageError(
                    "a token key needs --pkcs11-module, --token and --key-label together"
                )
            ctx.meta[_ISSUE_META] = (pkcs11_module, token_label, key_label)
        return func(*args, **kwargs)

    options = [
        click.option(
            "--pkcs11-module",
            type=_IN_FILE,
            help="Issue for a key on this PKCS#11 token (card issuance; needs the QSCD profile).",
        ),
        click.option("--token", "token_label", help="Token label (with --pkcs11-module)."),
        click.option(
            "--key-label",
            help="Token key label; generated on the token if absent (with --pkcs11-module).",
        ),
    ]
    result: Any = wrapper
    for option in reversed(options):
        result = option(result)
    return result  # type: ignore[no-any-return]


def token_issue_requested() -> bool:
    """True when the current ``qcert issue`` command was given a token key."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and _ISSUE_META in ctx.meta


def issue_to_token(
    ca: Any,
    profile: str,
    holder: Any,
    key_type: str,
    out: Path,
    pin_file: Path | None,
    months: int | None,
) -> None:
    """The card issuance flow behind ``qcert issue … --pkcs11-module``.

    Generates the key on the token if no key has the label, has the token sign the
    CSR, issues through *ca*, stores the certificate on the token next to its key
    and writes it (PEM) to *out*. ``--pin-file`` is the token's user PIN.
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    from qcertlib._io import write_atomic
    from qcertlib.issuance import KeySpec
    from qcertlib.tokens import TokenSession, issue_on_token

    module, token_label, key_label = click.get_current_context().meta[_ISSUE_META]
    prof = ca.resolve_profile(profile)
    if not prof.qscd:
        raise click.UsageError(
            "a token key is certified with the QSCD profile: add --qscd (citizen)"
            " or --level alto (seal)"
        )
    if out.suffix.lower() in (".p12", ".pfx", ".key"):
        raise click.UsageError("with a token key --out is the certificate (PEM): the key stays")
    spec = KeySpec.parse(key_type)
    pin = read_pin(pin_file)
    with TokenSession.open(module, token_label=token_label, pin=pin, rw=True) as session:
        result = issue_on_token(
            ca, prof, holder, session=session, key_label=key_label, key_spec=spec, months=months
        )
    write_atomic(out, result.certificate.public_bytes(Encoding.PEM), mode=0o644)
    cert = result.certificate
    click.echo(f"serial: {cert.serial_number:x}")
    click.echo(f"subject: {cert.subject.rfc4514_string()}")
    click.echo(
        f"valid: {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"
    )
    origin = "generated on the token" if result.key_generated else "already on the token"
    click.echo(f"key: {key_label!r} (id {result.key.id_hex}), {origin}")
    click.echo(f"stored the certificate on token {token_label!r}")
    click.echo(f"wrote {out}")


# -- hooks for ``qcert sign …`` (signing with a token key) ---------------------------------------

_SIGN_META = "qcertlib.token.sign"


def token_signer_options(func: F) -> F:
    """Add ``--pkcs11-module/--token/--key-label/--chain`` to a sign command.

    The values are kept in the click context; :func:`token_signer_requested` tells
    the command to take its backend from :func:`open_token_signer`.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        pkcs11_module: Path | None = None,
        token_label: str | None = None,
        key_label: str | None = None,
        chain_file: Path | None = None,
        **kwargs: Any,
    ) -> Any:
        ctx = click.get_current_context()
        if pkcs11_module is not None or token_label is not None or key_label is not None:
            if pkcs11_module is None or token_label is None or key_label is None:
                raise click.UsageError(
                    "a token key needs --pkcs11-module, --token and --key-label together"
                )
            ctx.meta[_SIGN_META] = (pkcs11_module, token_label, key_label, chain_file)
        elif chain_file is not None:
            raise click.UsageError("--chain goes with a token key (--pkcs11-module)")
        return func(*args, **kwargs)

    options = [
        click.option(
            "--pkcs11-module",
            type=_IN_FILE,
            help="Sign with a key on this PKCS#11 token instead of a PKCS#12 file.",
        ),
        click.option("--token", "token_label", help="Token label (with --pkcs11-module)."),
        click.option("--key-label", help="Label of the signing key on the token."),
        click.option(
            "--chain",
            "chain_file",
            type=_IN_FILE,
            help="PEM file with the issuer chain (default: CA certificates found on the token).",
        ),
    ]
    result: Any = wrapper
    for option in reversed(options):
        result = option(result)
    return result  # type: ignore[no-any-return]


def token_signer_requested() -> bool:
    """True when the current ``qcert sign`` command was given a token key."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and _SIGN_META in ctx.meta


def open_token_signer(pin_file: Path | None) -> Any:
    """Open the :class:`~qcertlib.tokens.Pkcs11Backend` named by the sign options.

    The PIN comes from ``--pin-file``, ``$QCERT_TOKEN_PIN`` or a prompt. The issuer
    chain is ``--chain`` or, without it, the CA certificates stored on the token
    that chain up from the signer's certificate. The backend is closed (logged
    out) when the command's click context ends, whatever happens.
    """
    from qcertlib._certs import load_certificates
    from qcertlib.errors import TokenKeyNotFoundError
    from qcertlib.tokens import Pkcs11Backend, TokenSession

    module, token_label, key_label, chain_file = click.get_current_context().meta[_SIGN_META]
    given = load_certificates(chain_file.read_bytes()) if chain_file is not None else None
    session = TokenSession.open(module, token_label=token_label, pin=read_pin(pin_file))
    try:
        key = session.find_key(label=key_label)
        cert = session.certificate(key)
        if cert is None:
            raise TokenKeyNotFoundError(
                f"key {key_label!r} has no certificate on the token: store one with"
                " qcert token import-cert"
            )
        if given is not None:
            chain: tuple[Any, ...] = tuple(given)
        else:
            by_subject = {c.subject: c for _, _, c in session.certificates()}
            found: list[Any] = []
            current = cert
            while current.issuer != current.subject and current.issuer in by_subject:
                current = by_subject[current.issuer]
                if current in found:
                    break
                found.append(current)
            chain = tuple(found)
        backend = Pkcs11Backend(session, key, cert, chain)
    except BaseException:
        session.close()
        raise
    click.get_current_context().call_on_close(backend.close)
    return backend
