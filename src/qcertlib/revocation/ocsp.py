"""OCSP, client side and pure: build requests, parse and verify responses (RFC 6960).

Nothing here does I/O or reads the clock: the time of the check is the ``at``
parameter. :func:`verify_response` checks, in order: the response status, the
CertID match (SHA-1 or SHA-256), the responder's authorization (the issuing CA
itself, or a certificate issued by it with ``id-kp-OCSPSigning``), the signature,
the nonce according to :class:`~qcertlib.revocation.NoncePolicy`, and freshness
(thisUpdate not in the future, nextUpdate not passed, thisUpdate not older than
``max_age``), each with the allowed clock skew. Every failure is a
:class:`~qcertlib.errors.RevocationResponseError` whose message says which check failed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from qcertlib._certs import per_certificate, public_key
from qcertlib._der import encode_integer, encode_oid, encode_tlv, spki_key_bits
from qcertlib.errors import RevocationResponseError
from qcertlib.revocation._model import CertStatus, NoncePolicy, Status

__all__ = [
    "CertId",
    "OcspRequestData",
    "OcspResult",
    "build_multi_request",
    "build_request",
    "cert_id",
    "issuer_key_hash",
    "verify_response",
    "verify_responses",
]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


# AlgorithmIdentifier { hash OID, NULL } as OpenSSL and cryptography encode it
_HASH_ALG_IDS = {
    name: encode_tlv(0x30, encode_oid(oid) + b"\x05\x00")
    for name, oid in (
        ("sha1", "1.3.14.3.2.26"),
        ("sha256", "2.16.840.1.101.3.4.2.1"),
        ("sha384", "2.16.840.1.101.3.4.2.2"),
        ("sha512", "2.16.840.1.101.3.4.2.3"),
    )
}
_NONCE_OID = encode_oid("1.3.6.1.5.5.7.48.1.2")


@dataclass(frozen=True, slots=True)
class CertId:
    """An OCSP CertID: hash algorithm name, issuer name/key hashes and serial number."""

    hash_name: str
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial_number: int


def issuer_key_hash(issuer: x509.Certificate, hash_name: str = "sha1") -> bytes:
    """Hash of the issuer's subjectPublicKey BIT STRING value (RFC 6960 CertID), for
    a CertID hash (sha1, sha256, sha384, sha512; memoised per certificate object)."""
    try:
        return issuer_hashes(issuer)[hash_name][1]
    except KeyError:
        raise ValueError(f"unsupported CertID hash {hash_name!r}") from None


@per_certificate
def issuer_hashes(issuer: x509.Certificate) -> dict[str, tuple[bytes, bytes]]:
    """``{CertID hash name: (issuerNameHash, issuerKeyHash)}`` of *issuer* (memoised
    per certificate object: a bulk check passes the same issuer for every certificate)."""
    name_der = issuer.subject.public_bytes()
    key_bits = spki_key_bits(
        issuer.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return {
        name: (hashlib.new(name, name_der).digest(), hashlib.new(name, key_bits).digest())
        for name in _HASHES
    }


def cert_id(cert: x509.Certificate, issuer: x509.Certificate, hash_name: str = "sha1") -> CertId:
    """The CertID of *cert* issued by *issuer* with the given hash (sha1 or sha256...)."""
    if hash_name not in _HASHES:
        raise ValueError(f"unsupported CertID hash {hash_name!r}")
    name_hash, key_hash = issuer_hashes(issuer)[hash_name]
    return CertId(hash_name, name_hash, key_hash, cert.serial_number)


@dataclass(frozen=True, slots=True)
class OcspRequestData:
    """A DER OCSP request and what is needed to check its response."""

    der: bytes = field(repr=False)
    cert_id: CertId
    nonce: bytes | None


def build_request(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    nonce: bytes | None = None,
    with_nonce: bool = True,
) -> OcspRequestData:
    """Build a DER OCSP request for one certificate.

    With ``with_nonce`` (default) a 16-byte random nonce is added unless *nonce* is
    given. The default CertID hash is SHA-1, which every responder understands.
    """
    name = hash_algorithm.name if hash_algorithm is not None else "sha1"
    if name not in _HASHES:
        raise ValueError(f"unsupported CertID hash {name!r}")
    cid = cert_id(cert, issuer, name)
    cert_id_der = encode_tlv(
        0x30,
        _HASH_ALG_IDS[name]
        + encode_tlv(0x04, cid.issuer_name_hash)
        + encode_tlv(0x04, cid.issuer_key_hash)
        + encode_integer(cid.serial_number),
    )
    # TBSRequest ::= SEQUENCE { requestList SEQUENCE OF Request { reqCert CertID },
    #                           requestExtensions [2] EXPLICIT Extensions OPTIONAL }
    body = encode_tlv(0x30, encode_tlv(0x30, cert_id_der))
    if with_nonce:
        nonce = nonce if nonce is not None else os.urandom(16)
        extension = encode_tlv(0x30, _NONCE_OID + encode_tlv(0x04, encode_tlv(0x04, nonce)))
        body += encode_tlv(0xA2, encode_tlv(0x30, extension))
    else:
        nonce = None
    der = encode_tlv(0x30, encode_tlv(0x30, body))  # OCSPRequest { TBSRequest }
    return OcspRequestData(der, cid, nonce)


@dataclass(frozen=True, slots=True)
class OcspResult:
    """A verified OCSP answer for one certificate."""

    cert_status: CertStatus
    produced_at: datetime
    this_update: datetime
    next_update: datetime | None
    responder: x509.Certificate = field(repr=False)
    der: bytes = field(repr=False)

    @property
    def status(self) -> Status:
        """Shortcut for ``cert_status.status``."""
        return self.cert_status.status


_ECDSA: dict[str, ec.ECDSA] = {}


def _verify_signature(
    public_key: object,
    signature: bytes,
    data: bytes,
    hash_algorithm: hashes.HashAlgorithm | None,
) -> None:
    """Verify *signature* over *data*; raise InvalidSignature / UnsupportedAlgorithm."""
    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        public_key.verify(signature, data)
        return
    if hash_algorithm is None:
        raise UnsupportedAlgorithm("signature algorithm without a hash")
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        ecdsa = _ECDSA.get(hash_algorithm.name)
        if ecdsa is None:
            ecdsa = _ECDSA.setdefault(hash_algorithm.name, ec.ECDSA(hash_algorithm))
        public_key.verify(signature, data, ecdsa)
    else:
        raise UnsupportedAlgorithm("unsupported responder key type")


def _signature_ok(
    public_key: object, signature: bytes, data: bytes, alg: hashes.HashAlgorithm | None
) -> bool:
    try:
        _verify_signature(public_key, signature, data, alg)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _key_sha1(cert: x509.Certificate) -> bytes:
    return issuer_key_hash(cert, "sha1")


def _is_responder(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    if response.responder_key_hash is not None:
        return response.responder_key_hash == _key_sha1(cert)
    return response.responder_name == cert.subject


_ISSUED_BY: dict[tuple[x509.Certificate, x509.Certificate], bool] = {}


def _check_issued_by(candidate: x509.Certificate, issuer: x509.Certificate) -> None:
    """Check that *issuer* signed *candidate* (memoised: bulk checks see one delegate;
    certificates compare and hash by their DER)."""
    key = (candidate, issuer)
    verdict = _ISSUED_BY.get(key)
    if verdict is None:
        try:
            candidate.verify_directly_issued_by(issuer)
            verdict = True
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            verdict = False
        if len(_ISSUED_BY) > 1024:
            _ISSUED_BY.clear()
        _ISSUED_BY[key] = verdict
    if not verdict:
        raise RevocationResponseError(
            "OCSP responder is not authorized: its certificate's signature does not "
            "verify with the issuer's key"
        )


@dataclass(frozen=True, slots=True)
class _Delegate:
    """A delegated responder certificate already checked against one issuer."""

    issuer: x509.Certificate
    cert: x509.Certificate
    key_sha1: bytes
    public_key: object
    not_before: datetime
    not_after: datetime


# DER of a delegated responder certificate -> what was checked about it; a bulk check
# sees the same delegate in every response (its issuance, EKU and key are checked
# once; its validity period at every use)
_DELEGATES: dict[bytes, _Delegate] = {}


def _authorized_responder(
    response: ocsp.OCSPResponse, issuer: x509.Certificate, at: datetime, skew: timedelta
) -> tuple[x509.Certificate, object]:
    """Find the certificate that must have signed *response*, check it may, and return
    it with its public key."""
    if _is_responder(response, issuer):
        return issuer, public_key(issuer)
    for candidate in response.certificates:
        der = candidate.public_bytes(serialization.Encoding.DER)
        delegate = _DELEGATES.get(der)
        if delegate is None or delegate.issuer is not issuer:
            if not _is_responder(response, candidate):
                continue
            delegate = _check_delegate(candidate, issuer)
            if len(_DELEGATES) >= 1024:
                _DELEGATES.clear()
            _DELEGATES[der] = delegate
        elif not (
            response.responder_key_hash == delegate.key_sha1
            if response.responder_key_hash is not None
            else response.responder_name == delegate.cert.subject
        ):
            continue
        if not (delegate.not_before - skew <= at <= delegate.not_after + skew):
            raise RevocationResponseError(
                "OCSP responder is not authorized: its certificate is not valid at the "
                "time of the check"
            )
        return delegate.cert, delegate.public_key
    raise RevocationResponseError(
        "OCSP response is signed by an unauthorized key: neither the issuing CA nor a "
        "delegated responder certificate included in the response"
    )


def _check_delegate(candidate: x509.Certificate, issuer: x509.Certificate) -> _Delegate:
    """Check that *candidate* is a responder certificate delegated by *issuer*."""
    if candidate.issuer != issuer.subject:
        raise RevocationResponseError(
            "OCSP responder is not authorized: its certificate was not issued by the "
            "certificate's issuer"
        )
    _check_issued_by(candidate, issuer)
    try:
        eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
        raise RevocationResponseError(
            "OCSP responder is not authorized: its certificate lacks id-kp-OCSPSigning"
        )
    return _Delegate(
        issuer,
        candidate,
        issuer_key_hash(candidate, "sha1"),
        candidate.public_key(),
        candidate.not_valid_before_utc,
        candidate.not_valid_after_utc,
    )


def _nonce_of(response: ocsp.OCSPResponse) -> bytes | None:
    try:
        return response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def _parse_and_authenticate(
    der: bytes,
    issuer: x509.Certificate,
    nonce: bytes | None,
    nonce_policy: NoncePolicy,
    now: datetime,
    clock_skew: timedelta,
) -> tuple[ocsp.OCSPResponse, list[ocsp.OCSPSingleResponse], x509.Certificate]:
    """Parse, check status, responder authorization, signature and nonce."""
    if now.tzinfo is None:
        raise ValueError("'at' must be timezone-aware")
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        raise RevocationResponseError(f"OCSP response is malformed: {exc}") from None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationResponseError(
            f"OCSP responder answered {response.response_status.name.lower()}"
        )
    try:
        singles = list(response.responses)
        tbs = response.tbs_response_bytes
        signature = response.signature
        sig_hash = response.signature_hash_algorithm
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise RevocationResponseError(f"OCSP response is malformed: {exc}") from None

    responder, responder_key = _authorized_responder(response, issuer, now, clock_skew)
    if not _signature_ok(responder_key, signature, tbs, sig_hash):
        raise RevocationResponseError("OCSP response signature does not verify")

    if nonce_policy is not NoncePolicy.OFF:
        got = _nonce_of(response)
        if got is None:
            if nonce_policy is NoncePolicy.REQUIRED:
                raise RevocationResponseError(
                    "OCSP response has no nonce and the policy requires one"
                )
        elif nonce is not None and got != nonce:
            raise RevocationResponseError("OCSP response nonce does not match the request")
    return response, singles, responder


def _single_result(
    response: ocsp.OCSPResponse,
    singles: list[ocsp.OCSPSingleResponse],
    responder: x509.Certificate,
    der: bytes,
    serial_number: int,
    hashes_of_issuer: dict[str, tuple[bytes, bytes]],
    now: datetime,
    clock_skew: timedelta,
    max_age: timedelta | None,
) -> OcspResult:
    """Find the SingleResponse for *serial_number* and check its freshness."""
    single = None
    for candidate in singles:
        hashes_for = hashes_of_issuer.get(candidate.hash_algorithm.name)
        if (
            hashes_for is not None
            and candidate.serial_number == serial_number
            and candidate.issuer_name_hash == hashes_for[0]
            and candidate.issuer_key_hash == hashes_for[1]
        ):
            single = candidate
            break
    if single is None:
        raise RevocationResponseError(
            "OCSP response is for another certificate: no SingleResponse matches the CertID"
        )
    this_update = single.this_update_utc
    next_update = single.next_update_utc
    if this_update > now + clock_skew:
        raise RevocationResponseError(
            f"OCSP response thisUpdate {this_update.isoformat()} is in the future"
        )
    if next_update is not None and next_update < now - clock_skew:
        raise RevocationResponseError(
            f"OCSP response is stale: nextUpdate {next_update.isoformat()} has passed"
        )
    if max_age is not None and now - this_update > max_age + clock_skew:
        raise RevocationResponseError(
            f"OCSP response is stale: thisUpdate {this_update.isoformat()} is older than "
            f"the maximum age {max_age}"
        )
    if next_update is None and max_age is None:
        raise RevocationResponseError(
            "OCSP response has no nextUpdate and no maximum age is configured"
        )
    state = single.certificate_status
    if state is ocsp.OCSPCertStatus.GOOD:
        status = CertStatus.good()
    elif state is ocsp.OCSPCertStatus.REVOKED:
        revoked_at = single.revocation_time_utc
        assert revoked_at is not None
        status = CertStatus.revoked(revoked_at, single.revocation_reason)
    else:
        status = CertStatus.unknown()
    return OcspResult(status, response.produced_at_utc, this_update, next_update, responder, der)


def verify_response(
    der: bytes,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    nonce_policy: NoncePolicy = NoncePolicy.PREFERRED,
    at: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
    max_age: timedelta | None = None,
) -> OcspResult:
    """Parse and fully verify an OCSP response about *cert* (issued by *issuer*).

    *nonce* is the nonce sent in the request (``None`` if none was sent). Raises
    :class:`~qcertlib.errors.RevocationResponseError` when any check fails.
    """
    now = at if at is not None else datetime.now(UTC)
    response, singles, responder = _parse_and_authenticate(
        der, issuer, nonce, nonce_policy, now, clock_skew
    )
    return _single_result(
        response,
        singles,
        responder,
        der,
        cert.serial_number,
        issuer_hashes(issuer),
        now,
        clock_skew,
        max_age,
    )


def verify_responses(
    der: bytes,
    certs: Sequence[x509.Certificate],
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    nonce_policy: NoncePolicy = NoncePolicy.PREFERRED,
    at: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
    max_age: timedelta | None = None,
) -> list[OcspResult | RevocationResponseError]:
    """Verify one OCSP response that answers for several certificates of *issuer*.

    The response as a whole (status, responder, signature, nonce) must verify, else
    :class:`~qcertlib.errors.RevocationResponseError` is raised; the per-certificate
    part (matching SingleResponse, freshness) gives one result or error per
    certificate, in order.
    """
    now = at if at is not None else datetime.now(UTC)
    response, singles, responder = _parse_and_authenticate(
        der, issuer, nonce, nonce_policy, now, clock_skew
    )
    hashes_of_issuer = issuer_hashes(issuer)
    results: list[OcspResult | RevocationResponseError] = []
    for cert in certs:
        try:
            results.append(
                _single_result(
                    response,
                    singles,
                    responder,
                    der,
                    cert.serial_number,
                    hashes_of_issuer,
                    now,
                    clock_skew,
                    max_age,
                )
            )
        except RevocationResponseError as exc:
            results.append(exc)
    return results


def build_multi_request(
    certs: Sequence[x509.Certificate],
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    with_nonce: bool = True,
) -> tuple[bytes, bytes | None]:
    """One DER OCSPRequest for several certificates of *issuer* (SHA-1 CertIDs).

    RFC 6960 allows several Requests in one OCSPRequest; ``qcert serve`` and
    ``openssl ocsp`` answer them, some CA responders do not. Returns
    ``(der, nonce)``.
    """
    if not certs:
        raise ValueError("at least one certificate is needed")
    name_hash = hashlib.sha1(issuer.subject.public_bytes()).digest()  # noqa: S324 - RFC 5019
    key_hash = issuer_key_hash(issuer, "sha1")
    prefix = (
        bytes.fromhex("300906052b0e03021a0500")
        + encode_tlv(0x04, name_hash)
        + encode_tlv(0x04, key_hash)
    )
    requests = b"".join(
        encode_tlv(
            0x30,
            encode_tlv(
                0x30,
                prefix
                + encode_tlv(
                    0x02,
                    c.serial_number.to_bytes(
                        c.serial_number.bit_length() // 8 + 1, "big", signed=True
                    ),
                ),
            ),
        )
        for c in certs
    )
    extensions = b""
    if with_nonce:
        nonce = nonce if nonce is not None else os.urandom(16)
        value = encode_tlv(0x04, encode_tlv(0x04, nonce))
        ext = encode_tlv(0x30, bytes.fromhex("06092b0601050507300102") + value)
        extensions = encode_tlv(0xA2, encode_tlv(0x30, ext))
    else:
        nonce = None
    tbs = encode_tlv(0x30, encode_tlv(0x30, requests) + extensions)
    return encode_tlv(0x30, tbs), nonce
