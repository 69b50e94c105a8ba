"""A ready-made test PKI, built only on qcertlib's public API.

One call gives a root, an issuing CA, OCSP and TSA signers, and five leaf
certificates with their keys: a citizen (software), a citizen on a QSCD card, an
e-Organ seal nivel medio, a seal nivel alto, and a revoked citizen certificate,
plus a CRL listing the revoked one. Everything is written under one directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib._io import write_atomic
from qcertlib.issuance import (
    CertificateAuthority,
    KeySpec,
    PrivateKey,
    RevocationReason,
    generate_key,
    load_private_key,
    save_private_key,
)
from qcertlib.pkcs12 import KeyStore, dump_pkcs12
from qcertlib.profiles import Citizen, Holder, PublicBody

__all__ = ["TEST_HOLDERS", "Credential", "TestPKI"]

TEST_HOLDERS: dict[str, Holder] = {
    "citizen": Citizen(
        given_name="ANA MARÍA",
        first_surname="GARCÍA",
        second_surname="LÓPEZ",
        nif="12345678Z",
        email="ana.garcia@example.com",
    ),
    "citizen_qscd": Citizen(
        given_name="JORDI",
        first_surname="PUIG",
        second_surname="FERRER",
        nif="00000000T",
        email="jordi.puig@example.com",
    ),
    "seal_medio": PublicBody(
        name="CONSELL DE PROVES",
        nif="S0733002J",
        system_name="PLATAFORMA DE PROVES",
        email="seu@example.com",
    ),
    "seal_alto": PublicBody(
        name="AGENCIA DE PRUEBAS",
        nif="Q2826004J",
        system_name="SELLO DE ORGANO DE PRUEBAS",
        email="sello@example.com",
    ),
    "revoked": Citizen(
        given_name="PEDRO",
        first_surname="PÉREZ",
        nif="X1234567L",
        email="pedro.perez@example.com",
    ),
}
"""The holders of the test certificates (fictitious people and bodies; the NIFs
are well-formed test numbers)."""

_PLAN: tuple[tuple[str, str, int | None], ...] = (
    ("citizen", "citizen", None),
    ("citizen_qscd", "citizen-qscd", None),
    ("seal_medio", "eorgan-seal", 24),
    ("seal_alto", "eorgan-seal-qscd", 24),
    ("revoked", "citizen", None),
)


@dataclass(frozen=True, slots=True)
class Credential:
    """A test certificate with its private key and chain (files written unencrypted)."""

    name: str
    profile: str
    holder: Holder
    certificate: x509.Certificate
    private_key: PrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...]
    cert_path: Path
    key_path: Path

    @property
    def serial(self) -> int:
        """The certificate's serial number."""
        return self.certificate.serial_number

    def pkcs12(self, pin: str = "1234", *, friendly_name: str | None = None) -> bytes:
        """The credential as a PKCS#12 file (key, certificate, chain) protected by *pin*."""
        store = KeyStore.single(
            self.private_key, self.certificate, list(self.chain), friendly_name=friendly_name
        )
        return dump_pkcs12(store, pin)


@dataclass(frozen=True, slots=True)
class TestPKI:
    """A complete test PKI; create one with :meth:`create`.

    Files in :attr:`directory`: the CA's own (``root.pem``, ``ca.pem``,
    ``ocsp.pem``, ``tsa.pem`` and keys, ``registry.sqlite``, ``config.json``),
    ``chain.pem`` (issuing CA + root), ``ca.crl`` (PEM) and
    ``leaves/<name>.pem`` / ``leaves/<name>.key`` for each credential.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class

    directory: Path
    ca: CertificateAuthority
    ocsp_key: PrivateKey = field(repr=False)
    tsa_key: PrivateKey = field(repr=False)
    citizen: Credential
    citizen_qscd: Credential
    seal_medio: Credential
    seal_alto: Credential
    revoked: Credential
    crl: x509.CertificateRevocationList
    at: datetime

    @property
    def root(self) -> x509.Certificate:
        """The self-signed root certificate."""
        return self.ca.root

    @property
    def issuing_ca(self) -> x509.Certificate:
        """The issuing CA certificate (issuer of every leaf)."""
        return self.ca.certificate

    @property
    def ocsp(self) -> x509.Certificate:
        """The OCSP responder certificate (id-kp-OCSPSigning + ocsp-nocheck)."""
        return self.ca.ocsp_certificate

    @property
    def tsa(self) -> x509.Certificate:
        """The TSA certificate (critical EKU timeStamping)."""
        return self.ca.tsa_certificate

    @property
    def credentials(self) -> tuple[Credential, ...]:
        """All five leaf credentials (the revoked one last)."""
        return (self.citizen, self.citizen_qscd, self.seal_medio, self.seal_alto, self.revoked)

    @property
    def chain_path(self) -> Path:
        """``chain.pem``: issuing CA then root."""
        return self.directory / "chain.pem"

    @property
    def crl_path(self) -> Path:
        """``ca.crl``: the CRL (PEM) listing :attr:`revoked`."""
        return self.directory / "ca.crl"

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        *,
        at: datetime | None = None,
        ca_key_spec: KeySpec = KeySpec.EC_P256,
        leaf_key_spec: KeySpec = KeySpec.EC_P256,
        base_url: str = "http://pki.example.com",
    ) -> TestPKI:
        """Create the whole test PKI in *directory* (which must not hold a PKI yet).

        All certificates start at *at* (default: now, UTC); the revoked citizen
        certificate is revoked (keyCompromise) at *at* and ``ca.crl`` is issued at
        *at*. EC P-256 keys by default keep this fast; pass
        ``KeySpec.RSA_2048`` where a test needs RSA.
        """
        when = (datetime.now(UTC) if at is None else at.astimezone(UTC)).replace(microsecond=0)
        target = Path(directory)
        ca = CertificateAuthority.init(
            target,
            name="qcertlib Test PKI",
            key_spec=ca_key_spec,
            base_url=base_url,
            at=when,
        )
        leaves = target / "leaves"
        leaves.mkdir(exist_ok=True)
        chain = (ca.certificate, ca.root)
        write_atomic(
            target / "chain.pem", b"".join(c.public_bytes(Encoding.PEM) for c in chain), mode=0o644
        )
        made: dict[str, Credential] = {}
        for name, profile, months in _PLAN:
            holder = TEST_HOLDERS[name]
            key = generate_key(leaf_key_spec)
            cert = ca.issue(profile, holder, key.public_key(), months=months, at=when)
            cert_path = write_atomic(
                leaves / f"{name}.pem", cert.public_bytes(Encoding.PEM), mode=0o644
            )
            key_path = save_private_key(leaves / f"{name}.key", key, None)
            made[name] = Credential(
                name=name,
                profile=profile,
                holder=holder,
                certificate=cert,
                private_key=key,
                chain=chain,
                cert_path=cert_path,
                key_path=key_path,
            )
        ca.revoke(made["revoked"].serial, RevocationReason.KEY_COMPROMISE, at=when)
        crl = ca.build_crl(at=when, lifetime=timedelta(days=30))
        write_atomic(target / "ca.crl", crl.public_bytes(Encoding.PEM), mode=0o644)
        return cls(
            directory=target,
            ca=ca,
            ocsp_key=load_private_key(ca.files.key("ocsp")),
            tsa_key=load_private_key(ca.files.key("tsa")),
            citizen=made["citizen"],
            citizen_qscd=made["citizen_qscd"],
            seal_medio=made["seal_medio"],
            seal_alto=made["seal_alto"],
            revoked=made["revoked"],
            crl=crl,
            at=when,
        )
