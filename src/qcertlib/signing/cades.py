"""CAdES signatures (``.p7s``, ETSI EN 319 122-1 baseline): B-B, B-T, B-LT, EPES.

Three stages, so a batch can sign many digests in one session::

    prepared = prepare_cades(document, cert, chain, options)      # no key
    (signature,) = backend.sign_digests([prepared.digest], prepared.algorithm)
    p7s = finish_cades(prepared, signature, options)              # timestamp, LT data

:func:`sign_cades` does the three for one document.

* **B-B**: signed attributes content-type, signing-time, message-digest and
  signing-certificate-v2 (ESSCertIDv2 with issuerSerial); optional
  signature-policy-identifier (EPES) from :class:`~qcertlib.signing.SignaturePolicy`.
* **B-T**: a signature-time-stamp unsigned attribute (RFC 3161 token over the
  signature value), from ``timestamper`` or ``options.tsa_url``.
* **B-LT**: every certificate of the signer's and the TSA's chains in
  ``SignedData.certificates`` and their revocation values in ``SignedData.crls``
  (CRLs as CertificateList, OCSP responses as ``id-ri-ocsp-response`` other
  revocation info, RFC 5940). The values are the caller's ``revocation`` or are
  fetched with :mod:`qcertlib.revocation` (policy ``options.revocation``).

Detached signatures carry no content (``--detached``, the default); attached ones
embed it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qcertlib.errors import SigningError
from qcertlib.signing import _cms
from qcertlib.signing._revinfo import RevocationData, RevocationMaterial, fetch_for_chain, split
from qcertlib.signing.backends import PreparedSignature, SignatureMechanism, SignerBackend
from qcertlib.signing.options import (
    DigestAlgorithm,
    SignatureLevel,
    SignatureOptions,
    SignaturePolicy,
)
from qcertlib.signing.timestamps import Timestamper, token_info

__all__ = [
    "SIGNATURE_POLICY_IDENTIFIER",
    "RevocationData",
    "finish_cades",
    "prepare_cades",
    "sign_cades",
]

SIGNATURE_POLICY_IDENTIFIER = "1.2.840.113549.1.9.16.2.15"
_SPURI = "1.2.840.113549.1.9.16.5.1"
_CHUNK = 1024 * 1024
_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
_DATA = "1.2.840.113549.1.7.1"


def _hash_document(document: bytes | str | Path, alg: DigestAlgorithm) -> tuple[bytes, int]:
    from cryptography.hazmat.primitives import hashes

    if isinstance(document, bytes | bytearray | memoryview):
        data = bytes(document)
        return alg.digest(data), len(data)
    h = hashes.Hash(alg.hash)
    size = 0
    try:
        with Path(document).open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise SigningError(f"cannot read the document: {exc.strerror or exc}") from None
    return h.finalize(), size


def _read(document: bytes | str | Path) -> bytes:
    if isinstance(document, bytes | bytearray | memoryview):
        return bytes(document)
    try:
        return Path(document).read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the document: {exc.strerror or exc}") from None


def _policy_attribute(policy: SignaturePolicy) -> bytes:
    """signature-policy-identifier (EN 319 122-1, 5.2.9.1) as DER.

    SignaturePolicyId ::= SEQUENCE { sigPolicyId OID, sigPolicyHash
    OtherHashAlgAndValue, sigPolicyQualifiers SEQUENCE OF { id-spq-ets-uri, SPuri }
    OPTIONAL }; the CHOICE SignaturePolicyIdentifier takes this alternative.
    """
    tlv = _cms.der_tlv
    hash_value = tlv(
        0x30,
        _cms.digest_algorithm_id(policy.digest_algorithm).dump() + tlv(0x04, policy.digest),
    )
    qualifiers = b""
    if policy.uri is not None:
        uri = core.ObjectIdentifier(_SPURI).dump() + core.IA5String(policy.uri).dump()
        qualifiers = tlv(0x30, tlv(0x30, uri))
    body = core.ObjectIdentifier(policy.oid.dotted_string).dump() + hash_value + qualifiers
    return _cms.encode_attribute(SIGNATURE_POLICY_IDENTIFIER, [tlv(0x30, body)])


def _signing_time(when: datetime) -> cms.Time:
    when = when.astimezone(UTC).replace(microsecond=0)
    if 1950 <= when.year < 2050:  # RFC 5652 11.3: UTCTime in this range
        return cms.Time({"utc_time": when})
    return cms.Time({"generalized_time": when})


def _pack(fields: dict[str, bytes]) -> bytes:
    parts = [b"QCAD1"]
    for key, value in fields.items():
        name = key.encode()
        parts += [struct.pack(">B", len(name)), name, struct.pack(">Q", len(value)), value]
    return b"".join(parts)  # one copy, even of a large attached content


def _unpack(data: bytes) -> dict[str, memoryview]:
    """Fields of :func:`_pack` output as views (no copy of a large attached content)."""
    if not data.startswith(b"QCAD1"):
        raise ValueError("not a CAdES prepared-signature state")
    view = memoryview(data)
    pos, out = 5, {}
    while pos < len(data):
        (klen,) = struct.unpack_from(">B", data, pos)
        key = bytes(view[pos + 1 : pos + 1 + klen]).decode()
        pos += 1 + klen
        (vlen,) = struct.unpack_from(">Q", data, pos)
        pos += 8
        if pos + vlen > len(data):
            raise ValueError("truncated CAdES prepared-signature state")
        out[key] = view[pos : pos + vlen]
        pos += vlen
    return out


def _certs_der(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(
        struct.pack(">I", len(d)) + d
        for d in (c.public_bytes(serialization.Encoding.DER) for c in certs)
    )


def _certs_load(data: bytes) -> list[x509.Certificate]:
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        out.append(x509.load_der_x509_certificate(data[pos + 4 : pos + 4 + n]))
        pos += 4 + n
    return out


def prepare_cades(
    document: bytes | str | Path,
    signer_cert: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    options: SignatureOptions | None = None,
    *,
    detached: bool = True,
    mechanism: SignatureMechanism | None = None,
) -> PreparedSignature:
    """Build the signed attributes and return the digest to sign (no key needed).

    ``document`` is the content (bytes) or a path; detached signatures stream a path
    in chunks, attached ones keep the content in the state. ``mechanism`` defaults
    to PKCS#1 v1.5 for RSA and ECDSA for EC keys and must match the backend's.
    """
    options = options or SignatureOptions()
    if options.level is SignatureLevel.B_LTA:
        raise SigningError("CAdES B-LTA (archive timestamps) is not supported; use B-LT")
    alg = options.digest
    mech = mechanism or _cms.mechanism_for(signer_cert)
    if detached:
        content_digest, _ = _hash_document(document, alg)
        content = b""
    else:
        content = _read(document)
        content_digest = alg.digest(content)
    when = options.signing_time or datetime.now(UTC)
    attrs = [
        _cms.encode_attribute(_CONTENT_TYPE, [core.ObjectIdentifier(_DATA).dump()]),
        _cms.encode_attribute(_SIGNING_TIME, [_signing_time(when).dump()]),
        _cms.encode_attribute(_MESSAGE_DIGEST, [_cms.der_tlv(0x04, content_digest)]),
        _cms.encode_attribute(
            _SIGNING_CERTIFICATE_V2, [_cms.signing_certificate_v2_der(signer_cert, alg)]
        ),
    ]
    if options.policy is not None:
        attrs.append(_policy_attribute(options.policy))
    attrs_der = _cms.der_set_of(attrs)
    fields = {
        "attrs": attrs_der,
        "cert": signer_cert.public_bytes(serialization.Encoding.DER),
        "chain": _certs_der(chain),
        "mech": mech.value.encode(),
        "detached": b"1" if detached else b"0",
    }
    if not detached:
        fields["content"] = content
    return PreparedSignature(
        format="cades", digest=alg.digest(attrs_der), algorithm=alg, state=_pack(fields)
    )


def finish_cades(
    prepared: PreparedSignature,
    signature: bytes,
    options: SignatureOptions | None = None,
    *,
    timestamper: Any = None,
    revocation: Sequence[RevocationMaterial] | None = None,
    at: datetime | None = None,
) -> bytes:
    """Assemble the ``.p7s`` (DER ContentInfo) from a prepared signature and its value.

    The signature is checked against the signer certificate first. For B-T,
    ``timestamper`` (anything with ``timestamp(digest, algorithm) -> token``) or a
    :class:`~qcertlib.signing.timestamps.Timestamper` on ``options.tsa_url``
    provides the signature timestamp. For B-LT, ``revocation`` supplies the
    OCSP/CRL values (e.g. :class:`RevocationData`); without it they are fetched.
    """
    options = options or SignatureOptions()
    if prepared.format != "cades":
        raise ValueError(f"not a CAdES prepared signature ({prepared.format})")
    state = _unpack(prepared.state)
    cert = x509.load_der_x509_certificate(bytes(state["cert"]))
    chain = _certs_load(bytes(state["chain"]))
    mech = SignatureMechanism(bytes(state["mech"]).decode())
    alg = prepared.algorithm
    _cms.check_prehashed(cert, mech, signature, prepared.digest, alg)
    signed_attrs = cms.CMSAttributes.load(bytes(state["attrs"]))

    unsigned: list[cms.CMSAttribute] = []
    certs: list[x509.Certificate] = [cert, *chain]
    crls: list[bytes] = []
    ocsps: list[bytes] = []
    if options.level.at_least(SignatureLevel.B_T):
        source = timestamper
        if source is None:
            if not options.tsa_url:
                raise SigningError(f"{options.level.value} needs a TSA: set tsa_url")
            source = Timestamper(options.tsa_url, hash=alg)
        token = source.timestamp(alg.digest(signature), alg)
        _imprint, _alg, _gen = token_info(token)
        if _imprint != alg.digest(signature):
            raise SigningError("the TSA token does not cover this signature")
        unsigned.append(_cms.attribute("signature_time_stamp_token", [cms.ContentInfo.load(token)]))
        if options.level.at_least(SignatureLevel.B_LT):
            tsa_certs = _cms.certificates_of(_cms.load_signed_data(token))
            certs = _cms.dedupe([*certs, *tsa_certs])
            if revocation is None:
                revocation = fetch_for_chain(certs, options.revocation, at=at)
            ocsps, crls = split(revocation)
            if not ocsps and not crls:
                raise SigningError("B-LT needs revocation values; none were supplied or found")
    si = _cms.build_signer_info(cert, alg, signed_attrs, signature, mech, unsigned)
    content = state.get("content") if bytes(state["detached"]) == b"0" else None
    return _cms.build_signed_data(
        content_type="data",
        content=content,
        digest_algorithms=[alg],
        certificates=certs,
        signer_infos=[si],
        crls=crls,
        ocsp_responses=ocsps,
    )


def sign_cades(
    document: bytes | str | Path,
    backend: SignerBackend,
    options: SignatureOptions | None = None,
    *,
    detached: bool = True,
    timestamper: Any = None,
    revocation: Sequence[RevocationMaterial] | None = None,
) -> bytes:
    """Sign one document: prepare, ``backend.sign_digests``, finish."""
    prepared = prepare_cades(
        document,
        backend.certificate,
        backend.chain,
        options,
        detached=detached,
        mechanism=backend.mechanism,
    )
    (signature,) = backend.sign_digests([prepared.digest], prepared.algorithm)
    return finish_cades(
        prepared, signature, options, timestamper=timestamper, revocation=revocation
    )
