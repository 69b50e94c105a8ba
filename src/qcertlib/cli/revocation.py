"""``qcert status`` (check a certificate's revocation) and ``qcert serve`` (OCSP/CRL server)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

__all__ = ["serve", "status"]

_EXIT = {"good": 0, "revoked": 1, "unknown": 2}


def _fetch_issuer(cert: object, timeout: float) -> object:
    """Download the issuer from the certificate's AIA caIssuers URL (http only)."""
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    from qcertlib._certs import load_certificate

    assert isinstance(cert, x509.Certificate)
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        aia = None
    urls = [
        d.access_location.value
        for d in aia or ()
        if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and d.access_location.value.lower().startswith(("http://", "https://"))
    ]
    if not urls:
        raise click.UsageError("no --issuer given and the certificate has no http caIssuers URL")
    import httpx

    try:
        response = httpx.get(urls[0], timeout=timeout, trust_env=False)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot fetch the issuer from {urls[0]}: {exc}") from None
    if response.status_code != 200 or len(response.content) > 1024 * 1024:
        raise click.ClickException(f"cannot fetch the issuer from {urls[0]}")
    return load_certificate(response.content)


@click.command("status")
@click.argument("cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--issuer",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Issuer certificate (default: the next certificate in CERT, else the AIA caIssuers URL).",
)
@click.option("--ocsp-url", help="OCSP responder (default: the certificate's AIA).")
@click.option(
    "--crl",
    "crls",
    multiple=True,
    help="A CRL file or http(s) URL (default: the certificate's CRL distribution points).",
)
@click.option(
    "--policy",
    type=click.Choice(["soft-fail", "hard-fail"]),
    default="soft-fail",
    show_default=True,
)
@click.option(
    "--nonce",
    type=click.Choice(["required", "preferred", "off"]),
    default="preferred",
    show_default=True,
    help="OCSP nonce policy ('off' for CAs that answer with a constant nonce).",
)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per fetch.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def status(
    cert: Path,
    issuer: Path | None,
    ocsp_url: str | None,
    crls: tuple[str, ...],
    policy: str,
    nonce: str,
    timeout: float,
    fmt: str,
) -> None:
    """Check the revocation status of CERT over OCSP, falling back to CRLs.

    Exit status: 0 good, 1 revoked, 2 unknown or not decidable under the policy
    (or unreadable input).
    """
    from qcertlib._certs import load_certificates
    from qcertlib.errors import QcertError, RevocationUnavailable
    from qcertlib.revocation import FailMode, NoncePolicy, RevocationPolicy, check

    try:
        chain = load_certificates(cert.read_bytes())
        target = chain[0]
        if issuer is not None:
            issuer_cert = load_certificates(issuer.read_bytes())[0]
        elif len(chain) > 1:
            issuer_cert = chain[1]
        else:
            issuer_cert = _fetch_issuer(target, timeout)  # type: ignore[assignment]
        crl_inputs: list[bytes | str] = []
        for item in crls:
            if item.lower().startswith(("http://", "https://", "ldap://")):
                crl_inputs.append(item)
            else:
                try:
                    crl_inputs.append(Path(item).read_bytes())
                except OSError as exc:
                    raise click.UsageError(f"cannot read the CRL {item}: {exc.strerror}") from None
        rev_policy = RevocationPolicy(
            fail_mode=FailMode(policy), nonce=NoncePolicy(nonce), timeout=timeout
        )
        result = check(target, issuer_cert, rev_policy, ocsp_url=ocsp_url, crls=crl_inputs or None)
    except RevocationUnavailable as exc:
        if fmt == "json":
            click.echo(
                json.dumps(
                    {
                        "status": "unknown",
                        "reason": None,
                        "revocation_time": None,
                        "source": None,
                        "produced_at": None,
                        "next_update": None,
                        "errors": [str(exc)],
                    },
                    indent=2,
                )
            )
        else:
            click.echo(f"unknown: {exc}")
        sys.exit(2)
    except QcertError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    data = result.to_dict()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    else:
        line = str(data["status"])
        if data["source"]:
            line += f" (from {data['source']})"
        click.echo(line)
        for label, keyname in (
            ("reason", "reason"),
            ("revocation time", "revocation_time"),
            ("produced at", "produced_at"),
            ("this update", "this_update"),
            ("next update", "next_update"),
        ):
            if data[keyname]:
                click.echo(f"  {label}: {data[keyname]}")
        for error in result.errors:
            click.echo(f"  note: {error}")
    sys.exit(_EXIT[result.status.value])


def _keys_encrypted(directory: Path) -> bool:
    """True for a qcertlib PKI whose keys are encrypted (test PKIs are not)."""
    try:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and bool(config.get("encrypted_keys"))


@click.command("serve")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File with the PKI passphrase (or $QCERT_PASSPHRASE); test PKIs need none.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes sharing the socket (use the machine's cores).",
)
@click.option(
    "--server",
    "server_name",
    type=click.Choice(["uvicorn", "granian"]),
    default="uvicorn",
    show_default=True,
    help="HTTP server: uvicorn (ASGI) or granian (RSGI; higher OCSP throughput).",
)
def serve(
    directory: Path,
    host: str,
    port: int,
    passphrase_file: Path | None,
    log_level: str,
    workers: int,
    server_name: str,
) -> None:
    """Serve the PKI in DIRECTORY: OCSP (POST and GET), the CRL, CA certificates, /health.

    Listens on loopback unless --host says otherwise; stops gracefully on Ctrl-C /
    SIGTERM. Works on a qcertlib PKI directory or an openssl-ca style one
    (ca.pem, index.txt, ocsp.pem + ocsp.key or ca.key).
    """
    import logging

    from qcertlib.cli._secrets import read_secret
    from qcertlib.errors import QcertError
    from qcertlib.services import serve as run

    passphrase = None
    if passphrase_file is not None or _keys_encrypted(directory):
        passphrase = read_secret(
            passphrase_file, env_var="QCERT_PASSPHRASE", what="PKI passphrase", required=True
        )
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        run(
            directory,
            host=host,
            port=port,
            passphrase=passphrase,
            log_level=log_level,
            workers=workers,
            server=server_name,
        )
    except QcertError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
