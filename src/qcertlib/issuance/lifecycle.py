"""Certificate lifecycle as the seed documents describe it: revocation, CRLs,
renewal and generation codes.

* **Revocation** is irreversible; reasons come from RFC 5280 without
  ``certificateHold`` / ``removeFromCRL``; revoking twice raises
  :class:`~qcertlib.errors.AlreadyRevokedError`.
* **CRLs** are signed by the issuing CA, carry a strictly increasing CRL number,
  thisUpdate / nextUpdate, a reason code per entry (omitted for ``unspecified`` as
  RFC 5280 recommends) and the authorityKeyIdentifier.
* **Renewal** of a citizen certificate is possible only inside the profile's
  renewal window (70 days before expiry); the new certificate carries the same
  holder data and the old one is then revoked as ``superseded``.
* **Generation codes**: after identity is checked the holder receives a one-time
  code (default 10 alphanumeric, case-sensitive characters; single use; expires
  after 15 days; void after 3 wrong tries). Only a salted scrypt hash is stored
  (see :func:`qcertlib.issuance.registry.hash_code`). Redeeming it yields the
  holder's key and certificate as a PKCS#12 file protected by the holder's PIN.
"""

from __future__ import annotations

import dataclasses
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qcertlib.errors import (
    AlreadyRevokedError,
    GenerationCodeError,
    IssuanceError,
    KeyFileError,
    RenewalWindowError,
)
from qcertlib.issuance.keys import KeySpec, PrivateKey, generate_key, private_key_pem
from qcertlib.issuance.registry import (
    CertificateRecord,
    CertificateStatus,
    CodeRecord,
    CodeStatus,
    RevocationReason,
    format_serial,
    parse_serial,
)
from qcertlib.pkcs12 import KeyStore, PinPolicy, dump_pkcs12
from qcertlib.profiles import Citizen, Custodian, Holder, PublicBody

if TYPE_CHECKING:
    from qcertlib.issuance.ca import CertificateAuthority

__all__ = [
    "CODE_ALPHABET",
    "DEFAULT_CODE_LENGTH",
    "DEFAULT_CODE_MAX_TRIES",
    "DEFAULT_CODE_TTL",
    "DEFAULT_CRL_LIFETIME",
    "PendingRequest",
    "Redemption",
    "Renewal",
    "build_crl",
    "holder_from_dict",
    "holder_to_dict",
    "new_code",
    "package",
    "redeem",
    "renew",
    "renewal_opens_at",
    "revoke",
]

CODE_ALPHABET = string.ascii_letters + string.digits
"""Generation-code alphabet: case-sensitive letters and digits (62 symbols)."""
DEFAULT_CODE_LENGTH = 10
"""The seed documents' code length (ACCV's current pages say 25: a parameter)."""
DEFAULT_CODE_TTL = timedelta(days=15)
"""A code expires 15 days after it is handed out."""
DEFAULT_CODE_MAX_TRIES = 3
"""A code is void after 3 wrong tries."""
DEFAULT_CRL_LIFETIME = timedelta(days=7)
"""nextUpdate - thisUpdate of the CRLs :func:`build_crl` makes by default."""
DEFAULT_ROOT_CRL_LIFETIME = timedelta(days=90)
"""nextUpdate - thisUpdate of the root's CRL (it changes only if an issuing CA is revoked)."""


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC).replace(microsecond=0)
    if at.tzinfo is None:
        raise ValueError("'at' must be timezone-aware (UTC)")
    return at.astimezone(UTC).replace(microsecond=0)


# -- revocation -----------------------------------------------------------------------


def revoke(
    ca: CertificateAuthority,
    serial: int | str,
    reason: RevocationReason | str = RevocationReason.UNSPECIFIED,
    *,
    at: datetime | None = None,
) -> CertificateRecord:
    """Revoke *serial* at *at* (default now), for good.

    Raises :class:`~qcertlib.errors.AlreadyRevokedError` when it is already revoked
    and :class:`~qcertlib.errors.UnknownCertificateError` for a serial the CA never
    issued. ``reason`` may be given by its RFC 5280 name.
    """
    when = _now(at)
    why = reason if isinstance(reason, RevocationReason) else RevocationReason.parse(reason)
    return ca.registry.mark_revoked(parse_serial(serial), why, when)


# -- CRLs -----------------------------------------------------------------------------------


def build_crl(
    ca: CertificateAuthority,
    *,
    at: datetime | None = None,
    lifetime: timedelta = DEFAULT_CRL_LIFETIME,
) -> x509.CertificateRevocationList:
    """Build, sign and record the issuing CA's CRL as of *at* (default now).

    Lists every certificate revoked at or before *at* with its revocation date and
    reason code; the CRL number is one more than any CRL this CA made before.
    """
    this_update = _now(at)
    if lifetime <= timedelta(0):
        raise ValueError("the CRL lifetime must be positive")
    next_update = this_update + lifetime
    number = ca.registry.next_crl_number(this_update, next_update)
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    )
    for record in ca.registry.certificates(CertificateStatus.REVOKED):
        if record.revoked_at is None or record.revoked_at > this_update:
            continue
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(record.serial)
            .revocation_date(record.revoked_at)
        )
        if record.reason is not None and record.reason is not RevocationReason.UNSPECIFIED:
            entry = entry.add_extension(x509.CRLReason(record.reason.flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = ca.sign_crl(builder)
    ca.registry.store_crl(number, crl.public_bytes(serialization.Encoding.DER))
    return crl


def build_root_crl(
    ca: CertificateAuthority,
    *,
    at: datetime | None = None,
    lifetime: timedelta = DEFAULT_ROOT_CRL_LIFETIME,
) -> x509.CertificateRevocationList:
    """Build, sign (with the root key) and record the root's CRL (an ARL) as of *at*.

    The issuing CA's certificate names it in its CRL distribution point
    (``{base_url}/root.crl``), so relying parties can check the CA itself. qcertlib
    CAs never revoke their own issuing CA, so the list is empty; the CRL number is
    its own monotonic sequence.
    """
    this_update = _now(at)
    if lifetime <= timedelta(0):
        raise ValueError("the CRL lifetime must be positive")
    next_update = this_update + lifetime
    number = ca.registry.next_crl_number(this_update, next_update, root=True)
    root = ca.root
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    )
    crl = ca.sign_root_crl(builder)
    ca.registry.store_crl(number, crl.public_bytes(serialization.Encoding.DER), root=True)
    return crl


# -- holder data <-> JSON --------------------------------------------------------------------


def holder_to_dict(holder: Holder) -> dict[str, Any]:
    """The JSON form of a :class:`~qcertlib.profiles.Citizen` or
    :class:`~qcertlib.profiles.PublicBody` (``{"kind": ..., fields...}``)."""
    if not isinstance(holder, Citizen | PublicBody):
        raise TypeError("holder must be a Citizen or PublicBody")
    kind = type(holder).__name__
    data: dict[str, Any] = dataclasses.asdict(holder)
    data["kind"] = kind
    return data


def holder_from_dict(data: dict[str, Any]) -> Holder:
    """Rebuild (and re-validate) a holder from :func:`holder_to_dict` output."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind == "Citizen":
        return Citizen(**fields)
    if kind == "PublicBody":
        custodian = fields.pop("custodian", None)
        if custodian is not None:
            fields["custodian"] = Custodian(**custodian)
        return PublicBody(**fields)
    raise IssuanceError(f"the registry holds holder data of unknown kind {kind!r}")


# -- renewal ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Renewal:
    """Result of :func:`renew`: the new certificate, its key if the CA generated it,
    and the (now revoked, superseded) old record."""

    certificate: x509.Certificate
    private_key: PrivateKey | None
    replaced: CertificateRecord

    def __repr__(self) -> str:
        return (
            f"Renewal(serial={format_serial(self.certificate.serial_number)},"
            f" replaced={self.replaced.serial_hex})"
        )


def renewal_opens_at(record: CertificateRecord, window: timedelta) -> datetime:
    """When the renewal window of *record* opens (notAfter - window)."""
    return record.not_after - window


def renew(
    ca: CertificateAuthority,
    serial: int | str,
    public_key_or_csr: Any = None,
    *,
    key_spec: KeySpec | None = None,
    at: datetime | None = None,
) -> Renewal:
    """Renew the certificate *serial* at *at* (default now).

    Allowed only for profiles with a renewal window (citizen: 70 days before expiry)
    and only inside it; earlier or later raises
    :class:`~qcertlib.errors.RenewalWindowError` (``opens_at`` says when the window
    opens). The new certificate has the same profile and holder data; without a
    public key or CSR a fresh key is generated (same type as the old certificate's,
    or *key_spec*). Once the new certificate is recorded, the old one is revoked
    with reason ``superseded``.
    """
    when = _now(at)
    record = ca.registry.get(parse_serial(serial))
    if record.revoked:
        raise IssuanceError(
            f"certificate {record.serial_hex} is revoked and cannot be renewed: apply for a new one"
        )
    profile = ca.resolve_profile(record.profile)
    window: timedelta | None = profile.renewal_window
    if window is None:
        raise RenewalWindowError(
            f"profile {record.profile} certificates are not renewed: issue a new certificate"
        )
    opens_at = renewal_opens_at(record, window)
    if when >= record.not_after:
        raise RenewalWindowError(
            f"certificate {record.serial_hex} expired at {record.not_after.isoformat()}:"
            " it can no longer be renewed, apply for a new one",
            opens_at=opens_at,
        )
    if when < opens_at:
        raise RenewalWindowError(
            f"certificate {record.serial_hex} can be renewed only in the {window.days} days"
            f" before it expires: the renewal window opens at {opens_at.isoformat()}",
            opens_at=opens_at,
        )
    holder = holder_from_dict(record.holder)
    private_key: PrivateKey | None = None
    if public_key_or_csr is None:
        spec = key_spec or _spec_like(record.certificate.public_key())
        private_key = generate_key(spec)
        public_key_or_csr = private_key.public_key()
    certificate = ca.issue(profile, holder, public_key_or_csr, at=when)
    try:
        replaced = ca.registry.mark_revoked(
            record.serial,
            RevocationReason.SUPERSEDED,
            when,
            superseded_by=certificate.serial_number,
        )
    except AlreadyRevokedError:
        # Renewed or revoked concurrently by someone else: withdraw our new certificate
        # so that at most one successor stays valid.
        ca.registry.mark_revoked(certificate.serial_number, RevocationReason.SUPERSEDED, when)
        raise
    return Renewal(certificate=certificate, private_key=private_key, replaced=replaced)


def _spec_like(public_key: Any) -> KeySpec:
    if isinstance(public_key, rsa.RSAPublicKey):
        return {3072: KeySpec.RSA_3072, 4096: KeySpec.RSA_4096}.get(
            public_key.key_size, KeySpec.RSA_2048
        )
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.key_size >= 384:
        return KeySpec.EC_P384
    return KeySpec.EC_P256


# -- generation codes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A certificate not issued yet: what to issue when the holder redeems the code.

    ``holder`` is a :class:`~qcertlib.profiles.Citizen` or
    :class:`~qcertlib.profiles.PublicBody`; the key (``key_spec``) is generated at
    redemption time.
    """

    profile: str
    holder: Holder
    months: int | None = None
    key_spec: KeySpec = KeySpec.RSA_2048


@dataclass(frozen=True, slots=True)
class Redemption:
    """What a redeemed code yields.

    ``data`` is a PKCS#12 file protected by the PIN (``format == "pkcs12"``) or,
    when PEM was asked for, the certificate, chain and the key encrypted with the
    PIN (``format == "pem"``).
    """

    certificate: x509.Certificate
    format: str
    data: bytes

    def __repr__(self) -> str:
        return (
            f"Redemption(serial={format_serial(self.certificate.serial_number)},"
            f" format={self.format!r}, data=<{len(self.data)} bytes>)"
        )


def _holder_id(holder: Holder) -> str:
    nif = getattr(holder, "nif", None)
    if not isinstance(nif, str) or not nif:
        raise TypeError("holder must have a 'nif'")
    return nif


def _normalize_holder_id(nif: str) -> str:
    return "".join(ch for ch in nif.upper() if ch.isalnum())


def new_code(
    ca: CertificateAuthority,
    target: int | str | PendingRequest,
    *,
    private_key: PrivateKey | None = None,
    length: int = DEFAULT_CODE_LENGTH,
    ttl: timedelta = DEFAULT_CODE_TTL,
    max_tries: int = DEFAULT_CODE_MAX_TRIES,
    at: datetime | None = None,
) -> str:
    """Create a generation code and return it — the only time it exists in the clear.

    *target* is either a :class:`PendingRequest` (redeeming issues the certificate
    with a fresh key) or the serial of an issued certificate whose *private_key*
    the CA generated; that key is then kept only encrypted under the code itself,
    so the CA cannot read it back without the code. A new code replaces any live
    code of the same holder (identified by NIF).
    """
    if not 6 <= length <= 64:
        raise ValueError("the code length must be between 6 and 64 characters")
    if max_tries < 1:
        raise ValueError("max_tries must be at least 1")
    if ttl <= timedelta(0):
        raise ValueError("the code lifetime must be positive")
    created = _now(at)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    if isinstance(target, PendingRequest):
        ca.resolve_profile(target.profile)  # unknown profile -> ProfileError now, not later
        if private_key is not None:
            raise ValueError("a pending request generates its key at redemption")
        request: dict[str, Any] | None = {
            "profile": target.profile,
            "holder": holder_to_dict(target.holder),
            "months": target.months,
            "key_spec": target.key_spec.value,
        }
        serial: int | None = None
        holder_id = _holder_id(target.holder)
        key_blob: bytes | None = None
    else:
        record = ca.registry.get(parse_serial(target))
        if record.revoked:
            raise IssuanceError(f"certificate {record.serial_hex} is revoked")
        if private_key is None:
            raise ValueError("a code for an issued certificate needs the private key to deliver")
        if _spki(private_key.public_key()) != _spki(record.certificate.public_key()):
            raise ValueError("the private key does not belong to that certificate")
        request = None
        serial = record.serial
        holder_id = str(record.holder.get("nif", ""))
        key_blob = private_key_pem(private_key, code)
    return _store_code(
        ca,
        code,
        holder_id=_normalize_holder_id(holder_id),
        serial=serial,
        request=request,
        created=created,
        ttl=ttl,
        max_tries=max_tries,
        key_blob=key_blob,
    )


def _store_code(
    ca: CertificateAuthority,
    code: str,
    *,
    holder_id: str,
    serial: int | None,
    request: dict[str, Any] | None,
    created: datetime,
    ttl: timedelta,
    max_tries: int,
    key_blob: bytes | None,
) -> str:
    ca.registry.add_code(
        code,
        holder_id=holder_id,
        serial=serial,
        request=request,
        created_at=created,
        expires_at=created + ttl,
        max_tries=max_tries,
        key_blob=key_blob,
    )
    return code


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def redeem(
    ca: CertificateAuthority,
    code: str,
    pin: str,
    *,
    nif: str,
    at: datetime | None = None,
    friendly_name: str | None = None,
) -> Redemption:
    """Redeem a generation code: the holder (*nif*) gets their key and certificate.

    The output is protected by *pin*. Failures are
    :class:`~qcertlib.errors.GenerationCodeError` with ``reason``:

    * ``"wrong"`` — not this holder's code; ``tries_left`` says how many tries remain;
    * ``"exhausted"`` — the last allowed wrong try was made: the code is void;
    * ``"used"`` — the code was redeemed already (single use);
    * ``"expired"`` — older than its lifetime, or replaced by a newer code;
    * ``"unknown"`` — the holder has no live code.
    """
    if not isinstance(code, str) or not isinstance(pin, str):
        raise TypeError("code and pin must be str")
    if not pin:
        raise ValueError("the PIN must not be empty")
    when = _now(at)
    holder_id = _normalize_holder_id(nif)
    key_blob: bytes | None = None
    failure: GenerationCodeError | None = None
    with ca.registry.code_transaction(holder_id) as session:
        # The transaction commits what happened (a counted wrong try, the code marked
        # used) before any error is raised below.
        found, records = session.match(code)
        if found is None:
            failure = _wrong_code(session, records, when)
        else:
            failure = _check_usable(found, when)
            if failure is None:
                key_blob = session.key_blob(found.id)
                session.mark_used(found, when)
    if failure is not None:
        raise failure
    assert found is not None
    try:
        redemption = _deliver(ca, found, key_blob, code, pin, when, friendly_name)
    except BaseException:
        ca.registry.reactivate_code(found.id)
        raise
    ca.registry.erase_code_key(found.id)
    return redemption


def _wrong_code(session: Any, records: list[CodeRecord], when: datetime) -> GenerationCodeError:
    live = [r for r in records if r.status is CodeStatus.ACTIVE and when < r.expires_at]
    if live:
        left = session.failed_try(live[0])
        if left == 0:
            return GenerationCodeError(
                "wrong generation code: that was the last allowed try, the code is now void;"
                " ask the registration office for a new one",
                reason="exhausted",
                tries_left=0,
            )
        return GenerationCodeError(
            f"wrong generation code ({left} {'try' if left == 1 else 'tries'} left)",
            reason="wrong",
            tries_left=left,
        )
    if records and records[0].status is CodeStatus.EXHAUSTED:
        return GenerationCodeError(
            "the generation code is void after too many wrong tries; ask for a new one",
            reason="exhausted",
            tries_left=0,
        )
    if records and records[0].status is CodeStatus.ACTIVE:
        return GenerationCodeError(
            "the generation code has expired; ask for a new one", reason="expired"
        )
    return GenerationCodeError("there is no live generation code for this holder", reason="unknown")


def _check_usable(record: CodeRecord, when: datetime) -> GenerationCodeError | None:
    if record.status is CodeStatus.USED:
        used = record.used_at.isoformat() if record.used_at else "before"
        return GenerationCodeError(
            f"this generation code was already used ({used}): codes are single use",
            reason="used",
        )
    if record.status is CodeStatus.EXHAUSTED:
        return GenerationCodeError(
            "this generation code is void after too many wrong tries; ask for a new one",
            reason="exhausted",
            tries_left=0,
        )
    if record.status is CodeStatus.REPLACED:
        return GenerationCodeError(
            "this generation code was replaced by a newer one", reason="expired"
        )
    if when >= record.expires_at:
        return GenerationCodeError(
            f"this generation code expired at {record.expires_at.isoformat()}; ask for a new one",
            reason="expired",
        )
    return None


def _deliver(
    ca: CertificateAuthority,
    record: CodeRecord,
    key_blob: bytes | None,
    code: str,
    pin: str,
    when: datetime,
    friendly_name: str | None,
) -> Redemption:
    if record.request is not None:
        request = record.request
        holder = holder_from_dict(request["holder"])
        key = generate_key(KeySpec(request["key_spec"]))
        certificate = ca.issue(
            request["profile"], holder, key.public_key(), months=request["months"], at=when
        )
    else:
        if key_blob is None or record.serial is None:
            raise GenerationCodeError("the key for this code is no longer available", reason="used")
        try:
            loaded = serialization.load_pem_private_key(key_blob, password=code.encode("utf-8"))
        except ValueError:
            raise KeyFileError("the escrowed key cannot be decrypted") from None
        if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyFileError("the escrowed key has an unsupported type")
        key = loaded
        certificate = ca.registry.get(record.serial).certificate
    return package(ca, key, certificate, pin, friendly_name=friendly_name)


def package(
    ca: CertificateAuthority,
    key: PrivateKey,
    certificate: x509.Certificate,
    pin: str,
    *,
    friendly_name: str | None = None,
    as_pem: bool = False,
) -> Redemption:
    """Package *key* + *certificate* (+ the CA chain) protected by *pin*.

    A PKCS#12 file (:func:`qcertlib.pkcs12.dump_pkcs12`, modern AES profile) or,
    with *as_pem*, PEM: certificate, chain, then the key encrypted with the PIN
    (PKCS#8). The PIN must satisfy :class:`qcertlib.pkcs12.PinPolicy`.
    """
    if as_pem:
        PinPolicy().check(pin)
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        for extra in ca.chain:
            pem += extra.public_bytes(serialization.Encoding.PEM)
        pem += private_key_pem(key, pin)
        return Redemption(certificate=certificate, format="pem", data=pem)
    name = friendly_name or certificate.subject.rfc4514_string()
    store = KeyStore.single(key, certificate, list(ca.chain), friendly_name=name)
    return Redemption(certificate=certificate, format="pkcs12", data=dump_pkcs12(store, pin))
