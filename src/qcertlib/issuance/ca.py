"""A certificate authority on disk that issues only conforming certificates.

A PKI directory holds::

    config.json              name, base URL, key type, creation time
    root.pem   root.key      self-signed root
    ca.pem     ca.key        issuing CA (signs leaves, CRLs, the OCSP and TSA certificates)
    ocsp.pem   ocsp.key      delegated OCSP responder (id-kp-OCSPSigning + id-pkix-ocsp-nocheck)
    tsa.pem    tsa.key       time-stamping unit (EKU timeStamping, critical)
    registry.sqlite          issued certificates, revocations, CRL numbers, generation codes

Keys are PKCS#8 PEM, mode 0600, encrypted when a passphrase is given. Without a
passphrase the directory is a *test* PKI (``config.json`` says so).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from qcertlib._io import write_atomic
from qcertlib.errors import (
    IssuanceError,
    KeyFileError,
    LintRefusal,
    RegistryError,
    ValidityError,
)
from qcertlib.issuance import lifecycle
from qcertlib.issuance.csr import verify_csr
from qcertlib.issuance.keys import (
    KeySpec,
    PrivateKey,
    PublicKey,
    check_key_strength,
    generate_key,
    load_private_key,
    save_private_key,
)
from qcertlib.issuance.lifecycle import holder_to_dict
from qcertlib.issuance.registry import (
    CertificateRecord,
    Registry,
    RevocationReason,
    SerialCollisionError,
)
from qcertlib.profiles import (
    CertificateProfile,
    Holder,
    LintReport,
    PkiUrls,
    get_profile,
    lint,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MAX_VALIDITY",
    "CertificateAuthority",
    "PkiFiles",
    "random_serial",
]

MAX_VALIDITY = timedelta(days=5 * 365 + 1)
"""Legal cap on a qualified certificate's validity (Ley 6/2020 art. 4.2: five years)."""

_CONFIG = "config.json"
_ROOT_YEARS = 20
_CA_YEARS = 10
_OCSP_DAYS = 2 * 365
_TSA_DAYS = 5 * 365
_SERIAL_BITS = 128
_SERIAL_ATTEMPTS = 8


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC).replace(microsecond=0)
    if at.tzinfo is None:
        raise ValueError("'at' must be timezone-aware (UTC)")
    return at.astimezone(UTC).replace(microsecond=0)


def random_serial() -> int:
    """A positive 128-bit serial number from the OS CSPRNG (:mod:`secrets`).

    The top bit is cleared so the DER INTEGER stays 16 bytes; at least 64 bits are
    random as CA/B and ETSI practice require (FNMT and ACCV use 128-bit serials).
    """
    while True:
        value = secrets.randbits(_SERIAL_BITS - 1)
        if value >= 1 << 64:
            return value


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


@dataclass(frozen=True, slots=True)
class PkiFiles:
    """Paths of the files of a PKI directory."""

    directory: Path

    @property
    def config(self) -> Path:
        return self.directory / _CONFIG

    @property
    def registry(self) -> Path:
        return self.directory / Registry.FILENAME

    def cert(self, name: str) -> Path:
        """``DIR/<name>.pem`` (``root``, ``ca``, ``ocsp``, ``tsa``)."""
        return self.directory / f"{name}.pem"

    def key(self, name: str) -> Path:
        """``DIR/<name>.key``."""
        return self.directory / f"{name}.key"


def _name(
    common_name: str, organization: str, country: str, organization_identifier: str | None = None
) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ]
    if organization_identifier:
        attributes.append(
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, organization_identifier)
        )
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _ski(public_key: Any) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return der


def _uri(url: str) -> x509.UniformResourceIdentifier:
    return x509.UniformResourceIdentifier(url)


class CertificateAuthority:
    """An issuing CA with its root, OCSP and TSA signers and its registry.

    Create one with :meth:`init`, reopen it with :meth:`open`. Issue leaf
    certificates with :meth:`issue`; revoke, renew, publish CRLs and hand out
    generation codes with the lifecycle methods.
    """

    def __init__(
        self,
        directory: Path,
        *,
        config: dict[str, Any],
        root: x509.Certificate,
        certificate: x509.Certificate,
        key: PrivateKey,
        ocsp_certificate: x509.Certificate,
        tsa_certificate: x509.Certificate,
        registry: Registry,
        passphrase: str | None,
    ) -> None:
        self.directory = directory
        self.files = PkiFiles(directory)
        self.config = config
        self.root = root
        self.certificate = certificate
        self._key = key
        self.ocsp_certificate = ocsp_certificate
        self.tsa_certificate = tsa_certificate
        self.registry = registry
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return f"CertificateAuthority({str(self.directory)!r}, name={self.name!r})"

    # -- properties -------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The PKI's name (organisation of its CA certificates)."""
        return str(self.config["name"])

    @property
    def base_url(self) -> str:
        """Base URL under which the CA publishes ``ca.crt``, ``ca.crl`` and OCSP."""
        return str(self.config["base_url"])

    @property
    def is_test_pki(self) -> bool:
        """True when the keys are stored unencrypted (created without a passphrase)."""
        return not bool(self.config.get("encrypted_keys"))

    @property
    def key(self) -> PrivateKey:
        """The issuing CA's private key (also signs CRLs)."""
        return self._key

    @property
    def chain(self) -> tuple[x509.Certificate, x509.Certificate]:
        """``(issuing CA, root)``: the chain to ship with a leaf certificate."""
        return (self.certificate, self.root)

    @property
    def ca_issuers_url(self) -> str:
        """AIA caIssuers URL: where the issuing CA certificate is published."""
        return f"{self.base_url}/ca.crt"

    @property
    def ocsp_url(self) -> str:
        """AIA OCSP URL of the responder."""
        return f"{self.base_url}/ocsp"

    @property
    def crl_url(self) -> str:
        """CRL distribution point of the issuing CA."""
        return f"{self.base_url}/ca.crl"

    def load_signer_key(self, name: str) -> PrivateKey:
        """Load the private key of a signer of the PKI: ``root``, ``ca``, ``ocsp`` or ``tsa``."""
        if name not in ("root", "ca", "ocsp", "tsa"):
            raise ValueError(f"unknown signer {name!r}")
        return load_private_key(self.files.key(name), self._passphrase)

    # -- creation -------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        directory: str | os.PathLike[str],
        *,
        name: str = "qcertlib Test PKI",
        country: str = "ES",
        organization_identifier: str | None = None,
        key_spec: KeySpec = KeySpec.RSA_3072,
        base_url: str = "http://pki.example.com",
        passphrase: str | None = None,
        at: datetime | None = None,
    ) -> CertificateAuthority:
        """Create a new PKI in *directory* (created if needed; must not hold a PKI yet).

        Generates the root (20 years), the issuing CA (10 years), the OCSP signer
        (2 years) and the TSA signer (5 years), all starting at *at* (default: now),
        writes their certificates and keys, ``config.json`` and the registry.
        Without *passphrase* the keys are written unencrypted: a test PKI.
        *organization_identifier* (e.g. ``VATES-A40573396`` as ACCV's 2023 CAs carry)
        is added to the CA names: eIDAS Annex I (b) wants the QTSP's registration
        number there; it must differ from *name* (ETSI GEN-4.2.3.1-3).
        """
        start = _now(at)
        target = Path(directory)
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise ValueError("country must be an ISO 3166 two-letter upper-case code")
        if not name.strip():
            raise ValueError("the PKI name must not be empty")
        if organization_identifier is not None:
            from qcertlib.identifiers import parse_etsi_identifier

            parse_etsi_identifier(organization_identifier, legal=True)  # IdentifierError
            if organization_identifier == name:
                raise ValueError("the organizationIdentifier must differ from the name (O)")
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        files = PkiFiles(target)
        if files.config.exists() or files.registry.exists():
            raise IssuanceError(f"{target} already holds a PKI")
        target.mkdir(parents=True, exist_ok=True)

        root_key = generate_key(key_spec)
        ca_key = generate_key(key_spec)
        ocsp_key = generate_key(key_spec)
        tsa_key = generate_key(key_spec)
        not_before = start - timedelta(minutes=5)

        root_name = _name(f"{name} Root CA", name, country, organization_identifier)
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(random_serial())
            .not_valid_before(not_before)
            .not_valid_after(start + timedelta(days=365 * _ROOT_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(_ski(root_key.public_key()), critical=False)
            .sign(root_key, _hash_for(root_key))
        )
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{name} Issuing CA", name, country, organization_identifier))
            .issuer_name(root.subject)
            .public_key(ca_key.public_key())
            .serial_number(random_serial())
            .not_valid_before(not_before)
            .not_valid_after(start + timedelta(days=365 * _CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(_ski(ca_key.public_key()), critical=False)
            .add_extension(_aki(root), critical=False)
            .add_extension(
                x509.CertificatePolicies(
                    [x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS, _uri(f"{base}/root.crt")
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(_crldp(f"{base}/root.crl"), critical=False)
            .sign(root_key, _hash_for(root_key))
        )
        ocsp_cert = _service_cert(
            subject=_name(f"{name} OCSP Responder", name, country, organization_identifier),
            public_key=ocsp_key.public_key(),
            issuer=ca_cert,
            issuer_key=ca_key,
            not_before=not_before,
            not_after=min(start + timedelta(days=_OCSP_DAYS), ca_cert.not_valid_after_utc),
            eku=ExtendedKeyUsageOID.OCSP_SIGNING,
            extra=[(x509.OCSPNoCheck(), False)],
            base=base,
        )
        tsa_cert = _service_cert(
            subject=_name(f"{name} TSA", name, country, organization_identifier),
            public_key=tsa_key.public_key(),
            issuer=ca_cert,
            issuer_key=ca_key,
            not_before=not_before,
            not_after=min(start + timedelta(days=_TSA_DAYS), ca_cert.not_valid_after_utc),
            eku=ExtendedKeyUsageOID.TIME_STAMPING,
            extra=[],
            base=base,
        )

        for stem, key, cert in (
            ("root", root_key, root),
            ("ca", ca_key, ca_cert),
            ("ocsp", ocsp_key, ocsp_cert),
            ("tsa", tsa_key, tsa_cert),
        ):
            save_private_key(files.key(stem), key, passphrase)
            write_atomic(files.cert(stem), cert.public_bytes(Encoding.PEM), mode=0o644)
        registry = Registry.create(files.registry)
        config: dict[str, Any] = {
            "format": 1,
            "name": name,
            "country": country,
            "organization_identifier": organization_identifier,
            "base_url": base,
            "key_spec": key_spec.value,
            "created_at": start.isoformat(),
            "encrypted_keys": passphrase is not None,
        }
        write_atomic(
            files.config, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode(), mode=0o644
        )
        return cls(
            target,
            config=config,
            root=root,
            certificate=ca_cert,
            key=ca_key,
            ocsp_certificate=ocsp_cert,
            tsa_certificate=tsa_cert,
            registry=registry,
            passphrase=passphrase,
        )

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], passphrase: str | None = None
    ) -> CertificateAuthority:
        """Open the PKI in *directory*; the passphrase decrypts the issuing CA key.

        Raises :class:`~qcertlib.errors.IssuanceError` if the directory holds no PKI
        and :class:`~qcertlib.errors.KeyFileError` on a wrong or missing passphrase.
        """
        target = Path(directory)
        files = PkiFiles(target)
        try:
            config = json.loads(files.config.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IssuanceError(f"{target} is not a PKI directory (no {_CONFIG})") from None
        except (OSError, ValueError) as exc:
            raise IssuanceError(f"cannot read {files.config}: {exc}") from None
        if not isinstance(config, dict) or config.get("format") != 1:
            raise IssuanceError(f"{files.config} is not a qcertlib PKI configuration")
        if config.get("encrypted_keys") and not passphrase:
            raise KeyFileError(f"the keys of {target} are encrypted: a passphrase is required")
        certs: dict[str, x509.Certificate] = {}
        for stem in ("root", "ca", "ocsp", "tsa"):
            try:
                certs[stem] = x509.load_pem_x509_certificate(files.cert(stem).read_bytes())
            except (OSError, ValueError) as exc:
                raise IssuanceError(f"cannot read {files.cert(stem)}: {exc}") from None
        key = load_private_key(
            files.key("ca"), passphrase if config.get("encrypted_keys") else None
        )
        if _spki(key.public_key()) != _spki(certs["ca"].public_key()):
            raise KeyFileError(f"{files.key('ca')} does not match {files.cert('ca')}")
        registry = Registry.open(files.registry)
        return cls(
            target,
            config=config,
            root=certs["root"],
            certificate=certs["ca"],
            key=key,
            ocsp_certificate=certs["ocsp"],
            tsa_certificate=certs["tsa"],
            registry=registry,
            passphrase=passphrase if config.get("encrypted_keys") else None,
        )

    # -- helpers for issuance ------------------------------------------------------------

    def _new_serial(self) -> int:
        """A fresh random serial not yet in the registry (collisions are retried)."""
        while True:
            serial = random_serial()
            if not self.registry.has_serial(serial):
                return serial

    def _validity(self, start: datetime, length: timedelta) -> tuple[datetime, datetime]:
        """``(notBefore, notAfter)`` for a leaf starting at *start*.

        notAfter is capped at the issuing CA's notAfter (as real CAs do); a length over
        the legal 5-year cap, or a start outside the CA's validity, is refused.
        """
        if length > MAX_VALIDITY:
            raise ValidityError(
                f"validity of {length.days} days exceeds the 5-year legal cap for qualified"
                " certificates"
            )
        ca_not_before = self.certificate.not_valid_before_utc
        ca_not_after = self.certificate.not_valid_after_utc
        if start < ca_not_before or start >= ca_not_after:
            raise ValidityError(
                f"the issuing CA is not valid at {start.isoformat()} (valid"
                f" {ca_not_before.isoformat()} to {ca_not_after.isoformat()})"
            )
        return start, min(start + length, ca_not_after)

    def _sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        return builder.sign(self._key, _hash_for(self._key))

    def sign_crl(
        self, builder: x509.CertificateRevocationListBuilder
    ) -> x509.CertificateRevocationList:
        """Sign a CRL builder with the issuing CA key (used by :func:`build_crl`)."""
        return builder.sign(self._key, _hash_for(self._key))

    def sign_root_crl(
        self, builder: x509.CertificateRevocationListBuilder
    ) -> x509.CertificateRevocationList:
        """Sign a CRL builder with the root key (used by :func:`build_root_crl`)."""
        key = self.load_signer_key("root")
        return builder.sign(key, _hash_for(key))

    @property
    def urls(self) -> PkiUrls:
        """The :class:`~qcertlib.profiles.PkiUrls` of this CA (caIssuers, OCSP, CRL)."""
        return PkiUrls(ca_issuers=self.ca_issuers_url, ocsp=self.ocsp_url, crl=self.crl_url)

    @staticmethod
    def resolve_profile(profile: CertificateProfile | str) -> CertificateProfile:
        """A profile object for *profile* (a name is looked up in the catalog)."""
        if isinstance(profile, str):
            return get_profile(profile)
        if not isinstance(profile, CertificateProfile):
            raise TypeError("profile must be a CertificateProfile or a profile name")
        return profile

    def issue(
        self,
        profile: CertificateProfile | str,
        holder: Holder,
        public_key_or_csr: PublicKey | x509.CertificateSigningRequest | bytes,
        *,
        months: int | None = None,
        at: datetime | None = None,
    ) -> x509.Certificate:
        """Issue a certificate for *holder* under *profile* and record it.

        *profile* is a :class:`~qcertlib.profiles.CertificateProfile` or its name;
        *public_key_or_csr* a public key, a CSR object or CSR bytes (PEM/DER; then
        checked with :func:`~qcertlib.issuance.verify_csr`). The profile decides the
        key rule, the validity (capped at the CA's notAfter, never over 5 years),
        the subject and every extension; the serial is 128 random bits, unique in
        the registry. The signed certificate then goes through the **lint gate**:
        if the profile's own linter reports an ERROR or FATAL finding the CA raises
        :class:`~qcertlib.errors.LintRefusal` (with the report) and records nothing.
        """
        prof = self.resolve_profile(profile)
        when = _now(at)
        given: object = public_key_or_csr
        public_key: PublicKey
        if isinstance(given, x509.CertificateSigningRequest | bytes | bytearray):
            request = bytes(given) if isinstance(given, bytes | bytearray) else given
            public_key = verify_csr(request, holder=holder, profile=prof)
        elif isinstance(given, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            public_key = given
        elif isinstance(given, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError("pass the public key (key.public_key()), never the private key")
        else:
            prof.check_key(given)  # a clear WeakKeyError for DSA, Ed25519, ...
            raise TypeError("public_key_or_csr must be a public key or a CSR")
        prof.check_key(public_key)
        not_before, not_after = self._validity(when, prof.validity_for(months))
        subject = prof.subject_for(holder)
        extensions = prof.extensions_for(
            holder,
            subject_public_key=public_key,
            issuer_certificate=self.certificate,
            urls=self.urls,
        )
        holder_data = holder_to_dict(holder)
        for _ in range(_SERIAL_ATTEMPTS):
            certificate = self.sign_leaf(
                subject=subject,
                public_key=public_key,
                not_before=not_before,
                not_after=not_after,
                extensions=extensions,
                serial=self._new_serial(),
            )
            self.lint_gate(certificate, prof, at=when)
            try:
                self.registry.add_certificate(
                    certificate, profile=prof.name, holder=holder_data, issued_at=when
                )
            except SerialCollisionError:
                continue
            return certificate
        raise RegistryError("could not allocate a unique serial number")  # pragma: no cover

    @staticmethod
    def lint_gate(
        certificate: x509.Certificate, profile: CertificateProfile, *, at: datetime | None = None
    ) -> LintReport:
        """Lint *certificate* against *profile*; raise :class:`~qcertlib.errors.LintRefusal`
        unless the report is ok (no ERROR/FATAL). Returns the report."""
        report = lint(certificate, profile, at=at)
        if not report.ok:
            problems = "; ".join(
                f"{finding.code} ({finding.severity.name}) at {finding.field}: {finding.message}"
                for finding in report.errors
            )
            raise LintRefusal(
                f"refused: the certificate does not conform to profile {profile.name}: {problems}",
                report=report,
            )
        return report

    # -- lifecycle ------------------------------------------------------------------------

    def revoke(
        self,
        serial: int | str,
        reason: RevocationReason | str = RevocationReason.UNSPECIFIED,
        *,
        at: datetime | None = None,
    ) -> CertificateRecord:
        """Revoke a certificate for good; see :func:`qcertlib.issuance.lifecycle.revoke`."""
        return lifecycle.revoke(self, serial, reason, at=at)

    def build_crl(
        self,
        *,
        at: datetime | None = None,
        lifetime: timedelta = lifecycle.DEFAULT_CRL_LIFETIME,
    ) -> x509.CertificateRevocationList:
        """Sign a fresh CRL; see :func:`qcertlib.issuance.lifecycle.build_crl`."""
        return lifecycle.build_crl(self, at=at, lifetime=lifetime)

    def build_root_crl(
        self,
        *,
        at: datetime | None = None,
        lifetime: timedelta = lifecycle.DEFAULT_ROOT_CRL_LIFETIME,
    ) -> x509.CertificateRevocationList:
        """Sign a fresh root CRL (ARL); see :func:`qcertlib.issuance.lifecycle.build_root_crl`."""
        return lifecycle.build_root_crl(self, at=at, lifetime=lifetime)

    def renew(
        self,
        serial: int | str,
        public_key_or_csr: Any = None,
        *,
        key_spec: KeySpec | None = None,
        at: datetime | None = None,
    ) -> lifecycle.Renewal:
        """Renew inside the renewal window; see :func:`qcertlib.issuance.lifecycle.renew`."""
        return lifecycle.renew(self, serial, public_key_or_csr, key_spec=key_spec, at=at)

    def new_code(
        self,
        target: int | str | lifecycle.PendingRequest,
        *,
        private_key: PrivateKey | None = None,
        length: int = lifecycle.DEFAULT_CODE_LENGTH,
        ttl: timedelta = lifecycle.DEFAULT_CODE_TTL,
        max_tries: int = lifecycle.DEFAULT_CODE_MAX_TRIES,
        at: datetime | None = None,
    ) -> str:
        """Hand out a generation code; see :func:`qcertlib.issuance.lifecycle.new_code`."""
        return lifecycle.new_code(
            self,
            target,
            private_key=private_key,
            length=length,
            ttl=ttl,
            max_tries=max_tries,
            at=at,
        )

    def redeem(
        self,
        code: str,
        pin: str,
        *,
        nif: str,
        at: datetime | None = None,
        friendly_name: str | None = None,
    ) -> lifecycle.Redemption:
        """Redeem a generation code; see :func:`qcertlib.issuance.lifecycle.redeem`."""
        return lifecycle.redeem(self, code, pin, nif=nif, at=at, friendly_name=friendly_name)

    def sign_leaf(
        self,
        *,
        subject: x509.Name,
        public_key: Any,
        not_before: datetime,
        not_after: datetime,
        extensions: Iterable[tuple[x509.ExtensionType, bool]],
        serial: int,
    ) -> x509.Certificate:
        """Sign a leaf exactly as given (no profile, no lint, no registry).

        The building block under :meth:`issue`; public so that tests can produce
        deliberately broken certificates and benchmarks a bare baseline.
        """
        check_key_strength(public_key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        for value, critical in extensions:
            builder = builder.add_extension(value, critical=critical)
        return self._sign(builder)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _crldp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[_uri(url)], relative_name=None, reasons=None, crl_issuer=None
            )
        ]
    )


def _service_cert(
    *,
    subject: x509.Name,
    public_key: Any,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    not_before: datetime,
    not_after: datetime,
    eku: x509.ObjectIdentifier,
    extra: list[tuple[x509.ExtensionType, bool]],
    base: str,
) -> x509.Certificate:
    """An OCSP or TSA signer certificate: digitalSignature, one critical EKU."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=eku == ExtendedKeyUsageOID.TIME_STAMPING,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
        .add_extension(_ski(public_key), critical=False)
        .add_extension(_aki(issuer), critical=False)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS, _uri(f"{base}/ca.crt")
                    )
                ]
            ),
            critical=False,
        )
    )
    if eku != ExtendedKeyUsageOID.OCSP_SIGNING:
        builder = builder.add_extension(_crldp(f"{base}/ca.crl"), critical=False)
    for value, critical in extra:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(issuer_key, _hash_for(issuer_key))
