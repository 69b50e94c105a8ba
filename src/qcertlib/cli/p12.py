"""``qcert p12``: inspect, pack, unpack and convert PKCS#12 (.p12/.pfx) files.

PINs come from ``--pin-file`` / ``--new-pin-file``, the ``QCERT_PIN`` /
``QCERT_NEW_PIN`` environment variables or a hidden prompt, never from argv.
Every error (wrong PIN, damaged file, unsupported algorithm, unreadable key) is a
one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qcertlib.cli._secrets import read_secret

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from qcertlib.pkcs12 import KeyStore, Pkcs12Info

__all__ = ["p12"]

PIN_ENV = "QCERT_PIN"
NEW_PIN_ENV = "QCERT_NEW_PIN"
KEY_PASSPHRASE_ENV = "QCERT_KEY_PASSPHRASE"  # noqa: S105 - a variable name

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_SECRET_FILE = click.Path(exists=False, dir_okay=False, path_type=Path)


class _Failure(click.ClickException):
    """A clean ``Error: ...`` line and exit status 2 (input that cannot be used)."""

    exit_code = 2


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _Failure(f"cannot read {path}: {exc.strerror}") from None


def _load_store(path: Path, pin: str | None) -> KeyStore:
    from qcertlib.errors import QcertError
    from qcertlib.pkcs12 import load_pkcs12

    try:
        return load_pkcs12(_read(path), pin)
    except QcertError as exc:
        raise _Failure(f"{path.name}: {exc}") from None


def _pin(pin_file: Path | None, *, confirm: bool = False) -> str:
    value = read_secret(pin_file, env_var=PIN_ENV, what="PIN", confirm=confirm)
    assert value is not None
    return value


_ITERATIONS = click.option(
    "--iterations",
    type=click.IntRange(1, 5_000_000),
    help="Iteration count for the contents and the MAC (default: 600,000 modern, 100,000 legacy).",
)


@click.group("p12")
def p12() -> None:
    """PKCS#12 (.p12/.pfx) files: info, pack, unpack, convert.

    PINs: --pin-file, $QCERT_PIN (and --new-pin-file, $QCERT_NEW_PIN) or a prompt.
    Exit status 2 on any error, a wrong PIN included.
    """


# --- info ---------------------------------------------------------------------------


def _info_dict(info: Pkcs12Info) -> dict[str, Any]:
    mac = None
    if info.mac is not None:
        mac = {
            "algorithm": info.mac.algorithm,
            "iterations": info.mac.iterations,
            "salt_length": info.mac.salt_length,
            "verified": info.mac.verified,
        }
    bags = [
        {
            "kind": bag.kind,
            "encryption": bag.encryption,
            "iterations": bag.iterations,
            "supported": bag.supported,
            "friendly_name": bag.friendly_name,
            "local_key_id": None if bag.local_key_id is None else bag.local_key_id.hex(),
            "subject": bag.subject,
            "key_type": bag.key_type,
        }
        for bag in info.bags
    ]
    return {"mac": mac, "bags": bags}


def _render_info(name: str, data: dict[str, Any]) -> str:
    lines = [f"{name}"]
    mac = data["mac"]
    if mac is None:
        lines.append("  MAC: none (no integrity check)")
    else:
        state = "verified" if mac["verified"] else "not checked (no PIN given)"
        lines.append(f"  MAC: {mac['algorithm']}, {mac['iterations']:,} iterations, {state}")
    for bag in data["bags"]:
        head = {
            "shrouded-key": "private key (encrypted)",
            "key": "private key (NOT encrypted)",
            "certificate": "certificate",
            "encrypted-safe": "encrypted bags (give the PIN to see inside)",
        }.get(bag["kind"], bag["kind"])
        lines.append(f"  - {head}")
        if bag["encryption"]:
            supported = "" if bag["supported"] else "  [not supported by qcertlib]"
            iterations = f", {bag['iterations']:,} iterations" if bag["iterations"] else ""
            lines.append(f"      protection: {bag['encryption']}{iterations}{supported}")
        for label, key in (
            ("key type", "key_type"),
            ("subject", "subject"),
            ("friendly name", "friendly_name"),
            ("localKeyId", "local_key_id"),
        ):
            if bag[key]:
                lines.append(f"      {label}: {bag[key]}")
    return "\n".join(lines)


@p12.command("info")
@click.argument("file", type=_FILE)
@click.option("--pin-file", type=_SECRET_FILE, help="File holding the PIN (else $QCERT_PIN).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info_cmd(file: Path, pin_file: Path | None, as_json: bool) -> None:
    """What is inside FILE: MAC, bags, algorithms, iteration counts, subjects, key types.

    Without a PIN only the unencrypted parts are shown.
    """
    from qcertlib.errors import QcertError
    from qcertlib.pkcs12 import inspect_pkcs12

    pin = read_secret(pin_file, env_var=PIN_ENV, what="PIN (empty: none)", required=False)
    try:
        info = inspect_pkcs12(_read(file), pin or None)
    except QcertError as exc:
        raise _Failure(f"{file.name}: {exc}") from None
    data = _info_dict(info)
    click.echo(json.dumps(data, indent=2) if as_json else _render_info(file.name, data))


# --- pack -----------------------------------------------------------------------------


def _load_key(path: Path, passphrase_file: Path | None) -> PrivateKeyTypes:
    from cryptography.hazmat.primitives import serialization

    data = _read(path)
    loader = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in data
        else serialization.load_der_private_key
    )
    try:
        return loader(data, password=None)
    except TypeError:
        pass  # encrypted: a passphrase is needed
    except Exception:
        raise _Failure(f"{path.name}: not a private key (PEM or DER PKCS#8/PKCS#1/SEC1)") from None
    passphrase = read_secret(passphrase_file, env_var=KEY_PASSPHRASE_ENV, what="key passphrase")
    assert passphrase is not None
    try:
        return loader(data, password=passphrase.encode("utf-8"))
    except Exception:
        raise _Failure(f"{path.name}: wrong passphrase or unreadable private key") from None


def _load_certs(path: Path) -> list[x509.Certificate]:
    from qcertlib._certs import load_certificates
    from qcertlib.errors import QcertError

    try:
        return load_certificates(_read(path))
    except QcertError as exc:
        raise _Failure(f"{path.name}: {exc}") from None


def _compat(legacy: bool) -> Any:
    from qcertlib.pkcs12 import Pkcs12Compat

    return Pkcs12Compat.LEGACY if legacy else Pkcs12Compat.MODERN


def _write(out: Path, store: KeyStore, pin: str, legacy: bool, iterations: int | None) -> None:
    from qcertlib.errors import QcertError
    from qcertlib.pkcs12 import write_pkcs12

    try:
        write_pkcs12(out, store, pin, compat=_compat(legacy), iterations=iterations)
    except QcertError as exc:
        raise _Failure(str(exc)) from None
    except OSError as exc:
        raise _Failure(f"cannot write {out}: {exc.strerror}") from None


@p12.command("pack")
@click.option("--key", "key_path", type=_FILE, required=True, help="Private key (PEM or DER).")
@click.option("--cert", "cert_path", type=_FILE, required=True, help="Its certificate.")
@click.option("--chain", "chain_path", type=_FILE, help="CA certificates (PEM, several ok).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--pin-file", type=_SECRET_FILE, help="File holding the new PIN (else $QCERT_PIN).")
@click.option("--legacy", is_flag=True, help="3DES + SHA-1 MAC for old Windows / Java 8.")
@click.option(
    "--key-passphrase-file",
    type=_SECRET_FILE,
    help="Passphrase of an encrypted key (else $QCERT_KEY_PASSPHRASE).",
)
@click.option("--name", help="Friendly name (the alias in Java, the nickname in NSS).")
@_ITERATIONS
def pack_cmd(
    key_path: Path,
    cert_path: Path,
    chain_path: Path | None,
    out: Path,
    pin_file: Path | None,
    legacy: bool,
    key_passphrase_file: Path | None,
    name: str | None,
    iterations: int | None,
) -> None:
    """Pack a key, its certificate and its chain into a new PKCS#12 file (mode 0600)."""
    from qcertlib.pkcs12 import KeyStore

    key = _load_key(key_path, key_passphrase_file)
    cert = _load_certs(cert_path)[0]
    chain = _load_certs(chain_path) if chain_path is not None else []
    pin = _pin(pin_file, confirm=True)
    _write(out, KeyStore.single(key, cert, chain, friendly_name=name), pin, legacy, iterations)
    click.echo(f"wrote {out} ({'legacy' if legacy else 'modern'}, {1 + len(chain)} certificates)")


# --- unpack ---------------------------------------------------------------------------


@p12.command("unpack")
@click.argument("file", type=_FILE)
@click.option("--pin-file", type=_SECRET_FILE, help="File holding the PIN (else $QCERT_PIN).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the PEM files (created if needed).",
)
@click.option(
    "--no-encrypt-key",
    is_flag=True,
    help="Write keys unencrypted (still mode 0600). Default: encrypted with the same PIN.",
)
def unpack_cmd(file: Path, pin_file: Path | None, out_dir: Path, no_encrypt_key: bool) -> None:
    """Write FILE's keys, certificates and chains as PEM files in a directory.

    One key: key.pem, cert.pem, chain.pem. Several: key-1.pem, cert-1.pem,
    chain-1.pem, ... Certificates that belong to no chain go to others.pem.
    """
    from cryptography.hazmat.primitives import serialization

    from qcertlib._io import write_atomic

    pin = _pin(pin_file)
    store = _load_store(file, pin)
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise _Failure(f"cannot create {out_dir}: {exc.strerror}") from None
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if no_encrypt_key or not pin
        else serialization.BestAvailableEncryption(pin.encode("utf-8"))
    )

    def pem(certs: tuple[x509.Certificate, ...] | list[x509.Certificate]) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)

    written: list[str] = []
    in_chains: set[x509.Certificate] = set()
    try:
        for index, entry in enumerate(store.keys, start=1):
            suffix = "" if len(store.keys) == 1 else f"-{index}"
            key_pem = entry.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
            write_atomic(out_dir / f"key{suffix}.pem", key_pem, mode=0o600)
            written.append(f"key{suffix}.pem")
            if entry.certificate is not None:
                write_atomic(out_dir / f"cert{suffix}.pem", pem([entry.certificate]), mode=0o644)
                written.append(f"cert{suffix}.pem")
            chain = store.chain_for(entry)
            in_chains.update(chain)
            if chain:
                write_atomic(out_dir / f"chain{suffix}.pem", pem(chain), mode=0o644)
                written.append(f"chain{suffix}.pem")
        others = [c for c in store.certificates if c not in in_chains]
        if others:
            write_atomic(out_dir / "others.pem", pem(others), mode=0o644)
            written.append("others.pem")
    except OSError as exc:
        raise _Failure(f"cannot write into {out_dir}: {exc.strerror}") from None
    state = (
        "unencrypted, mode 0600"
        if isinstance(encryption, serialization.NoEncryption)
        else ("encrypted with the PIN")
    )
    click.echo(f"wrote {', '.join(written)} in {out_dir} (keys {state})")


# --- convert ---------------------------------------------------------------------------


@p12.command("convert")
@click.argument("file", type=_FILE)
@click.option("--pin-file", type=_SECRET_FILE, help="File holding the PIN (else $QCERT_PIN).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--to", "target", type=click.Choice(["modern", "legacy"]), default="modern",
              show_default=True, help="Compatibility profile of the new file.")  # fmt: skip
@click.option(
    "--new-pin-file",
    type=_SECRET_FILE,
    help="File holding a new PIN (else $QCERT_NEW_PIN; none: keep the PIN).",
)
@_ITERATIONS
def convert_cmd(
    file: Path,
    pin_file: Path | None,
    out: Path,
    target: str,
    new_pin_file: Path | None,
    iterations: int | None,
) -> None:
    """Re-protect FILE (e.g. an FNMT legacy download) with modern or legacy algorithms.

    Every key, certificate and friendly name is kept.
    """
    pin = _pin(pin_file)
    store = _load_store(file, pin)
    new_pin = read_secret(
        new_pin_file, env_var=NEW_PIN_ENV, what="new PIN (empty: keep)", confirm=True,
        required=False,
    )  # fmt: skip
    _write(out, store, new_pin or pin, target == "legacy", iterations)
    click.echo(
        f"wrote {out} ({target}, {len(store.keys)} keys, {len(store.certificates)} CA certificates)"
    )
