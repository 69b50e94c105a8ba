"""Load what to serve from a PKI directory, and run the server.

Two layouts are understood:

* a qcertlib PKI (``config.json`` present, made by
  :meth:`qcertlib.issuance.ca.CertificateAuthority.init`): statuses come from
  ``registry.sqlite``, OCSP is signed by ``ocsp.pem``/``ocsp.key``, the CRL is
  built by the CA (rebuilt whenever the registry changes);
* an ``openssl ca`` style directory: ``ca.pem`` (issuing CA), ``index.txt``
  (statuses), ``ocsp.pem``+``ocsp.key`` (delegated signer) or ``ca.key`` (the CA
  signs), optional ``root.pem``, and either a ready ``ca.crl`` or ``ca.key`` to
  build one from the index.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from qcertlib._certs import load_certificate
from qcertlib.errors import DecodingError, KeyFileError, QcertError
from qcertlib.revocation.responder import OcspResponder, ResponderKey
from qcertlib.revocation.sources import OpenSslIndexSource, RegistryStatusSource
from qcertlib.services.app import CaEndpoint, ServiceConfig

__all__ = ["app_from_environment", "load_directory", "serve"]


def _read_key(path: Path, passphrase: str | None) -> ResponderKey:
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), passphrase.encode() if passphrase else None
        )
    except (OSError, ValueError, TypeError):
        raise KeyFileError(f"cannot read the private key {path.name}") from None
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise KeyFileError(f"{path.name}: unsupported key type")
    return key


def _read_cert(path: Path) -> x509.Certificate:
    try:
        return load_certificate(path.read_bytes())
    except OSError as exc:
        raise DecodingError(f"cannot read {path}: {exc.strerror}") from None


def _cached_crl(
    generation: Callable[[], Hashable], build: Callable[[], bytes]
) -> Callable[[], bytes]:
    """Rebuild the CRL when the status source changes or it is half-way to nextUpdate."""
    lock = threading.Lock()
    state: dict[str, Any] = {}

    def current() -> bytes:
        now = datetime.now(UTC)
        gen = generation()
        with lock:
            if state.get("gen") != gen or state.get("refresh", now) <= now:
                der = build()
                crl = x509.load_der_x509_crl(der)
                nxt = crl.next_update_utc or now
                state.update(gen=gen, der=der, refresh=now + (nxt - now) / 2)
            return bytes(state["der"])

    return current


def _index_crl(
    ca: x509.Certificate, key: ResponderKey, source: OpenSslIndexSource, lifetime: timedelta
) -> Callable[[], bytes]:
    def build() -> bytes:
        now = datetime.now(UTC).replace(microsecond=0)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.subject)
            .last_update(now)
            .next_update(now + lifetime)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        entries = []
        for serial, status in source.revoked():
            assert status.revocation_time is not None
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(status.revocation_time)
            )
            if status.reason is not None:
                entry = entry.add_extension(x509.CRLReason(status.reason), critical=False)
            entries.append(entry.build())
        for entry_built in entries:
            builder = builder.add_revoked_certificate(entry_built)
        algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)

    return _cached_crl(source.generation, build)


def load_directory(
    directory: str | os.PathLike[str],
    *,
    passphrase: str | None = None,
    ocsp_validity: timedelta = timedelta(hours=1),
    crl_lifetime: timedelta = timedelta(days=1),
) -> ServiceConfig:
    """Build a :class:`ServiceConfig` for the PKI in *directory* (see the module doc)."""
    path = Path(directory)
    if not path.is_dir():
        raise QcertError(f"{path} is not a directory")
    if (path / "config.json").exists():
        return _load_qcertlib_pki(path, passphrase, ocsp_validity)
    ca = _read_cert(path / "ca.pem")
    index = path / "index.txt"
    if not index.exists():
        raise QcertError(f"{path} has neither config.json (qcertlib PKI) nor index.txt")
    source = OpenSslIndexSource(index)
    ca_key = _read_key(path / "ca.key", passphrase) if (path / "ca.key").exists() else None
    if (path / "ocsp.pem").exists():
        signer_cert: x509.Certificate | None = _read_cert(path / "ocsp.pem")
        signer_key = _read_key(path / "ocsp.key", passphrase)
    elif ca_key is not None:
        signer_cert, signer_key = None, ca_key
    else:
        raise QcertError(f"{path} has no OCSP signer (ocsp.pem + ocsp.key) and no ca.key")
    responder = OcspResponder(
        ca, source, signer_key, signer_cert=signer_cert, validity=ocsp_validity
    )
    crl: Callable[[], bytes] | None = None
    if (path / "ca.crl").exists():
        static = path / "ca.crl"

        def crl_file() -> bytes:
            return static.read_bytes()

        crl = crl_file
    elif ca_key is not None:
        crl = _index_crl(ca, ca_key, source, crl_lifetime)
    extra = {"root": _read_cert(path / "root.pem")} if (path / "root.pem").exists() else {}
    return ServiceConfig((CaEndpoint("ca", ca, responder, crl),), extra)


def _load_qcertlib_pki(path: Path, passphrase: str | None, validity: timedelta) -> ServiceConfig:
    from qcertlib.issuance.ca import CertificateAuthority

    authority = CertificateAuthority.open(path, passphrase)
    source = RegistryStatusSource(authority.registry)
    signer_key = authority.load_signer_key("ocsp")
    responder = OcspResponder(
        authority.certificate,
        source,
        signer_key,
        signer_cert=authority.ocsp_certificate,
        validity=validity,
    )

    def build() -> bytes:
        return authority.build_crl().public_bytes(serialization.Encoding.DER)

    def build_root() -> bytes:
        return authority.build_root_crl().public_bytes(serialization.Encoding.DER)

    crl = _cached_crl(source.generation, build)
    # The root's CRL (ARL) at {base}/root.crl, where the issuing CA's CRLDP points; it
    # does not depend on the registry, so it is rebuilt only half-way to nextUpdate.
    root_crl = _cached_crl(lambda: 0, build_root)
    from qcertlib.services.tsa import tsa_for_authority  # RFC 3161 at POST /tsa

    return ServiceConfig(
        (
            CaEndpoint("ca", authority.certificate, responder, crl),
            CaEndpoint("root", authority.root, None, root_crl),
        ),
        tsa=tsa_for_authority(authority),
    )


_ENV_LOG_LEVEL = "QCERT_LOG_LEVEL"
_ENV_DIR = "QCERT_SERVE_DIR"


def app_from_environment() -> Any:
    """The app of one worker process of ``qcert serve`` when the server runs workers in
    processes of their own (uvicorn with ``--workers N``, granian always): a factory.

    Reads the directory from ``$QCERT_SERVE_DIR``, the passphrase, if any, from
    ``$QCERT_PASSPHRASE`` and the log level from ``$QCERT_LOG_LEVEL``; each worker has
    its own responder and pre-produced responses, and checks the shared status source
    on every request.
    """
    from qcertlib.services.app import create_app

    level = os.environ.get(_ENV_LOG_LEVEL)
    if level:
        logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(message)s")
    passphrase = os.environ.get("QCERT_PASSPHRASE") or None
    return create_app(load_directory(os.environ[_ENV_DIR], passphrase=passphrase))


SERVERS = ("uvicorn", "granian")
"""The HTTP servers :func:`serve` can run (both in the ``server`` extra)."""


def serve(
    directory: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    passphrase: str | None = None,
    log_level: str = "info",
    workers: int = 1,
    server: str = "uvicorn",
) -> None:
    """Serve the PKI in *directory* until SIGINT/SIGTERM (graceful).

    Binds to loopback unless *host* says otherwise. The status source's generation
    is checked on every request, so a revocation made by another process
    (``qcert revoke``, ``openssl ca -revoke``) shows in the next response — also
    with ``workers > 1`` (the passphrase then reaches the worker processes through
    ``$QCERT_PASSPHRASE``).

    *server* ``"uvicorn"`` (default) serves the ASGI app with uvicorn (httptools,
    uvloop); ``"granian"`` serves the same app through its RSGI face with granian,
    a Rust (hyper) HTTP server whose workers hand the OCSP path the body in one call
    and take the answer in one call: about 1.6x uvicorn's OCSP throughput per worker
    (``benchmarks/bench_revocation.py``). Both stop gracefully on SIGINT/SIGTERM.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if server not in SERVERS:
        raise ValueError(f"server must be one of {', '.join(SERVERS)}")
    config = load_directory(directory, passphrase=passphrase)  # fail fast, in this process
    if server == "granian" or workers > 1:
        os.environ[_ENV_DIR] = str(Path(directory).resolve())
        os.environ[_ENV_LOG_LEVEL] = log_level
        if passphrase is not None:
            os.environ["QCERT_PASSPHRASE"] = passphrase
    if server == "granian":
        _serve_granian(host, port, log_level, workers)
        return
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "timeout_graceful_shutdown": 5,
        "limit_concurrency": 1024,
        "server_header": False,
    }
    if workers > 1:
        uvicorn.run(
            "qcertlib.services.config:app_from_environment",
            factory=True,
            workers=workers,
            **options,
        )
        return
    from qcertlib.services.app import create_app

    uvicorn.Server(uvicorn.Config(create_app(config), **options)).run()


def _serve_granian(host: str, port: int, log_level: str, workers: int) -> None:
    """Run granian (RSGI, HTTP/1.1, no websockets) over :func:`app_from_environment`."""
    try:
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces
        from granian.log import LogLevels
    except ImportError:
        raise QcertError(
            "qcert serve --server granian needs granian: pip install 'qcertlib[server]'"
        ) from None

    Granian(
        "qcertlib.services.config:app_from_environment",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        http=HTTPModes.http1,
        websockets=False,
        factory=True,
        log_level=LogLevels(log_level),
        log_access=False,
        backlog=1024,
        workers_kill_timeout=5,
    ).serve()
